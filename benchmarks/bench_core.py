"""Core speed benchmark: this repository's ``hopfield_memory`` against 1.0.0, faiss and numpy.

Run from the repository root::

    python benchmarks/bench_core.py            # full run, a few minutes
    python benchmarks/bench_core.py --quick    # smaller sizes, smoke test (~1 minute)

Everything is measured side by side in one run and reported as ratios; every figure is the
median of many timed calls (``time.perf_counter``) after warm-up calls. Writes
``benchmarks/results/core.json`` (all figures) and ``benchmarks/results/core.png`` (plot);
``--quick`` writes ``core_quick.json`` / ``core_quick.png`` instead.

The baseline, ``mhn-ai-agent-memory==1.0.0`` from PyPI, also imports as ``hopfield_memory``, so
it runs in its own virtual environment (created on first use, default
``benchmarks/.venv-baseline``) in a subprocess, ``benchmarks/_worker.py``. The same worker runs
this repository's code in a second subprocess, so both sides of the text workloads (1-4) see
the same harness, the same facts (``benchmarks/_facts.py``) and a fresh process. The vector
workloads (5, 6) run in this process.

Workloads and targets (see benchmarks/README.md):

1. ``query_or_none`` at 10,000 facts, default encoder, text cues: ours >= 10x faster than 1.0.0.
2. one-by-one ``store`` of 10,000 facts: ours no slower than 1.0.0.
3. ``store_many`` of 10,000 facts: >= 5x faster per fact than 1.0.0's one-by-one ``store``.
4. alternating ``store`` / ``query_or_none`` from 10,000 facts: >= 30x faster per pair.
5. single-cue products at N x 384, N in {1e3, 1e4, 1e5}: 1 vs 2 BLAS threads, idle and with a
   CPU-burning process on the other core (informational: which is faster).
6. vector-level single-step retrieval at 100,000 x 384: ours <= faiss ``IndexFlatIP`` (k=1)
   for one cue and per cue in a batch of 64; ours within 1.5x of one streaming read of the matrix.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
WORKER = BENCH_DIR / "_worker.py"
BASELINE_REQ = "mhn-ai-agent-memory==1.0.0"

# Benchmark against this tree's code even if another copy is installed; with `pip install -e .`
# both are the same files.
SRC = REPO / "src"
if (SRC / "hopfield_memory" / "__init__.py").exists():
    sys.path.insert(0, str(SRC))

TARGETS = {
    "query_or_none": 10.0,
    "store": 1.0,
    "store_many": 5.0,
    "store_query_pair": 30.0,
    "vs_faiss_one": 1.0,
    "vs_faiss_batch64": 1.0,
    "vs_floor": 1.5,
}


# ------------------------------------------------------------------------------------ helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def p90(xs: list[float]) -> float:
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(0.9 * len(s)))])


def time_calls(
    fn: Callable[[], object],
    *,
    budget: float,
    min_reps: int = 15,
    max_reps: int = 5000,
    warmup: int = 3,
) -> list[float]:
    """Per-call times of ``fn``: ``warmup`` untimed calls, then timed calls until ``budget``
    seconds have passed (at least ``min_reps``, at most ``max_reps`` calls)."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    end = time.perf_counter() + budget
    while len(out) < max_reps:
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        out.append(t1 - t0)
        if t1 >= end and len(out) >= min_reps:
            break
    return out


Setup = Callable[[], contextlib.AbstractContextManager[Any]]


def interleaved(
    fns: dict[str, Callable[[], object]],
    *,
    budget: float,
    blocks: int = 4,
    setups: dict[str, Setup] | None = None,
) -> dict[str, list[float]]:
    """Time several functions in alternating contiguous blocks (A..A B..B A..A B..B), so that
    slow drift of the machine hits all of them alike, and a library's idle threads (faiss'
    OpenMP pool spins after a call) never run during another's calls. A short sleep separates
    blocks. ``setups[name]()`` is a context manager entered around that function's blocks."""
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(blocks):
        for name, fn in fns.items():
            cm = setups[name]() if setups and name in setups else contextlib.nullcontext()
            time.sleep(0.02)
            with cm:
                samples[name] += time_calls(fn, budget=budget / blocks, min_reps=5)
    return samples


