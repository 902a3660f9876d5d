"""The pgvector cold tier beside the exact and FAISS tiers: insert rate, query latency, recall@10.

Data: seeded clustered unit vectors (dim 384) and noisy cues (cold/evaluation.py); truth is the
exact top 10. Every system runs in worker processes (this script with ``--worker``), one BLAS
thread each, started together; a barrier separates inserting from querying:

* 1 process: it inserts all n facts (batches of ``--batch``: ``add`` for the in-process tiers, one
  ``insert`` = one COPY transaction for pgvector), then times one ``search(cue, 10)`` per cue.
* 4 processes: pgvector: each inserts a quarter into ONE shared namespace, waits until it sees all
  n, then all four query the shared facts at once. The in-process tiers cannot share: each
  process builds its own full copy (4n rows inserted in all) and queries it.

Insert rate is rows inserted in all processes / wall time of the insert phase; latency is per
cue, pooled over processes; recall@10 is against the exact top 10 of all n facts. The PostgreSQL
server runs on the same two cores as the workers.

Run:  PYTHONPATH=src python benchmarks/bench_pgvector.py --sizes 100000
      (--dsn postgresql://... to use a running server; by default .ci/postgres starts one in a
      temporary folder and stops it afterwards)
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
import uuid
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from hopfield_memory.cold import ColdTier, make_cold_tier  # noqa: E402
from hopfield_memory.cold.evaluation import (  # noqa: E402
    clustered_unit_vectors,
    exact_top_k,
    noisy_queries,
    recall_at_k,
)
from hopfield_memory.presets import MASSIVE_IVF  # noqa: E402

DIM = 384
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SYSTEMS = ["exact", "faiss-flat", "faiss-ivf", "pgvector"]


def data(n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    base = clustered_unit_vectors(n, DIM, n_clusters=1000, seed=0)
    queries, _ = noisy_queries(base, n_queries, noise=0.7, seed=1)
    return base, queries


def barrier() -> None:
    """Tell the parent this phase is done; go on when it says so (all workers at once)."""
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()


def options(system: str, args: argparse.Namespace) -> dict[str, Any]:
    if system == "faiss-ivf":
        return dict(MASSIVE_IVF)  # as massive_memory uses it: trains at 81,920 facts
    if system == "pgvector":
        return {"dsn": args.dsn, "namespace": "bench", "table": args.table}
    return {}


def worker(args: argparse.Namespace) -> None:
    """One process: load data | insert its share | query its share of cues, then report."""
    base, queries = data(args.n, args.queries)
    shared = args.system == "pgvector"
    rows = np.array_split(np.arange(args.n), args.parts)[args.part] if shared else np.arange(args.n)
    tier: ColdTier = make_cold_tier(args.system, DIM, **options(args.system, args))
    barrier()
    start = time.time()
    ids = np.empty(args.n, dtype=np.int64)  # row -> id
    for chunk in np.array_split(rows, max(1, -(-len(rows) // args.batch))):
        if shared:
            texts = [f"fact {r}" for r in chunk.tolist()]
            ids[chunk] = tier.insert(base[chunk], texts)  # type: ignore[attr-defined]
        else:
            tier.add(chunk, base[chunk])
            ids[chunk] = chunk
    end = time.time()
    while shared and len(tier) < args.n:  # the others' quarters
        time.sleep(0.1)
    if shared:  # learn every row's id from the texts (each process knows only its own)
        all_ids = tier.ids()
        texts = tier.facts(all_ids)  # type: ignore[attr-defined]
        ids[[int(text.split()[1]) for text, _ in texts]] = all_ids
    barrier()
    mine = np.array_split(np.arange(len(queries)), args.parts)[args.part]
    for q in mine[:20]:  # warm up
        tier.search(queries[q], 10)
    times, found = [], []
    for q in mine.tolist():
        t0 = time.perf_counter()
        found.append(tier.search(queries[q], 10)[0].tolist())
        times.append(time.perf_counter() - t0)
    row_of = {int(i): r for r, i in enumerate(ids.tolist())}
    found_rows = [[row_of.get(i, -1) for i in f] for f in found]
    report = {"start": start, "end": end, "inserted": len(rows), "times": times}
    print(json.dumps({**report, "queries": mine.tolist(), "found": found_rows}), flush=True)
    if hasattr(tier, "close"):
        tier.close()


def run(system: str, n: int, parts: int, args: argparse.Namespace, truth: np.ndarray) -> dict:
    """Start ``parts`` workers, release them together, gather the figures."""
    table = f"bench_{uuid.uuid4().hex[:8]}"
    command = [sys.executable, __file__, "--worker", "--system", system, "--n", str(n)]
    command += ["--parts", str(parts), "--queries", str(args.queries), "--batch", str(args.batch)]
    command += ["--dsn", args.dsn or "", "--table", table]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    procs = [
        subprocess.Popen(
            [*command, "--part", str(p)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env,
        )
        for p in range(parts)
    ]  # fmt: skip
    for _phase in ("insert", "query"):
        for proc in procs:
            assert proc.stdout is not None and json.loads(proc.stdout.readline())["ready"]
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
    reports = [json.loads(proc.communicate(timeout=3600)[0]) for proc in procs]
    if system == "pgvector":
        drop_tables(args.dsn, table)
    inserted = sum(r["inserted"] for r in reports)
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    times = np.concatenate([r["times"] for r in reports]) * 1e3
    order = np.concatenate([r["queries"] for r in reports])
    found = np.array([f for r in reports for f in r["found"]])
    return {
        "system": system,
        "n": n,
        "processes": parts,
        "rows_inserted": inserted,
        "insert_per_s": round(inserted / wall, 1),
        "p50_ms": round(float(np.median(times)), 3),
        "p95_ms": round(float(np.percentile(times, 95)), 3),
        "recall@10": round(recall_at_k(found, truth[order]), 4),
        "queries": len(times),
    }


def drop_tables(dsn: str, table: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for suffix in (str(DIM), "namespaces", "changes"):
            conn.execute(f'DROP TABLE IF EXISTS "{table}_{suffix}"')
        conn.execute(f'DROP SEQUENCE IF EXISTS "{table}_ids"')


def report(rows: list[dict], out: Path) -> None:
    header = ["system", "n", "processes", "insert_per_s", "p50_ms", "p95_ms", "recall@10"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    lines += [" | ".join(str(r[h]) for h in header) for r in rows]
    print("\n".join(lines))
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_pgvector.json").write_text(json.dumps(rows, indent=1) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, key, title in zip(
        axes,
        ("insert_per_s", "p50_ms", "recall@10"),
        ("insert rate (facts/s, log)", "query p50 (ms, log)", "recall@10"),
        strict=True,
    ):
        for i, parts in enumerate(sorted({r["processes"] for r in rows})):
            sel = [r for r in rows if r["processes"] == parts and r["n"] == rows[-1]["n"]]
            x = np.arange(len(sel)) + 0.4 * i
            ax.bar(x, [r[key] for r in sel], width=0.4, label=f"{parts} process(es)")
            ax.set_xticks(np.arange(len(sel)) + 0.2, [r["system"] for r in sel], rotation=20)
        ax.set_title(title)
        if key != "recall@10":
            ax.set_yscale("log")
    axes[0].legend()
    fig.suptitle(f"cold tiers at n={rows[-1]['n']}, dim {DIM} (2 cores, server included)")
    fig.tight_layout()
    fig.savefig(out / "bench_pgvector.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dsn", default=None, help="default: start a server with .ci/postgres")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=5000, help="facts per insert call")
    parser.add_argument("--systems", nargs="+", default=SYSTEMS, choices=SYSTEMS)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("--system", "--table"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    for name in ("--n", "--part", "--parts"):
        parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    server = None
    if args.dsn is None and "pgvector" in args.systems:
        server = tempfile.mkdtemp(prefix="bench-pg-")
        script = str(REPO / ".ci" / "postgres")
        args.dsn = subprocess.run(
            [script, "start", server], check=True, capture_output=True, text=True
        ).stdout.split()[-1]
    rows = []
    try:
        for n in args.sizes:
            base, queries = data(n, args.queries)
            truth = exact_top_k(base, queries, 10)
            del base
            for parts in (1, 4):
                for system in args.systems:
                    print(f"n={n} {system} x{parts} ...", file=sys.stderr, flush=True)
                    rows.append(run(system, n, parts, args, truth))
                    print(rows[-1], file=sys.stderr, flush=True)
    finally:
        if server is not None:
            subprocess.run([str(REPO / ".ci" / "postgres"), "stop", server], check=False)
            shutil.rmtree(server, ignore_errors=True)
    report(rows, args.out)


if __name__ == "__main__":
    main()
