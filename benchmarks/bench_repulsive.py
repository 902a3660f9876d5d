"""Repulsive attention versus the plain Hopfield update: steps to converge, accuracy, cost.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_repulsive.py [--quick] [--seed 0]

Prints one table and writes ``benchmarks/results/bench_repulsive.png`` (and ``.csv``).

Every regime compares, on the *same* cues, the plain update ``xi <- X^T softmax(beta X xi)``
with the repulsive update ``xi <- clamp(X^T softmax(beta X xi) - Y^T softmax(beta_neg Y xi))``
(:func:`hopfield_memory.kernel.relax`, tol 1e-5 in L2, at most 100 steps). "steps" is the step
at which the state moved less than tol (100 when it never did); "acc" is the fraction of cues
whose final weights put the most mass on the intended fact; "mixed" is the fraction whose final
top weight is below 0.9 (a metastable mixture, not one fact); "E up" the fraction of cues whose
energy rose at some step.

Regimes:

* ``lowdim``: random unit patterns, n from dim/2 to 4 dim, cues = pattern + noise. Negatives are
  the metastable states the plain update falls into from a separate set of calibration cues
  ("failure points"), so no test cue's answer is known to the negatives.
* ``pairs``: confusable pairs at cosine rho among random distractors; the negative of a pair is
  its normalised midpoint (the confusion point), and cues ask for either member.
* ``decoy``: as ``pairs``, but the negative is a confusable text next to the *wrong* member b
  (cosine 0.9 to b) and cues sit between a and b, nearer a; the "ask b" rows show what that
  negative costs cues that really want b.
* ``failpts``: boundary cues of the ``pairs`` set-up; negatives are the observed failure states
  of the plain update on separate calibration cues, not the known midpoints.
* ``text``: templated facts about ten people through the default hashing encoder; negatives are
  failure states (``vectors``) or, through the public API, the texts of the calibration cues
  that failed (``API``), with every number read from ``HopfieldMemory.diagnose_many``.

Each row compares the seed design's update (``lam=1``) with the library default
``neg_strength=0.1``; "1-step acc" is the argmax of the cue's own softmax (the default
``num_steps=1`` answer, no relaxation at all); "net time" is plain steps x plain time per step
over repulsive steps x repulsive time per step (> 1: repulsion is faster end to end).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hopfield_memory import HopfieldMemory, kernel

RESULTS = Path(__file__).resolve().parent / "results"
MAX_STEPS = 100
TOL = 1e-5


# The repulsive settings compared with the plain update: the seed design's update (strength 1)
# and the library default (strength 0.1); both with beta_neg=6 and clamp_radius=1.5.
VARIANTS = {"lam=1": 1.0, "lam=0.1": 0.1}
BETA_NEG = 6.0
CLAMP = 1.5


@dataclass
class Stats:
    steps: float
    p90: float
    acc: float
    mixed: float
    energy_up: float
    us_step: float
    tenfold: float = float("nan")  # fraction of cues with >= 10x fewer steps than plain


@dataclass
class Row:
    regime: str
    setting: str
    beta: float
    m: int
    base: Stats
    reps: dict[str, Stats]
    one_step_acc: float  # argmax of the cue's own softmax: the library default num_steps=1


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def noisy(rng: np.random.Generator, targets: np.ndarray, cos: float) -> np.ndarray:
    """Unit cues at cosine ``cos`` to each target row (noise orthogonal to the target)."""
    noise = rng.standard_normal(targets.shape).astype(np.float32)
    noise -= (noise * targets).sum(axis=1, keepdims=True) * targets
    noise = unit(noise)
    return unit(cos * targets + np.sqrt(1 - cos**2) * noise)


def step_us(fn, reps: int = 30) -> float:
    """Best-of-``reps`` microseconds of one call (the minimum is the least disturbed by other
    processes on a shared machine)."""
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e6


def stats(
    res: kernel.Relaxation, targets: np.ndarray, us: float, base_steps: np.ndarray | None = None
) -> Stats:
    e = res.energies.astype(np.float64)
    rises = np.diff(e, axis=0) > 1e-5 * (1 + np.abs(e[:-1]))
    return Stats(
        steps=float(res.steps.mean()),
        p90=float(np.percentile(res.steps, 90)),
        acc=float((res.weights.argmax(1) == targets).mean()),
        mixed=float((res.weights.max(1) < 0.9).mean()),
        energy_up=float(rises.any(axis=0).mean()),
        us_step=us,
        tenfold=float("nan")
        if base_steps is None
        else float((base_steps >= 10 * res.steps).mean()),
    )


def compare(
    regime: str,
    setting: str,
    x: np.ndarray,
    cues: np.ndarray,
    targets: np.ndarray,
    negatives: np.ndarray,
    beta: float,
) -> Row:
    """Plain and repulsive relax on the same cues; per-step time for one cue."""
    neg = negatives if len(negatives) else None
    one = cues[:1]
    base = kernel.relax(x, cues, beta, max_steps=MAX_STEPS, tol=TOL, sentinel=True)
    base_us = step_us(lambda: kernel.hopfield_step(x, one, beta, sentinel=True))
    reps = {}
    for name, lam in VARIANTS.items():
        res = kernel.relax(
            x,
            cues,
            beta,
            max_steps=MAX_STEPS,
            tol=TOL,
            sentinel=True,
            negatives=neg,
            beta_neg=BETA_NEG,
            clamp_radius=CLAMP,
            neg_strength=lam,
        )
        us = step_us(
            lambda lam=lam: kernel.repulsive_step(
                x,
                one,
                beta,
                negatives=neg,
                beta_neg=BETA_NEG,
                clamp_radius=CLAMP,
                neg_strength=lam,
                sentinel=True,
            )
        )
        reps[name] = stats(res, targets, us, base.steps)
    one_step = float((kernel.similarities(x, cues).argmax(1) == targets).mean())
    return Row(regime, setting, beta, len(negatives), stats(base, targets, base_us), reps, one_step)


def failure_points(
    x: np.ndarray, cues: np.ndarray, targets: np.ndarray, beta: float, cap: int = 16
) -> np.ndarray:
    """Final states of the plain update that are wrong, mixed or unsettled; deduplicated."""
    res = kernel.relax(x, cues, beta, max_steps=MAX_STEPS, tol=TOL, sentinel=True)
    bad = ((res.weights.argmax(1) != targets) | (res.weights.max(1) < 0.9) | ~res.converged) & (
        np.linalg.norm(res.states, axis=1) > 1e-3
    )
    kept: list[np.ndarray] = []
    for state in unit(res.states[bad]) if bad.any() else []:
        if all(float(state @ k) < 0.95 for k in kept):
            kept.append(state)
        if len(kept) >= cap:
            break
    return np.array(kept, dtype=np.float32).reshape(-1, x.shape[1])


def regime_lowdim(rng: np.random.Generator, q: int) -> list[Row]:
    rows = []
    for dim in (16, 32):
        for ratio in (1, 2, 4):
            n = dim * ratio
            for beta in (8.0, 20.0):
                x = unit(rng.standard_normal((n, dim)))
                t_cal, t_test = rng.integers(0, n, q), rng.integers(0, n, q)
                cal, test = noisy(rng, x[t_cal], 0.7), noisy(rng, x[t_test], 0.7)
                neg = failure_points(x, cal, t_cal, beta)
                rows.append(compare("lowdim", f"d={dim} n={n}", x, test, t_test, neg, beta))
    return rows


def make_pairs(rng: np.random.Generator, dim: int, pairs: int, distractors: int, rho: float):
    """Rows a_0..a_p, b_0..b_p (cos(a_i, b_i) = rho), then random distractors."""
    a = unit(rng.standard_normal((pairs, dim)))
    v = rng.standard_normal((pairs, dim)).astype(np.float32)
    v -= (v * a).sum(1, keepdims=True) * a
    b = unit(rho * a + np.sqrt(1 - rho**2) * unit(v))
    d = unit(rng.standard_normal((distractors, dim)))
    return np.concatenate([a, b, d]).astype(np.float32), a, b


def pair_cues(rng: np.random.Generator, x: np.ndarray, pairs: int, q: int, cos: float):
    """Cues for a random member of a random pair (index into x), at cosine ``cos``."""
    which = rng.integers(0, 2 * pairs, q)
    return noisy(rng, x[which], cos), which


def boundary_cues(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, per_pair: int):
    """Cues between a_i and b_i, nearer a_i (mixing weight 0.52-0.8 on a_i, small noise)."""
    t = np.repeat(np.arange(len(a)), per_pair)
    alpha = rng.uniform(0.52, 0.8, len(t)).astype(np.float32)[:, None]
    noise = 0.05 * rng.standard_normal((len(t), a.shape[1])).astype(np.float32)
    return unit(alpha * a[t] + (1 - alpha) * b[t] + noise), t


DIM, PAIRS, DISTRACTORS = 64, 10, 40
RHOS = (0.5, 0.7, 0.8, 0.9, 0.95)


def regime_pairs(rng: np.random.Generator, q: int) -> list[Row]:
    """Negative = the pair's normalised midpoint, the point where the two facts are confused."""
    rows = []
    for rho in RHOS:
        for beta in (8.0, 20.0):
            x, a, b = make_pairs(rng, DIM, PAIRS, DISTRACTORS, rho)
            cues, which = pair_cues(rng, x, PAIRS, q, 0.5 + 0.5 * rho)
            rows.append(compare("pairs", f"rho={rho} neg=mid", x, cues, which, unit(a + b), beta))
    return rows