class CpuWatch:
    """CPU used by *other* processes (and hypervisor steal) while a section runs, in cores.

    Reads ``/proc/stat`` (all CPUs) and subtracts this process's and its waited-for children's
    CPU time. On 2 cores, anything above ~0.2 cores of foreign load makes 2-thread BLAS calls
    wait for the scheduler; such figures are flagged "contended" in the report.
    """

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, float]] = {}
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _stat() -> tuple[int, int]:
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
        except OSError:
            return 0, 0
        return v[0] + v[1] + v[2] + v[5] + v[6], v[7]  # busy, steal

    @staticmethod
    def _own() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        wait_idle(name)
        t0, (b0, s0), o0 = time.perf_counter(), self._stat(), self._own()
        try:
            yield
        finally:
            wall = time.perf_counter() - t0
            (b1, s1), o1 = self._stat(), self._own()
            foreign = max(0.0, (b1 - b0) / self._hz - (o1 - o0)) / wall
            self.sections[name] = {
                "wall_s": wall,
                "foreign_cores": foreign,
                "steal_cores": (s1 - s0) / self._hz / wall,
            }


WATCH = CpuWatch()
CONTENDED = 0.2  # cores of foreign CPU load above which a section is flagged


def foreign_cores(seconds: float) -> float:
    """Cores' worth of CPU other processes used over the next ``seconds``."""
    t0, (b0, _), o0 = time.perf_counter(), CpuWatch._stat(), CpuWatch._own()
    time.sleep(seconds)
    (b1, _), o1 = CpuWatch._stat(), CpuWatch._own()
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return max(0.0, (b1 - b0) / hz - (o1 - o0)) / (time.perf_counter() - t0)


WAIT_IDLE = {"max_s": 0.0, "waited_s": 0.0}


