"""Durable store and snapshots, side by side with mhn-ai-agent-memory 1.0 JSON save/load.

Measures, at dim 384 (the size of small sentence-embedding models):

* durable write throughput (facts/s): one ``store`` per call (synchronous FULL and NORMAL),
  ``store_many`` in batches of 1,000 texts, ``store_vectors`` in batches of 10,000 vectors;
* ``HopfieldMemory.open`` time vs N (the in-RAM matrix rebuilt from the file, checksums verified);
* snapshot ``save``/``load`` time and file size vs N;
* mhn-ai-agent-memory 1.0 ``save``/``load`` (JSON) time and size vs N, run in a subprocess of a
  separate virtual environment (created with ``python -m venv`` + pip if missing).

Prints a table and writes ``benchmarks/results/bench_durable.png`` (and ``.json``).

    PYTHONPATH=src python benchmarks/bench_durable.py            # full run (1M facts, minutes)
    PYTHONPATH=src python benchmarks/bench_durable.py --quick    # small sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hopfield_memory import HopfieldMemory, RandomIndexEncoder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DIM = 384
BASELINE_VENV = Path(os.environ.get("HOPFIELD_BASELINE_VENV", "/work/baseline-venv"))
BASELINE_REQ = "mhn-ai-agent-memory==1.0.0"

BASELINE_SCRIPT = r"""
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
from hopfield_memory import HopfieldMemory
from hopfield_memory.encoders import RandomIndexEncoder
n, dim, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mem = HopfieldMemory(encoder=RandomIndexEncoder(dim=dim))
for i in range(n):
    mem.store(f"fact number {i} about topic{i % 997} and item{i}")
