"""TieredMemory on a shared cold tier (PostgreSQL + pgvector): several memories, one set of facts.

Needs a server: ``HOPFIELD_MEMORY_TEST_POSTGRES`` or ``.ci/postgres`` (see conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import FACTS

from hopfield_memory import HopfieldMemory, TieredMemory
from hopfield_memory.cold.evaluation import clustered_unit_vectors, noisy_queries
from hopfield_memory.errors import InvalidInputError, UnknownIdError

pytestmark = pytest.mark.postgres
DIM = 48
SRC = str(Path(__file__).resolve().parents[1] / "src")


def shared(dsn: str, namespace: str, dim: int = DIM, **options: object) -> TieredMemory:
    return TieredMemory(dim=dim, cold=dsn, cold_options={"namespace": namespace}, **options)


def test_answers_equal_a_flat_memory_holding_the_same_facts(postgres_dsn: str) -> None:
    n = 60
    base = clustered_unit_vectors(n, DIM, n_clusters=12, seed=0)
    texts = [f"fact {i}" for i in range(n)]
    flat = HopfieldMemory(dim=DIM)
    flat.store_vectors(base, texts)
    mem = shared(postgres_dsn, uuid.uuid4().hex, max_hot=7, cold_top_k=n, hot_confidence=None)
    ids = mem.store_vectors(base, texts)
    assert len(mem) == n and mem.num_hot == 7 and mem.num_cold == n - 7
    assert [mem.get(i).text for i in ids] == texts
    cues, _ = noisy_queries(base, 25, noise=0.8, seed=1)
    for a, b in zip(flat.match_quality_vectors(cues), mem.match_quality_vectors(cues), strict=True):
        assert [c.text for c in a.candidates] == [c.text for c in b.candidates]
        assert a.is_match == b.is_match and a.reason == b.reason
        for key in ("max_similarity", "gap", "sentinel_weight", "top_confidence"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    hot = [i for i in ids if mem.tier_of(i) == "hot"]
    assert len(hot) == mem.num_hot == 7 and len(list(mem)) == n  # copies are not counted twice
    mem.close()


def test_writes_of_one_memory_reach_another(postgres_dsn: str, tmp_path: Path) -> None:
    namespace = uuid.uuid4().hex
    a = shared(postgres_dsn, namespace, max_hot=2, hot_confidence=None)
    b = shared(postgres_dsn, namespace, max_hot=2, hot_confidence=None)
    ids = a.store_many(FACTS, [{"n": i} for i in range(len(FACTS))])
    assert len(b) == len(FACTS) and b.get(ids[0]).metadata == {"n": 0}
    cue = "Eiffel Tower Paris"
    for _ in range(2):  # two wins promote the fact into b's hot layer (a copy)
        assert b.query_or_none(cue) == FACTS[0]
    assert b.tier_of(ids[0]) == "hot"
    a.update(ids[0], "The Eiffel Tower stands in Paris on the Champ de Mars", {"v": 2})
    assert b.query_or_none(cue) == "The Eiffel Tower stands in Paris on the Champ de Mars"
    assert b.get(ids[0]).metadata == {"v": 2}
    a.forget(ids[0])
    assert b.query_or_none(cue) is None and ids[0] not in b
    with pytest.raises(UnknownIdError):
        b.forget(ids[0])
    other = shared(postgres_dsn, uuid.uuid4().hex)  # another namespace sees none of it
    assert len(other) == 0 and other.query_or_none("violin") is None
    b.save(tmp_path / "snapshot.sqlite")  # a snapshot of every shared fact, readable flat
    assert sorted(HopfieldMemory.load(tmp_path / "snapshot.sqlite").all_facts()) == sorted(
        b.all_facts()
    )
    with pytest.raises(InvalidInputError, match="shared cold tier"):
        TieredMemory.open(tmp_path / "file.sqlite", cold=postgres_dsn)
    with pytest.raises(InvalidInputError, match="shared cold tier"):
        TieredMemory.load(tmp_path / "snapshot.sqlite", cold=postgres_dsn)
    a.clear()
    assert len(b) == 0 and b.num_hot == 0
    for memory in (a, b, other):
        memory.close()


WORKER = """
import sys, time
from hopfield_memory import TieredMemory
dsn, namespace = sys.argv[1], sys.argv[2]
worker, n, total = map(int, sys.argv[3:6])
mem = TieredMemory(dim=64, cold=dsn, cold_options={"namespace": namespace}, max_hot=5)
for i in range(0, n, 3):
    mem.store_many([f"worker {worker} fact {j} tag{worker}x{j}" for j in range(i, min(n, i + 3))])
deadline = time.monotonic() + 60
while len(mem) < total and time.monotonic() < deadline:
    time.sleep(0.05)
other = (worker + 1) % 4
found = mem.query_or_none(f"worker {other} fact 7 tag{other}x7")
print(len(mem), found, flush=True)
mem.close()
"""


def test_four_processes_share_one_memory_and_lose_nothing(postgres_dsn: str) -> None:
    namespace, per_worker = uuid.uuid4().hex, 30
    total = 4 * per_worker
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [postgres_dsn, namespace]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args, str(w), str(per_worker), str(total)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for w in range(4)
    ]
    for w, proc in enumerate(procs):
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        seen, found = out.strip().split(" ", 1)
        other = (w + 1) % 4
        assert int(seen) == total and found == f"worker {other} fact 7 tag{other}x7"
    mem = shared(postgres_dsn, namespace, dim=64)
    facts = list(mem)
    assert len(facts) == total and len({f.id for f in facts}) == total
    assert {f.text for f in facts} == {
        f"worker {w} fact {i} tag{w}x{i}" for w in range(4) for i in range(per_worker)
    }
    np.testing.assert_array_equal(  # vectors round-trip bit for bit
        mem.cold_tier.vectors(np.array([facts[0].id])),
        mem.encoder.encode_batch([facts[0].text]),
    )
    mem.close()