def wait_idle(what: str) -> None:
    """Wait (up to ``--wait-idle`` seconds per section) until other processes use < 0.2 cores."""
    if WAIT_IDLE["max_s"] <= 0:
        return
    t0 = time.perf_counter()
    while True:
        load = foreign_cores(0.5)
        if load < 0.2:
            break
        if time.perf_counter() - t0 > WAIT_IDLE["max_s"]:
            log(f"  {what}: machine still busy ({load:.2f} cores foreign); measuring anyway")
            break
    WAIT_IDLE["waited_s"] += time.perf_counter() - t0


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """A CPU-burning Python process for the duration (the machine has 2 cores)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        yield
    finally:
        proc.kill()
        proc.wait()


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def noisy_cues(
    rng: np.random.Generator, x: np.ndarray, q: int, noise: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """``q`` unit cues near random stored rows (noise of norm ~``noise``) and their rows."""
    idx = rng.integers(len(x), size=q)
    cues = x[idx] + rng.standard_normal((q, x.shape[1]), dtype=np.float32) * np.float32(
        noise / np.sqrt(x.shape[1])
    )
    cues /= np.linalg.norm(cues, axis=1, keepdims=True)
    return np.ascontiguousarray(cues, dtype=np.float32), idx


# ------------------------------------------------------------------------------ baseline venv


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def baseline_version(py: Path) -> str | None:
    code = (
        "import warnings; warnings.simplefilter('ignore'); import hopfield_memory as h; "
        "print(h.__version__)"
    )
    r = subprocess.run(
        [str(py), "-E", "-s", "-c", code],
        capture_output=True,
        text=True,
        cwd=BENCH_DIR,
        env=clean_env(),
    )
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_baseline(path: Path) -> Path:
    py = venv_python(path)
    if not py.exists():
        log(f"creating baseline venv at {path}")
        venv.EnvBuilder(with_pip=True, clear=False).create(path)
    if baseline_version(py) != "1.0.0":
        log(f"installing {BASELINE_REQ} into {path}")
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", BASELINE_REQ], check=True, env=clean_env()
        )
        if baseline_version(py) != "1.0.0":
            raise SystemExit(f"{path}: hopfield_memory 1.0.0 is not importable after install")
    return py


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(k, None)
    return env


def run_worker(py: Path | str, expect: str, cfg: dict[str, int]) -> dict[str, Any]:
    cmd = [str(py), "-E", "-s", str(WORKER), "--expect", expect]
    if expect == "ours":
        cmd += ["--src", str(SRC)]
    for k, v in cfg.items():
        cmd += [f"--{k}", str(v)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH_DIR, env=clean_env())
    if r.returncode != 0:
        raise SystemExit(f"worker for {expect} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
    for line in r.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON ") :])
    raise SystemExit(f"worker for {expect} printed no result:\n{r.stdout}\n{r.stderr}")


# -------------------------------------------------------------------------- text workloads 1-4


TEXT_KEYS = [
    "store_per_fact_s",
    "store_many_per_fact_s",
    "query_median_s",
    "query_p90_s",
    "query_unknown_median_s",
    "pair_median_s",
    "pair_p90_s",
    "query_hit_rate",
    "unknown_abstain_rate",
]


def text_workloads(baseline_py: Path, cfg: dict[str, int], rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "ours": []}
    for r in range(rounds):
        for impl, py in (("baseline", baseline_py), ("ours", sys.executable)):
            log(f"text workloads, round {r + 1}/{rounds}: {impl} ...")
            t0 = time.perf_counter()
            name = f"text {impl} round {r + 1}"
            with WATCH.section(name):
                res = run_worker(py, impl, cfg)
            res["foreign_cores"] = WATCH.sections[name]["foreign_cores"]
            runs[impl].append(res)
            log(f"  done in {time.perf_counter() - t0:.1f} s")
    agg: dict[str, Any] = {}
    for impl, rs in runs.items():
        a: dict[str, Any] = {
            k: rs[0][k] for k in ("version", "module", "encoder", "encoder_dim", "numpy", "python")
        }
        # Rounds during which other processes used > CONTENDED cores are left out of the medians
        # when at least one clean round exists (they stay in core.json under "rounds").
        clean = [x for x in rs if x["foreign_cores"] <= CONTENDED]
        used = clean or rs
        for k in TEXT_KEYS:
            vals = [x[k] for x in used if x.get(k) is not None]
            a[k] = median(vals) if vals else None
        a["rounds_used"] = [i + 1 for i, x in enumerate(rs) if x in used]
        a["foreign_cores"] = max(x["foreign_cores"] for x in used)
        a["rounds"] = rs
        agg[impl] = a
    return agg


# ---------------------------------------------------------------------- vector workloads 5, 6


def ours_vector_memory(x: np.ndarray) -> Any:
    from hopfield_memory import HopfieldMemory

    mem = HopfieldMemory(dim=x.shape[1])
    mem.store_vectors(x, [f"v{i}" for i in range(len(x))])
    return mem


def thread_study(sizes: list[int], dim: int, budget: float, seed: int) -> dict[str, Any]:
    """Workload 5: single-cue GEMV and our single-step retrieval, 1 vs 2 BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    res: dict[str, Any] = {}
    for n in sizes:
        x = unit_rows(rng, n, dim)
        q = noisy_cues(rng, x, 1)[0][0]
        mem = ours_vector_memory(x)
        q2 = q[None, :]
        fns = {
            "gemv": lambda x=x, q=q: x @ q,
            "ours": lambda mem=mem, q2=q2: mem.recall_vectors(q2, top_k=1),
        }
        lim = {
            "1": lambda: threadpool_limits(1, user_api="blas"),
            "2": lambda: threadpool_limits(2, user_api="blas"),
        }
        for load in ("idle", "busy"):
            cm = busy_core() if load == "busy" else contextlib.nullcontext()
            log(f"threads: N={n} {load}")
            with WATCH.section(f"threads N={n} {load}"), cm:
                # all four (impl, threads) cells alternate within the same busy period
                s = interleaved(
                    {f"{impl}/{t}": fn for impl, fn in fns.items() for t in ("1", "2")},
                    budget=4 * budget,
                    blocks=6,
                    setups={f"{impl}/{t}": lim[t] for impl in fns for t in ("1", "2")},
                )
            for cell, xs in s.items():
                impl, t = cell.split("/")
                res[f"{impl}/{n}/{load}/{t}"] = {
                    "median_s": median(xs),
                    "p90_s": p90(xs),
                    "reps": len(xs),
                }
        del mem, x
        gc.collect()
    return res


