"""Tiered memory at scale: build time, RAM, p50/p95 query latency and recall@1 vs exact search.

Systems, on the same seeded clustered vectors (dim 384, texts "fact i"):

* ``HopfieldMemory (flat, exact)`` : every fact in one hot layer (the exact reference).
* ``large_memory (faiss-flat)`` and ``massive_memory (faiss-ivf)`` : TieredMemory presets.
* ``raw faiss IVF-SQ8`` and ``raw faiss flat`` : the bare index, one ``search`` per cue, no
  texts, no gate, no re-scoring.
* ``mhn-ai-agent-memory 1.0 TieredMemory`` : the release we replace, in its own venv, in a
  subprocess, through its public API (faiss is not installed there, so it uses its numpy path).

Latency is one ``match_quality_vectors(cue, top_k=1)`` (what ``query_or_none`` runs after
encoding) per cue, one thread (OMP/BLAS threads set to 1 before numpy loads). recall@1: the top
candidate equals the exact nearest stored vector. RAM: resident-set growth while building.
save/load: ``save`` of a snapshot of both tiers (the memory file format) and ``load`` of it,
cold index rebuilt.

Run:  PYTHONPATH=src python benchmarks/bench_tiered.py --sizes 100000 1000000 \
          --baseline-venv /work/baseline-venv
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from hopfield_memory import HopfieldMemory, large_memory, massive_memory  # noqa: E402
from hopfield_memory.cold.evaluation import (  # noqa: E402
    clustered_unit_vectors,
    exact_top_k,
    noisy_queries,
)
from hopfield_memory.presets import MASSIVE_IVF  # noqa: E402

DIM = 384
HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def time_queries(answer: Callable[[np.ndarray], int], queries: np.ndarray) -> tuple[list, list]:
    for q in queries[:20]:  # warm up
        answer(q)
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(answer(q))
        times.append(time.perf_counter() - t0)
    return times, found


def row(name: str, n: int, build: float, mem: float, times: list, found: list, truth) -> dict:
    t = np.asarray(times) * 1e3
    return {
        "system": name,
        "n": n,
        "build_s": round(build, 2),
        "ram_mb": round(mem, 1),
        "ram_x_raw": round(mem / (n * DIM * 4 / 2**20), 2),
        "p50_ms": round(float(np.median(t)), 3),
        "p95_ms": round(float(np.percentile(t, 95)), 3),
        "recall@1": round(float(np.mean(np.asarray(found) == truth[: len(found)])), 4),
        "queries": len(found),
    }


def bench_memory(name: str, make, base, texts, queries, truth) -> dict:
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    memory = make()
    for start in range(0, len(base), 100_000):
        memory.store_vectors(base[start : start + 100_000], texts[start : start + 100_000])
    build = time.perf_counter() - t0
    grown = rss_mb() - before

    def answer(q: np.ndarray) -> int:
        report = memory.match_quality_vectors(q, top_k=1)[0]
        return report.candidates[0].id if report.candidates else -1

    times, found = time_queries(answer, queries)
    result = row(name, len(base), build, grown, times, found, truth)
    with tempfile.TemporaryDirectory() as folder:  # a snapshot of both tiers, and reading it back
        path = Path(folder) / "memory.sqlite"
        t0 = time.perf_counter()
        memory.save(path)
        result["save_s"] = round(time.perf_counter() - t0, 2)
        result["file_mb"] = round(path.stat().st_size / 2**20, 1)
        t0 = time.perf_counter()
        again = type(memory).load(path)
        result["load_s"] = round(time.perf_counter() - t0, 2)
        assert len(again) == len(base)
    return result


def bench_raw_faiss(kind: str, base, queries, truth) -> dict:
    import faiss

    faiss.omp_set_num_threads(1)
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    if kind == "ivf":
        nlist = MASSIVE_IVF["nlist"]
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(DIM), DIM, nlist, faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )  # fmt: skip
        index.cp.niter = 10
        sample = np.random.default_rng(0).choice(
            len(base), min(len(base), 40 * nlist), replace=False
        )
        index.train(base[np.sort(sample)])
        index.nprobe = MASSIVE_IVF["nprobe"]
    else:
        index = faiss.IndexFlatIP(DIM)
    index.add(base)
    build = time.perf_counter() - t0
    grown = rss_mb() - before
    times, found = time_queries(lambda q: int(index.search(q[None], 1)[1][0, 0]), queries)
    name = f"raw faiss IVF-SQ8 (nlist {MASSIVE_IVF['nlist']}, nprobe {MASSIVE_IVF['nprobe']})"
    return row(name if kind == "ivf" else "raw faiss flat", len(base), build, grown, times, found,
               truth)  # fmt: skip


def bench_baseline(venv: Path, base, queries, truth, n_queries: int, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "base.npy", base)
        np.save(Path(folder) / "queries.npy", queries)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            done = subprocess.run(
                [str(venv / "bin" / "python"), str(HERE / "_baseline_tiered.py"), folder,
                 str(n_queries)],
                capture_output=True, text=True, timeout=timeout, env=env, check=True,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"system": "mhn-ai-agent-memory 1.0 TieredMemory", "n": len(base),
                    "note": f"did not finish within {timeout:.0f} s"}  # fmt: skip
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return row("mhn-ai-agent-memory 1.0 TieredMemory", len(base), out["build_s"], out["rss_mb"],
               out["times"], out["found"], truth)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-venv", type=Path, default=None)
    parser.add_argument("--baseline-queries", type=int, default=100)
    parser.add_argument("--baseline-timeout", type=float, default=900)
    parser.add_argument("--skip", nargs="*", default=[], help="system keys to skip")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for n in args.sizes:
        base = clustered_unit_vectors(n, DIM, n_clusters=max(100, n // 100), seed=0)
        texts = [f"fact {i}" for i in range(n)]
        queries, _ = noisy_queries(base, args.queries, noise=0.5, seed=1)
        truth = exact_top_k(base, queries, 1)[:, 0]
        systems = {
            "flat": lambda: bench_memory(
                "HopfieldMemory (flat, exact)",
                lambda: HopfieldMemory(dim=DIM), base, texts, queries, truth),  # noqa: B023
            "large": lambda: bench_memory(
                "large_memory (faiss-flat)",
                lambda: large_memory(dim=DIM), base, texts, queries, truth),  # noqa: B023
            "massive": lambda: bench_memory(
                "massive_memory (faiss-ivf)",
                lambda: massive_memory(dim=DIM), base, texts, queries, truth),  # noqa: B023
            "raw-ivf": lambda: bench_raw_faiss("ivf", base, queries, truth),  # noqa: B023
            "raw-flat": lambda: bench_raw_faiss("flat", base, queries, truth),  # noqa: B023
        }  # fmt: skip
        for key, run in systems.items():
            if key in args.skip:
                continue
            rows.append(run())
            print(json.dumps(rows[-1]), flush=True)
        if args.baseline_venv is not None and "baseline" not in args.skip:
            rows.append(bench_baseline(args.baseline_venv, base, queries, truth,
                                       args.baseline_queries, args.baseline_timeout))  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
        gc.collect()
    report(rows, args.out)


def report(rows: list[dict], out: Path) -> None:
    cols = ["system", "n", "build_s", "ram_mb", "ram_x_raw", "p50_ms", "p95_ms", "recall@1",
            "queries", "save_s", "load_s", "file_mb"]  # fmt: skip
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, r.get("note", ""))) for c in cols) + " |")
    table = "\n".join(lines)
    print(table)
    (out / "bench_tiered.md").write_text(table + "\n", encoding="utf-8")
    (out / "bench_tiered.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in dict.fromkeys(r["system"] for r in rows if "p50_ms" in r):
        pts = [r for r in rows if r["system"] == name and "p50_ms" in r]
        ns = [r["n"] for r in pts]
        ax1.plot(ns, [r["p50_ms"] for r in pts], "o-", label=name)
        ax2.plot(ns, [r["recall@1"] for r in pts], "o-", label=name)
    ax1.set(xscale="log", yscale="log", xlabel="facts", ylabel="p50 latency per cue (ms)")
    ax2.set(xscale="log", xlabel="facts", ylabel="recall@1 vs exact search")
    ax1.axhline(2.0, color="grey", ls=":", lw=1)
    ax2.axhline(0.95, color="grey", ls=":", lw=1)
    ax1.legend(fontsize=7)
    fig.suptitle("TieredMemory at scale (dim 384, clustered synthetic vectors, one thread)")
    fig.tight_layout()
    fig.savefig(out / "bench_tiered.png", dpi=120)


if __name__ == "__main__":
    main()
