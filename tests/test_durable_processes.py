"""Several processes on one durable file: SIGKILL at random points, concurrent writers; for
HopfieldMemory and for TieredMemory (whose facts also move between tiers while they write)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hopfield_memory import HopfieldMemory, TieredMemory

SRC = str(Path(__file__).resolve().parents[1] / "src")

CRASH_WRITER = """
import sys
from hopfield_memory import HopfieldMemory
path, run = sys.argv[1], int(sys.argv[2])
mem = HopfieldMemory.open(path, dim=64)
print("ready", flush=True)
i = 0
while True:
    if i % 7 == 3:
        texts = [f"run {run} batch {i} item {k} word{i * 13 + k}" for k in range(5)]
        ids = mem.store_many(texts, [{"run": run, "i": i, "k": k} for k in range(5)])
        for fact_id, text in zip(ids, texts):
            print("stored", fact_id, text, flush=True)
    elif i % 11 == 5 and len(mem) > 0:
        victim = next(iter(mem)).id
        print("forgetting", victim, flush=True)  # a kill from here on may or may not forget it
        mem.forget(victim)
        print("forgot", victim, flush=True)
    else:
        text = f"run {run} single {i} word{i * 13}"
        fact_id = mem.store(text, {"run": run, "i": i})
        print("stored", fact_id, text, flush=True)
    i += 1
"""

CONCURRENT_WORKER = """
import sys, time
from hopfield_memory import HopfieldMemory
path, worker, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mem = HopfieldMemory.open(path, dim=64, durability=sys.argv[5])
mine = []
i = 0
while i < n:
    if i % 5 == 0 and i + 3 <= n:
        texts = [f"worker {worker} fact {j} tag{worker}x{j}" for j in range(i, i + 3)]
        mine += mem.store_many(texts)
        i += 3
    else:
        mine.append(mem.store(f"worker {worker} fact {i} tag{worker}x{i}"))
        i += 1
    if i % 10 == 0:  # read back through the memory: our own facts are always there
        best = mem.recall_or_none(f"worker {worker} fact {i - 1} tag{worker}x{i - 1}")
        assert best is not None and best.id == mine[-1], (best, mine[-1])
deadline = time.monotonic() + 60
while len(mem) < total and time.monotonic() < deadline:  # everyone else's facts arrive
    time.sleep(0.01)
print(len(mem), len(set(mine)), flush=True)
"""


CLASSES = ["HopfieldMemory", "TieredMemory"]


def _script(template: str, memory_class: str) -> str:
    """The worker ``template`` written for ``memory_class`` (a small hot layer for tiers)."""
    if memory_class == "HopfieldMemory":
        return template
    opened = template.replace("HopfieldMemory", "TieredMemory")
    return opened.replace("dim=64", "dim=64, max_hot=8")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _check_file(
    path: Path, acked: dict[int, str], forgotten: set[int], forgetting: set[int]
) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with HopfieldMemory.open(path) as mem:
        encoder = mem.encoder
        for fact_id, text in acked.items():
            if fact_id in forgotten:
                assert fact_id not in mem
                continue
            if fact_id in forgetting and fact_id not in mem:
                continue  # killed during a forget that was asked for but not acknowledged
            fact = mem.get(fact_id)
            assert fact.text == text
            vector = mem._store.vector(fact_id)
            np.testing.assert_array_equal(vector, encoder.encode_batch([text])[0])
        interrupted = {i for i in forgetting - forgotten if i not in mem}  # may have committed
        assert len(mem) >= len(set(acked) - forgotten - interrupted)
        flat = list(mem)
    with TieredMemory.open(path, max_hot=8) as tiered:  # the same file, facts placed in tiers
        assert list(tiered) == flat
        assert tiered.store("the file still takes writes") not in acked


def _kill_runs(path: Path, runs: int, seed: int, memory_class: str) -> None:
    rng = random.Random(seed)
    acked: dict[int, str] = {}
    forgotten: set[int] = set()
    forgetting: set[int] = set()
    for run in range(runs):
        proc = subprocess.Popen(
            [sys.executable, "-c", _script(CRASH_WRITER, memory_class), str(path), str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        for line in out.split("\n")[:-1]:  # complete lines only: a kill can cut the last one
            kind, rest = line.split(" ", 1)
            if kind == "stored":
                fact_id, text = rest.split(" ", 1)
                acked[int(fact_id)] = text
            elif kind == "forgetting":
                forgetting.add(int(rest))
            elif kind == "forgot":
                forgotten.add(int(rest))
        _check_file(path, acked, forgotten, forgetting)
    assert len(acked) > runs  # the writers got somewhere before being killed


@pytest.mark.parametrize("memory_class", CLASSES)
def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path, memory_class: str) -> None:
    _kill_runs(tmp_path / "m.db", runs=8, seed=1, memory_class=memory_class)


@pytest.mark.slow
@pytest.mark.parametrize("memory_class", CLASSES)
def test_sigkill_many_times(tmp_path: Path, memory_class: str) -> None:
    _kill_runs(tmp_path / "m.db", runs=60, seed=2, memory_class=memory_class)


def _concurrent(
    path: Path, workers: int, per_worker: int, durability: str, memory_class: str
) -> None:
    total = workers * per_worker
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _script(CONCURRENT_WORKER, memory_class),
                str(path),
                str(w),
                str(per_worker),
                str(total),
                durability,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            text=True,
        )
        for w in range(workers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
        seen, own = map(int, out.split())
        assert (seen, own) == (total, per_worker)
    with HopfieldMemory.open(path) as mem:
        facts = list(mem)
        assert len(facts) == total
        assert len({f.id for f in facts}) == total
        assert {f.text for f in facts} == {
            f"worker {w} fact {i} tag{w}x{i}" for w in range(workers) for i in range(per_worker)
        }


@pytest.mark.parametrize("memory_class", CLASSES)
def test_concurrent_processes_lose_nothing(tmp_path: Path, memory_class: str) -> None:
    _concurrent(
        tmp_path / "m.db", workers=3, per_worker=60, durability="full", memory_class=memory_class
    )


@pytest.mark.slow
@pytest.mark.parametrize("memory_class", CLASSES)
def test_concurrent_processes_many_writes(tmp_path: Path, memory_class: str) -> None:
    _concurrent(
        tmp_path / "m.db", workers=4, per_worker=500, durability="normal", memory_class=memory_class
    )