def vector_study(n: int, dim: int, batch: int, budget: float, seed: int) -> dict[str, Any]:
    """Workload 6: ours vs faiss IndexFlatIP vs numpy vs one streaming read, 100,000 x 384."""
    import faiss

    rng = np.random.default_rng(seed)
    x = unit_rows(rng, n, dim)
    cues, truth = noisy_cues(rng, x, max(batch, 32))
    q1 = cues[:1]
    qb = cues[:batch]
    ones = np.ones(dim, dtype=np.float32)
    ones_n = np.ones(n, dtype=np.float32)
    log("vector: building ours and faiss ...")
    mem = ours_vector_memory(x)
    index = faiss.IndexFlatIP(dim)
    index.add(x)

    # correctness of the top-1 answers (the exact argmax is the oracle)
    exact = np.argmax(qb @ x.T, axis=1)
    ours_top = np.array(
        [int(r[0].text[1:]) for r in (rs for rs in mem.recall_vectors(qb, top_k=1))]
    )
    _, fi = index.search(qb, 1)
    agree = {
        "ours_vs_exact": float(np.mean(ours_top == exact)),
        "faiss_vs_exact": float(np.mean(fi[:, 0] == exact)),
        "exact_is_source_row": float(np.mean(exact == truth[:batch])),
    }

    one = {
        "ours": lambda: mem.recall_vectors(q1, top_k=1),
        "faiss": lambda: index.search(q1, 1),
        "numpy_gemv_argmax": lambda: int(np.argmax(x @ q1[0])),
    }
    log("vector: one cue ...")
    with WATCH.section("vector one cue"):
        s_one = interleaved(one, budget=len(one) * budget)
    bat = {
        "ours": lambda: mem.recall_vectors(qb, top_k=1),
        "faiss": lambda: index.search(qb, 1),
        "numpy_gemm_argmax": lambda: np.argmax(qb @ x.T, axis=1),
    }
    log(f"vector: batch of {batch} ...")
    with WATCH.section(f"vector batch {batch}"):
        s_bat = interleaved(bat, budget=len(bat) * budget)
    floor_fns = {
        "X.sum(axis=0)": lambda: x.sum(axis=0),
        "X @ ones(dim) [GEMV]": lambda: x @ ones,
        "ones(n) @ X [GEMV^T]": lambda: ones_n @ x,
        "X @ q [GEMV]": lambda: x @ q1[0],
    }
    log("vector: streaming-read floor ...")
    with WATCH.section("vector floor"):
        s_floor = interleaved(floor_fns, budget=len(floor_fns) * budget)
    floor = {k: median(v) for k, v in s_floor.items()}
    floor_name = min(floor, key=floor.__getitem__)
    return {
        "n": n,
        "dim": dim,
        "batch": batch,
        "matrix_mb": x.nbytes / 1e6,
        "agreement": agree,
        "one": {
            k: {"median_s": median(v), "p90_s": p90(v), "reps": len(v)} for k, v in s_one.items()
        },
        "batch_total": {
            k: {"median_s": median(v), "p90_s": p90(v), "reps": len(v)} for k, v in s_bat.items()
        },
        "floor_candidates_s": floor,
        "floor_s": floor[floor_name],
        "floor_method": floor_name,
        "faiss_version": faiss.__version__,
    }


