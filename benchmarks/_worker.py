"""Text-level workloads, timed in a fresh process for one implementation of ``hopfield_memory``.

Run by ``bench_core.py`` twice per round with the same arguments: once with the baseline's
interpreter (its own virtual environment, where ``hopfield_memory`` is ``mhn-ai-agent-memory``
1.0.0 from PyPI) and once with the current interpreter (this repository). Only the public text API
is used (``HopfieldMemory()``, ``store``, ``store_many`` if present, ``query_or_none``), so the
identical workload runs on both sides. This file imports ``hopfield_memory`` but contains no code
from it.

Prints one line ``RESULT_JSON {...}`` on stdout.

Warnings: 1.0.0 emits one ``UserWarning`` with a changing message per ``store`` past dim/2 stored
patterns (about 10,000 lines for 10,000 facts) and one when its default encoder falls back to
``RandomIndexEncoder``. They are silenced with ``warnings.simplefilter("ignore")`` on both sides,
which also removes their formatting/printing cost from the baseline's timings.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _facts


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def _p90(xs: list[float]) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(0.9 * len(s)))])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=None, help="put this directory first on sys.path")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--cues", type=int, default=200)
    ap.add_argument("--unknown", type=int, default=50)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--expect", choices=["baseline", "ours"], required=True)
    args = ap.parse_args()

    if args.src:
        sys.path.insert(0, args.src)
    warnings.simplefilter("ignore")

    import numpy as np

    import hopfield_memory
    from hopfield_memory import HopfieldMemory

    try:  # ours shares word features between memories; start every timed run cold, as 1.0.0 does
        from hopfield_memory.encoders.hashing import clear_feature_caches
    except ImportError:

        def clear_feature_caches() -> None:
            pass

    version = getattr(hopfield_memory, "__version__", "?")
    if (args.expect == "baseline") != (version == "1.0.0"):
        raise SystemExit(
            f"expected {args.expect} but imported hopfield_memory {version} "
            f"from {hopfield_memory.__file__}"
        )

    n = args.n
    facts = _facts.make_facts(n + args.pairs + 20, seed=args.seed)
    base, extra = facts[:n], facts[n:]
    cues = _facts.make_cues(base, args.cues, seed=args.seed + 1)
    unknown = _facts.make_unknown_cues(args.unknown, seed=args.seed + 2)
    pair_cues = _facts.make_cues(base, args.pairs + 20, seed=args.seed + 3)
    warm_facts = _facts.make_facts(300, seed=args.seed + 1000)

    out: dict = {
        "impl": args.expect,
        "version": version,
        "module": hopfield_memory.__file__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "n": n,
    }

    # Warm-up: imports, code paths, allocator.
    warm = HopfieldMemory()
    for f in warm_facts:
        warm.store(f)
    for c, _ in _facts.make_cues(warm_facts, 20, seed=7):
        warm.query_or_none(c)
    out["encoder"] = type(getattr(warm, "encoder", None)).__name__
    out["encoder_dim"] = int(getattr(getattr(warm, "encoder", None), "dim", -1))
    del warm

    # 2. one-by-one store of n facts into a fresh memory (encoding included), repeated.
    store_totals = []
    mem = None
    for _ in range(args.repeats):
        mem = None
        gc.collect()
        clear_feature_caches()
        m = HopfieldMemory()
        t0 = time.perf_counter()
        for f in base:
            m.store(f)
        store_totals.append(time.perf_counter() - t0)
        mem = m
    out["store_total_s"] = store_totals
    out["store_per_fact_s"] = _median(store_totals) / n

    # 1. query_or_none at n facts (encoding included), one timing per call.
    assert mem is not None
    gc.collect()
    for c, _ in cues[:10]:
        mem.query_or_none(c)
    times, hits = [], 0
    for c, i in cues:
        t0 = time.perf_counter()
        ans = mem.query_or_none(c)
        times.append(time.perf_counter() - t0)
        hits += ans == base[i]
    utimes, abstained = [], 0
    for c in unknown:
        t0 = time.perf_counter()
        ans = mem.query_or_none(c)
        utimes.append(time.perf_counter() - t0)
        abstained += ans is None
    out["query_median_s"] = _median(times)
    out["query_p90_s"] = _p90(times)
    out["query_unknown_median_s"] = _median(utimes)
    out["query_hit_rate"] = hits / len(cues)
    out["unknown_abstain_rate"] = abstained / max(1, len(unknown))

    # 4. alternating store / query starting from n facts, one timing per pair.
    for j in range(5):  # warm-up pairs
        mem.store(extra[args.pairs + j])
        mem.query_or_none(pair_cues[args.pairs + j][0])
    gc.collect()
    ptimes = []
    for j in range(args.pairs):
        t0 = time.perf_counter()
        mem.store(extra[j])
        mem.query_or_none(pair_cues[j][0])
        ptimes.append(time.perf_counter() - t0)
    out["pair_median_s"] = _median(ptimes)
    out["pair_p90_s"] = _p90(ptimes)
    del mem
    gc.collect()

    # 3. store_many of n facts into a fresh memory, if the implementation has it.
    if hasattr(HopfieldMemory, "store_many"):
        w = HopfieldMemory()
        w.store_many(warm_facts)
        del w
        totals = []
        for _ in range(args.repeats):
            gc.collect()
            clear_feature_caches()
            m = HopfieldMemory()
            t0 = time.perf_counter()
            ids = m.store_many(base)
            totals.append(time.perf_counter() - t0)
            if len(ids) != n:
                raise SystemExit(f"store_many returned {len(ids)} ids for {n} facts")
            del m
        out["store_many_total_s"] = totals
        out["store_many_per_fact_s"] = _median(totals) / n
    else:
        out["store_many_per_fact_s"] = None

    print("RESULT_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