t0 = time.perf_counter(); mem.save(path); t_save = time.perf_counter() - t0
t0 = time.perf_counter(); loaded = HopfieldMemory.load(path, encoder=RandomIndexEncoder(dim=dim))
t_load = time.perf_counter() - t0
assert len(loaded.facts) == len(mem.facts)
print(json.dumps({"save_s": t_save, "load_s": t_load, "bytes": os.path.getsize(path)}))
"""


def texts_for(start: int, n: int) -> list[str]:
    return [f"fact number {i} about topic{i % 997} and item{i}" for i in range(start, start + n)]


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


# ------------------------------------------------------------------------------ measurements


def throughput(work: Path, singles: int, batched: int) -> dict[str, float]:
    enc = RandomIndexEncoder(dim=DIM)
    out: dict[str, float] = {}
    for durability in ("full", "normal"):
        path = work / f"single-{durability}.db"
        with HopfieldMemory.open(path, encoder=enc, durability=durability) as mem:
            items = texts_for(0, singles)
            dt, _ = timed(lambda mem=mem, items=items: [mem.store(t) for t in items])
        out[f"store() durable {durability}"] = singles / dt
    mem_ram = HopfieldMemory(enc)
    dt, _ = timed(lambda: [mem_ram.store(t) for t in texts_for(0, singles)])
    out["store() in RAM (reference)"] = singles / dt
    with HopfieldMemory.open(work / "batch.db", encoder=enc) as mem:
        dt, _ = timed(lambda: [mem.store_many(texts_for(s, 1000)) for s in range(0, batched, 1000)])
    out["store_many(1000) durable full"] = batched / dt
    rng = np.random.default_rng(0)
    vecs = unit_rows(rng, batched)
    names = texts_for(0, batched)
    with HopfieldMemory.open(work / "vectors.db", encoder=enc) as mem:
        dt, _ = timed(
            lambda: [
                mem.store_vectors(vecs[s : s + 10_000], names[s : s + 10_000])
                for s in range(0, batched, 10_000)
            ]
        )
    out["store_vectors(10000) durable full"] = batched / dt
    return out


def build_durable(path: Path, n: int) -> float:
    """A durable file with n facts at dim 384 (random unit vectors); returns seconds taken."""
    rng = np.random.default_rng(n)
    t0 = time.perf_counter()
    with HopfieldMemory.open(path, encoder=RandomIndexEncoder(dim=DIM), durability="normal") as m:
        for s in range(0, n, 50_000):
            k = min(50_000, n - s)
            m.store_vectors(unit_rows(rng, k), texts_for(s, k))
    return time.perf_counter() - t0


def sizes_run(work: Path, sizes: list[int]) -> list[dict[str, float]]:
    rows = []
    for n in sizes:
        path = work / f"durable-{n}.db"
        build_s = build_durable(path, n)
        open_s, mem = timed(lambda path=path: HopfieldMemory.open(path))
        assert len(mem) == n
        snap = work / f"snap-{n}.hmem"
        save_s, _ = timed(lambda mem=mem, snap=snap: mem.save(snap))
        mem.close()
        del mem
        load_s, loaded = timed(lambda snap=snap: HopfieldMemory.load(snap))
        assert len(loaded) == n
        del loaded
        rows.append(
            {
                "n": n,
                "build_s": build_s,
                "open_s": open_s,
                "durable_bytes": file_bytes(path),
                "save_s": save_s,
                "load_s": load_s,
                "snapshot_bytes": snap.stat().st_size,
            }
        )
        path.unlink()
        snap.unlink()
        print(f"  n={n:>9,}: open {open_s:.2f} s, save {save_s:.2f} s, load {load_s:.2f} s")
    return rows


def baseline_python() -> Path | None:
    """The python of a venv with mhn-ai-agent-memory 1.0 (created if missing), or None."""
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", BASELINE_REQ], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"baseline venv unavailable ({exc}); skipping the 1.0 comparison")
            return None
    return python


def baseline_run(work: Path, sizes: list[int]) -> list[dict[str, float]]:
    python = baseline_python()
    if python is None:
        return []
    rows = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for n in sizes:
        path = work / f"baseline-{n}.json"
        proc = subprocess.run(
            [str(python), "-c", BASELINE_SCRIPT, str(n), str(DIM), str(path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            check=False,
        )
        if proc.returncode != 0:
            print(f"baseline failed at n={n}: {proc.stderr[-500:]}")
            break
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["n"] = n
        rows.append(row)
        path.unlink(missing_ok=True)
        print(f"  1.0 n={n:>9,}: save {row['save_s']:.2f} s, load {row['load_s']:.2f} s")
    return rows


# ---------------------------------------------------------------------------------- output


def print_tables(result: dict[str, Any]) -> None:
    print("\nDurable write throughput (dim 384, facts/s)")
    for name, rate in result["throughput"].items():
        print(f"  {name:<36} {rate:>12,.0f}")
    base = {row["n"]: row for row in result["baseline"]}
    print(
        "\n{:>10} | {:>8} {:>9} | {:>8} {:>8} {:>9} | {:>9} {:>9} {:>9}".format(
            "N", "open s", "file MB", "save s", "load s", "snap MB", "1.0 save", "1.0 load",
            "1.0 MB",
        )
    )  # fmt: skip
    for n in sorted({row["n"] for row in result["sizes"]} | set(base)):
        ours = next((r for r in result["sizes"] if r["n"] == n), None)
        old = base.get(n)
        cells = (
            [
                f"{ours['open_s']:8.2f}",
                f"{ours['durable_bytes'] / 1e6:9.1f}",
                f"{ours['save_s']:8.2f}",
                f"{ours['load_s']:8.2f}",
                f"{ours['snapshot_bytes'] / 1e6:9.1f}",
            ]
            if ours
            else ["-".rjust(8), "-".rjust(9), "-".rjust(8), "-".rjust(8), "-".rjust(9)]
        )
        cells += (
            [f"{old['save_s']:9.2f}", f"{old['load_s']:9.2f}", f"{old['bytes'] / 1e6:9.1f}"]
            if old
            else ["-".rjust(9)] * 3
        )
        print(
            f"{n:>10,} | {cells[0]} {cells[1]} | {cells[2]} {cells[3]} {cells[4]} | "
            f"{cells[5]} {cells[6]} {cells[7]}"
        )


def plot(result: dict[str, Any], out: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_s) = plt.subplots(1, 2, figsize=(13, 5))
    sizes, base = result["sizes"], result["baseline"]
    ns = [r["n"] for r in sizes]
    ax_t.loglog(ns, [r["open_s"] for r in sizes], "o-", label="2.0 open (durable file)")
    ax_t.loglog(ns, [r["save_s"] for r in sizes], "s-", label="2.0 save (snapshot)")
    ax_t.loglog(ns, [r["load_s"] for r in sizes], "^-", label="2.0 load (snapshot)")
    if base:
        bn = [r["n"] for r in base]
        ax_t.loglog(bn, [r["save_s"] for r in base], "s--", label="1.0 save (JSON)")
        ax_t.loglog(bn, [r["load_s"] for r in base], "^--", label="1.0 load (JSON)")
    ax_t.set(xlabel="facts (dim 384)", ylabel="seconds", title="Open / save / load time")
    ax_t.grid(True, which="both", alpha=0.3)
    ax_t.legend()
    ax_s.loglog(ns, [r["durable_bytes"] / 1e6 for r in sizes], "o-", label="2.0 durable file")
    ax_s.loglog(ns, [r["snapshot_bytes"] / 1e6 for r in sizes], "s-", label="2.0 snapshot")
    if base:
        ax_s.loglog(
            [r["n"] for r in base], [r["bytes"] / 1e6 for r in base], "s--", label="1.0 JSON"
        )
    ax_s.set(xlabel="facts (dim 384)", ylabel="MB", title="File size")
    ax_s.grid(True, which="both", alpha=0.3)
    ax_s.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--max-n", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.quick:
        sizes, base_sizes, singles, batched = [1_000, 10_000], [1_000], 200, 10_000
    else:
        sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= args.max_n]
        base_sizes, singles, batched = [1_000, 10_000, 30_000], 2_000, 100_000
    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_durable_"))
    try:
        print("throughput ...")
        result: dict[str, Any] = {"throughput": throughput(work, singles, batched)}
        print("open / save / load vs N ...")
        result["sizes"] = sizes_run(work, sizes)
        print("mhn-ai-agent-memory 1.0 JSON save / load vs N ...")
        result["baseline"] = baseline_run(work, base_sizes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_tables(result)
    stem = "bench_durable_quick" if args.quick else "bench_durable"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2))
    plot(result, RESULTS / f"{stem}.png")
    print(f"\nwrote {RESULTS / (stem + '.png')}")


if __name__ == "__main__":
    main()