# ------------------------------------------------------------------------------------- report


def fmt_t(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def build_rows(text: dict[str, Any], vec: dict[str, Any]) -> list[dict[str, Any]]:
    b, o = text["baseline"], text["ours"]
    rows = []

    def add(
        key: str,
        name: str,
        base: float | None,
        ours: float | None,
        ratio: float | None,
        target: float,
        ok: bool | None,
        unit_base: str,
        unit_ours: str,
        note: str,
    ) -> None:
        rows.append(
            {
                "key": key,
                "workload": name,
                "reference": base,
                "ours": ours,
                "ratio": ratio,
                "target": target,
                "pass": ok,
                "reference_name": unit_base,
                "ours_name": unit_ours,
                "note": note,
            }
        )

    r = b["query_median_s"] / o["query_median_s"]
    add(
        "query_or_none",
        "1 query_or_none @N, per call",
        b["query_median_s"],
        o["query_median_s"],
        r,
        TARGETS["query_or_none"],
        r >= TARGETS["query_or_none"],
        "1.0.0",
        "ours",
        "speedup >= 10x",
    )
    r = b["store_per_fact_s"] / o["store_per_fact_s"]
    add(
        "store",
        "2 store one-by-one, per fact",
        b["store_per_fact_s"],
        o["store_per_fact_s"],
        r,
        TARGETS["store"],
        r >= TARGETS["store"],
        "1.0.0",
        "ours",
        "speedup >= 1x",
    )
    if o["store_many_per_fact_s"]:
        r = b["store_per_fact_s"] / o["store_many_per_fact_s"]
        add(
            "store_many",
            "3 store_many vs 1.0.0 store, per fact",
            b["store_per_fact_s"],
            o["store_many_per_fact_s"],
            r,
            TARGETS["store_many"],
            r >= TARGETS["store_many"],
            "1.0.0 store",
            "ours store_many",
            "speedup >= 5x",
        )
    r = b["pair_median_s"] / o["pair_median_s"]
    add(
        "store_query_pair",
        "4 store+query pair @N, per pair",
        b["pair_median_s"],
        o["pair_median_s"],
        r,
        TARGETS["store_query_pair"],
        r >= TARGETS["store_query_pair"],
        "1.0.0",
        "ours",
        "speedup >= 30x",
    )
    one, bat = vec["one"], vec["batch_total"]
    nb = vec["batch"]
    r = one["faiss"]["median_s"] / one["ours"]["median_s"]
    add(
        "vs_faiss_one",
        "6 one cue vs faiss IndexFlatIP",
        one["faiss"]["median_s"],
        one["ours"]["median_s"],
        r,
        TARGETS["vs_faiss_one"],
        r >= TARGETS["vs_faiss_one"],
        "faiss",
        "ours",
        "faiss/ours >= 1",
    )
    r = bat["faiss"]["median_s"] / bat["ours"]["median_s"]
    add(
        "vs_faiss_batch64",
        f"6 per cue, batch {nb}, vs faiss",
        bat["faiss"]["median_s"] / nb,
        bat["ours"]["median_s"] / nb,
        r,
        TARGETS["vs_faiss_batch64"],
        r >= TARGETS["vs_faiss_batch64"],
        "faiss",
        "ours",
        "faiss/ours >= 1",
    )
    r = one["ours"]["median_s"] / vec["floor_s"]
    add(
        "vs_floor",
        "6 one cue vs one read of X",
        vec["floor_s"],
        one["ours"]["median_s"],
        r,
        TARGETS["vs_floor"],
        r <= TARGETS["vs_floor"],
        vec["floor_method"],
        "ours",
        "ours/floor <= 1.5",
    )
    for r in rows:
        if r["key"] in ("query_or_none", "store", "store_many", "store_query_pair"):
            r["foreign_cores"] = max(b["foreign_cores"], o["foreign_cores"])
        else:
            loads = [w["foreign_cores"] for k, w in WATCH.sections.items() if "vector" in k]
            r["foreign_cores"] = max(loads) if loads else None
    return rows


def print_report(
    meta: dict[str, Any],
    text: dict[str, Any],
    threads: dict[str, Any],
    vec: dict[str, Any],
    rows: list[dict[str, Any]],
) -> None:
    b, o = text["baseline"], text["ours"]
    print()
    print(f"hopfield_memory core benchmark   ({meta['mode']}, {meta['date']})")
    print(
        f"  cpu: {meta['cpu']}, {meta['cores']} cores; python {meta['python']}, "
        f"numpy {meta['numpy']}, faiss {vec['faiss_version']}"
    )
    print(
        f"  baseline: hopfield_memory {b['version']} ({b['encoder']}, dim {b['encoder_dim']}) "
        f"in {meta['baseline_venv']}; its warnings silenced with "
        f"warnings.simplefilter('ignore')"
    )
    print(
        f"  ours:     hopfield_memory {o['version']} ({o['encoder']}, dim {o['encoder_dim']}) "
        f"from {Path(o['module']).parent}"
    )
    print(
        f"  text workloads: N={meta['text']['n']} facts, {meta['text']['cues']} cues, "
        f"{meta['text']['pairs']} pairs, {meta['text']['repeats']} store repeats, "
        f"{meta['rounds']} rounds; medians over uncontended rounds "
        f"(1.0.0: rounds {b['rounds_used']}, ours: rounds {o['rounds_used']})"
    )
    print()
    hdr = (
        f"{'workload':<40} {'reference':>22} {'ours':>12} {'ratio':>8} {'target':>18}  "
        f"result  foreign load"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ref = f"{r['reference_name']} {fmt_t(r['reference'])}"
        res = "PASS" if r["pass"] else "FAIL"
        fl = r["foreign_cores"]
        flag = "-" if fl is None else f"{fl:.2f}" + (" CONTENDED" if fl > CONTENDED else "")
        print(
            f"{r['workload']:<40} {ref:>22} {fmt_t(r['ours']):>12} {r['ratio']:>7.2f}x "
            f"{r['note']:>18}  {res:<6}  {flag}"
        )
    print()
    print(
        "  quality (informational): hit rate on cues 1.0.0 "
        f"{b['query_hit_rate']:.2f} / ours {o['query_hit_rate']:.2f}; abstain on unknown cues "
        f"1.0.0 {b['unknown_abstain_rate']:.2f} / ours {o['unknown_abstain_rate']:.2f}; "
        f"p90 query 1.0.0 {fmt_t(b['query_p90_s'])} / ours {fmt_t(o['query_p90_s'])}"
    )
    one, bat, nb = vec["one"], vec["batch_total"], vec["batch"]
    print()
    print(
        f"6. vector level, N={vec['n']} x {vec['dim']} float32 ({vec['matrix_mb']:.0f} MB), "
        "default threads, idle"
    )
    print(f"  {'':<26} {'one cue':>10} {'batch/cue':>10}")
    for k_one, k_bat, label in (
        ("ours", "ours", "ours recall_vectors"),
        ("faiss", "faiss", "faiss IndexFlatIP k=1"),
        ("numpy_gemv_argmax", "numpy_gemm_argmax", "numpy GEMV/GEMM+argmax"),
    ):
        print(
            f"  {label:<26} {fmt_t(one[k_one]['median_s']):>10} "
            f"{fmt_t(bat[k_bat]['median_s'] / nb):>10}"
        )
    fl = "  ".join(f"{k} {fmt_t(v)}" for k, v in vec["floor_candidates_s"].items())
    print(f"  one streaming read: {fl}  -> floor {fmt_t(vec['floor_s'])}")
    ag = vec["agreement"]
    print(
        f"  top-1 agreement with exact argmax: ours {ag['ours_vs_exact']:.2f}, "
        f"faiss {ag['faiss_vs_exact']:.2f}"
    )
    print()
    print(
        "5. single cue, 1 vs 2 BLAS threads (threadpoolctl), median [p90]; "
        "busy = a CPU-burning process on the other core"
    )
    print(f"  {'impl':<6} {'N':>7} {'load':<5} {'1 thread':>20} {'2 threads':>20}  faster")
    for key in sorted(
        {k.rsplit("/", 1)[0] for k in threads},
        key=lambda s: (s.split("/")[0], int(s.split("/")[1]), s.split("/")[2]),
    ):
        impl, n, load = key.split("/")
        t1, t2 = threads[f"{key}/1"], threads[f"{key}/2"]
        c1 = f"{fmt_t(t1['median_s'])} [{fmt_t(t1['p90_s'])}]"
        c2 = f"{fmt_t(t2['median_s'])} [{fmt_t(t2['p90_s'])}]"
        ratio = max(t1["median_s"], t2["median_s"]) / min(t1["median_s"], t2["median_s"])
        win = (
            "tie"
            if ratio < 1.05
            else "1 thread"
            if t1["median_s"] < t2["median_s"]
            else "2 threads"
        )
        print(f"  {impl:<6} {n:>7} {load:<5} {c1:>20} {c2:>20}  {win} ({ratio:.2f}x)")
    print()
    print(
        "CPU used by other processes while measuring (cores of 2; > 0.2 = contended; "
        "busy sections include no burner, it is ours)"
    )
    for name, w in WATCH.sections.items():
        flag = "  contended" if w["foreign_cores"] > CONTENDED else ""
        print(
            f"  {name:<26} {w['foreign_cores']:.2f} foreign, {w['steal_cores']:.2f} steal, "
            f"{w['wall_s']:.1f} s{flag}"
        )


def plot(
    path: Path, rows: list[dict[str, Any]], threads: dict[str, Any], sizes: list[int], title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    ax = axes[0]
    labels, vals, cols = [], [], []
    for r in rows:
        # "how many times the target was met": > 1 is a pass on every row
        score = r["target"] / r["ratio"] if r["key"] == "vs_floor" else r["ratio"] / r["target"]
        labels.append(r["workload"])
        vals.append(score)
        cols.append("tab:green" if r["pass"] else "tab:red")
    y = np.arange(len(rows))
    ax.barh(y, vals, color=cols)
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xscale("log")
    lo, hi = min([*vals, 0.5]) / 1.5, max([*vals, 2.0]) * 2.5
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("achieved / target  (> 1 passes; label: measured ratio)")
    ax.set_title("targets")
    for i, r in enumerate(rows):
        ax.text(vals[i], i, f" {r['ratio']:.2f}x", va="center", fontsize=8)
    for ax, impl in zip(axes[1:], ("gemv", "ours"), strict=True):
        width = 0.2
        xs = np.arange(len(sizes))
        for j, (load, t) in enumerate((("idle", "1"), ("idle", "2"), ("busy", "1"), ("busy", "2"))):
            med = [threads[f"{impl}/{n}/{load}/{t}"]["median_s"] * 1e3 for n in sizes]
            what = "idle" if load == "idle" else "CPU burner"
            ax.bar(xs + (j - 1.5) * width, med, width, label=f"{what}, {t} thread(s)")
        ax.set_xticks(xs, [f"{n:,} x 384" for n in sizes])
        ax.set_yscale("log")
        ax.set_ylabel("ms per single-cue call (median)")
        ax.set_title("numpy GEMV X @ q" if impl == "gemv" else "ours recall_vectors(q, top_k=1)")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, dpi=110, format="png")
    os.replace(tmp, path)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    ap.add_argument(
        "--baseline-venv",
        type=Path,
        default=BENCH_DIR / ".venv-baseline",
        help="virtual environment for mhn-ai-agent-memory==1.0.0 (created if absent)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="alternating baseline/ours worker runs (default 3, quick 1)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="directory for core.json/core.png (core_quick.* with --quick)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="before each section wait up to this long for other processes to use "
        "< 0.2 cores (default 20; 0 disables)",
    )
    args = ap.parse_args()

    try:
        import faiss  # noqa: F401
        import matplotlib  # noqa: F401
        import threadpoolctl  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            f"{exc}; install the benchmark tools: pip install faiss-cpu matplotlib threadpoolctl"
        ) from None
    import hopfield_memory

    if getattr(hopfield_memory, "__version__", "") == "1.0.0":
        raise SystemExit(
            "this interpreter imports hopfield_memory 1.0.0; run from the repository "
            "(pip install -e .) so that the code under test is this tree"
        )

    if args.quick:
        text_cfg = {"n": 2000, "cues": 60, "unknown": 20, "pairs": 40, "repeats": 2}
        rounds, sizes, vec_n, budget = args.rounds or 1, [1_000, 10_000, 100_000], 20_000, 0.15
    else:
        text_cfg = {"n": 10_000, "cues": 200, "unknown": 50, "pairs": 100, "repeats": 3}
        rounds, sizes, vec_n, budget = args.rounds or 3, [1_000, 10_000, 100_000], 100_000, 3.0
    text_cfg["seed"] = args.seed

    WAIT_IDLE["max_s"] = args.wait_idle
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5:
        log(f"warning: 1-minute load average is {load:.2f}; timings want an idle machine")
    t_start = time.perf_counter()
    baseline_py = ensure_baseline(args.baseline_venv.resolve())
    text = text_workloads(baseline_py, text_cfg, rounds)
    vec = vector_study(vec_n, 384, 64, budget, args.seed)
    threads = thread_study(sizes, 384, budget / 2 if not args.quick else budget, args.seed)
    from threadpoolctl import threadpool_info

    meta = {
        **machine_info(),
        "mode": "quick" if args.quick else "full",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rounds": rounds,
        "text": text_cfg,
        "baseline_venv": str(args.baseline_venv),
        "loadavg_at_start": load,
        "cpu_watch": WATCH.sections,
        "blas": [
            {
                k: i.get(k)
                for k in ("internal_api", "version", "architecture", "num_threads", "filepath")
            }
            for i in threadpool_info()
        ],
        "notes": [
            "1.0.0's per-store UserWarnings are silenced with "
            "warnings.simplefilter('ignore') in the worker (both sides)",
            "1.0.0's HopfieldMemory() falls back to RandomIndexEncoder(dim=512)",
        ],
    }
    rows = build_rows(text, vec)
    print_report(meta, text, threads, vec, rows)
    meta["elapsed_s"] = time.perf_counter() - t_start
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta, "targets": rows, "text": text, "vector": vec, "threads": threads}
    stem = "core_quick" if args.quick else "core"  # a smoke test never overwrites a full run
    tmp = args.out / f"{stem}.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, args.out / f"{stem}.json")
    plot(
        args.out / f"{stem}.png",
        rows,
        threads,
        sizes,
        f"hopfield_memory core benchmark ({meta['mode']}, {meta['date']})",
    )
    print(
        f"\nwrote {args.out / (stem + '.json')} and {args.out / (stem + '.png')} "
        f"({meta['elapsed_s']:.0f} s)"
    )


if __name__ == "__main__":
    main()