def regime_decoy(rng: np.random.Generator, q: int) -> list[Row]:
    """A confusable text near the *wrong* fact b_i (cos 0.9) is the negative; cues sit between
    a_i and b_i, nearer a_i. The second row of each pair asks for b_i itself: what the negative
    costs the fact it sits next to."""
    rows = []
    for rho in RHOS:
        for beta in (8.0, 20.0):
            x, a, b = make_pairs(rng, DIM, PAIRS, DISTRACTORS, rho)
            decoys = noisy(rng, b, 0.9)
            cues, t = boundary_cues(rng, a, b, max(1, q // PAIRS))
            rows.append(compare("decoy", f"rho={rho} ask a", x, cues, t, decoys, beta))
            cues_b, t_b = boundary_cues(rng, b, a, max(1, q // PAIRS))
            rows.append(compare("decoy", f"rho={rho} ask b", x, cues_b, t_b + PAIRS, decoys, beta))
    return rows


def regime_failpts(rng: np.random.Generator, q: int) -> list[Row]:
    """Negatives = final states where the plain update failed on separate calibration cues."""
    rows = []
    for rho in (0.8, 0.9, 0.95):
        for beta in (8.0, 20.0):
            x, a, b = make_pairs(rng, DIM, PAIRS, DISTRACTORS, rho)
            cal, t_cal = boundary_cues(rng, a, b, max(1, q // PAIRS))
            test, t_test = boundary_cues(rng, a, b, max(1, q // PAIRS))
            neg = failure_points(x, cal, t_cal, beta)
            rows.append(compare("failpts", f"rho={rho}", x, test, t_test, neg, beta))
    return rows


PEOPLE = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
TEMPLATES = [
    "{p} works in the London office on the payments team",
    "{p} works in the Berlin office on the search team",
    "{p}'s manager approves expenses on Fridays",
    "{p} is allergic to peanuts and shellfish",
]
CUES_CAL = ["{p} London office", "{p} Berlin search", "{p} manager expenses", "{p} allergic"]
CUES_TEST = [
    "Where does {p} work in London?",
    "which team is {p} on in Berlin",
    "who approves {p}'s expenses",
    "is {p} allergic to anything",
]


def regime_text() -> list[Row]:
    """Templated facts about ten people through the default hashing encoder (d=512).

    ``vectors``: negatives = failure states of the plain update on calibration cues (kernel).
    ``API``: the same memory through HopfieldMemory(repulsive=True, num_steps=None); the
    calibration cues that failed are declared with store_negative_many and every number is
    read from diagnose_many (its baseline_* fields are the plain update).
    """
    rows = []
    facts = [t.format(p=p) for p in PEOPLE for t in TEMPLATES]
    cal = [c.format(p=p) for p in PEOPLE for c in CUES_CAL]
    test = [c.format(p=p) for p in PEOPLE for c in CUES_TEST]
    target = np.arange(len(facts))
    for beta in (8.0, 20.0):
        plain = HopfieldMemory(beta=beta, num_steps=None)
        plain.store_many(facts)
        x = plain._store.patterns
        cal_v, test_v = plain.encoder.encode_batch(cal), plain.encoder.encode_batch(test)
        rows.append(
            compare(
                "text", "vectors", x, test_v, target, failure_points(x, cal_v, target, beta), beta
            )
        )
        res = kernel.relax(x, cal_v, beta, max_steps=MAX_STEPS, tol=TOL, sentinel=True)
        failed = [
            cal[i]
            for i in range(len(cal))
            if res.weights[i].argmax() != i or res.weights[i].max() < 0.9
        ]
        reps, base = {}, None
        for name, lam in VARIANTS.items():
            mem = HopfieldMemory(
                beta=beta,
                num_steps=None,
                max_steps=MAX_STEPS,
                tol=TOL,
                repulsive=True,
                beta_neg=BETA_NEG,
                clamp_radius=CLAMP,
                neg_strength=lam,
            )
            mem.store_many(facts)
            if failed:
                mem.store_negative_many(failed)
            diags = mem.diagnose_many(test)
            ids = np.array([d.top[0].id for d in diags])
            steps = np.array([d.steps for d in diags])
            base_steps = np.array([d.baseline_steps for d in diags])
            reps[name] = Stats(
                steps=float(steps.mean()),
                p90=float(np.percentile(steps, 90)),
                tenfold=float((base_steps >= 10 * steps).mean()),
                acc=float((ids == target).mean()),
                mixed=float(np.mean([d.final_confidence < 0.9 for d in diags])),
                energy_up=float(np.mean([d.energy_rises > 0 for d in diags])),
                us_step=rows[-1].reps[name].us_step,
            )
            base = Stats(
                steps=float(base_steps.mean()),
                p90=float(np.percentile(base_steps, 90)),
                acc=float((np.array([d.baseline_top_id for d in diags]) == target).mean()),
                mixed=float("nan"),
                energy_up=0.0,
                us_step=rows[-1].base.us_step,
            )
        assert base is not None
        rows.append(
            Row("text", "API neg=failed cues", beta, len(failed), base, reps, rows[-1].one_step_acc)
        )
    return rows


def step_cost(
    rng: np.random.Generator, quick: bool
) -> list[tuple[int, int, int, int, float, float]]:
    """Wall-clock of one step, plain vs repulsive, at sizes an agent would use."""
    out = []
    dim = 384
    for n in (1_000, 10_000) if quick else (1_000, 10_000, 100_000):
        x = unit(rng.standard_normal((n, dim)))
        for m in (8, 64):
            y = unit(rng.standard_normal((m, dim)))
            for q in (1, 32):
                cues = unit(rng.standard_normal((q, dim)))
                reps = 5 if n >= 100_000 else 20
                b = step_us(
                    lambda x=x, cues=cues: kernel.hopfield_step(x, cues, 20.0, sentinel=True), reps
                )
                r = step_us(
                    lambda x=x, cues=cues, y=y: kernel.repulsive_step(
                        x,
                        cues,
                        20.0,
                        negatives=y,
                        beta_neg=BETA_NEG,
                        clamp_radius=CLAMP,
                        neg_strength=0.1,
                        sentinel=True,
                    ),
                    reps,
                )
                out.append((n, dim, m, q, b, r))
    return out


def print_table(rows: list[Row]) -> None:
    names = list(VARIANTS)

    sub = " ".join(f"{n:>8}" for n in ["plain", *names])
    sub2 = " ".join(f"{n:>8}" for n in names)
    print(
        f"{'':8} {'':20} {'':>4} {'':>3} | {'mean steps to converge':^26} | "
        f"{'>=10x fewer':^17} | {'accuracy after relax':^26} | {'1-step':>6} | "
        f"{'mixed (top w < .9)':^26} | {'energy rose':^17} | {'net time base/rep':^17}"
    )
    head = (
        f"{'regime':8} {'setting':20} {'beta':>4} {'m':>3} | {sub} | {sub2} | {sub} | "
        f"{'acc':>6} | {sub} | {sub2} | {sub2}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        stats_ = [r.base] + [r.reps[n] for n in names]
        net = [
            (r.base.steps * r.base.us_step) / max(r.reps[n].steps * r.reps[n].us_step, 1e-9)
            for n in names
        ]
        print(
            f"{r.regime:8} {r.setting:20} {r.beta:4.0f} {r.m:3d} | "
            + " ".join(f"{st.steps:8.1f}" for st in stats_)
            + " | "
            + " ".join(f"{r.reps[n].tenfold:8.2f}" for n in names)
            + " | "
            + " ".join(f"{st.acc:8.2f}" for st in stats_)
            + f" | {r.one_step_acc:6.2f} | "
            + " ".join(f"{st.mixed:8.2f}" for st in stats_)
            + " | "
            + " ".join(f"{r.reps[n].energy_up:8.2f}" for n in names)
            + " | "
            + " ".join(f"{v:8.2f}" for v in net)
        )


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(VARIANTS)
    fig, axes = plt.subplots(2, 1, figsize=(16, 9), sharex=True)
    labels = [f"{r.regime} {r.setting} b={r.beta:.0f}" for r in rows]
    pos = np.arange(len(rows))
    width = 0.8 / (1 + len(names))
    series = [("plain", [r.base for r in rows])] + [(n, [r.reps[n] for r in rows]) for n in names]
    for k, (label, values) in enumerate(series):
        offset = (k - len(names) / 2) * width
        axes[0].bar(pos + offset, [v.steps for v in values], width, label=label)
        axes[1].bar(pos + offset, [v.acc for v in values], width, label=label)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("mean steps to converge\n(tol 1e-5, cap 100)")
    axes[1].set_ylabel("retrieval accuracy\n(argmax of final weights)")
    axes[1].set_xticks(pos, labels, rotation=90, fontsize=7)
    axes[0].legend(title="update", fontsize=8)
    fig.suptitle(
        f"Repulsive (beta_neg={BETA_NEG:g}, clamp={CLAMP:g}) vs plain Hopfield update"
        " - benchmarks/bench_repulsive.py"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cues and sizes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    q = 100 if args.quick else 400
    try:  # one BLAS thread: per-step times comparable on a shared 2-core machine
        from threadpoolctl import threadpool_limits

        limiter: object = threadpool_limits(1)
    except ImportError:  # pragma: no cover - optional
        limiter = None
    rows = regime_lowdim(rng, q) + regime_pairs(rng, q) + regime_decoy(rng, q)
    rows += regime_failpts(rng, q) + regime_text()
    cost = step_cost(rng, args.quick)
    del limiter
    print(
        f"plain vs repulsive (beta_neg={BETA_NEG:g}, clamp_radius={CLAMP:g}, strength lam); "
        f"tol={TOL:g}, max_steps={MAX_STEPS}, seed={args.seed}, {q} cues per synthetic row"
    )
    print_table(rows)
    print()
    print("one update step, best-of microseconds on one BLAS thread, plain vs repulsive lam=0.1:")
    print(f"{'n':>7} {'dim':>4} {'m':>3} {'q':>3} | {'plain':>9} {'repulsive':>9} {'ratio':>6}")
    for n, dim, m, nq, b, r in cost:
        print(f"{n:7d} {dim:4d} {m:3d} {nq:3d} | {b:9.1f} {r:9.1f} {r / b:6.2f}")
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "bench_repulsive.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["regime", "setting", "beta", "m", "update", *Stats.__dataclass_fields__])
        for r in rows:
            for name, st in [("plain", r.base), *r.reps.items()]:
                fields = [getattr(st, f) for f in Stats.__dataclass_fields__]
                writer.writerow([r.regime, r.setting, r.beta, r.m, name, *fields])
    plot(rows, RESULTS / "bench_repulsive.png")
    print(f"\nwrote {RESULTS / 'bench_repulsive.png'} and bench_repulsive.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
