"""The pgvector cold tier against a real PostgreSQL server.

The ColdTier protocol tests of tests/test_cold.py run on this tier too; here (tests that need the
server are marked ``postgres`` and skip without one): recall against the
exact oracle, bit-exact vectors, namespaces, database ids with text and metadata, the change feed,
errors, and four processes writing one namespace at once. Every test uses namespaces of its own.
"""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hopfield_memory
from hopfield_memory import TieredMemory
from hopfield_memory.cold import make_cold_tier
from hopfield_memory.cold.evaluation import (
    clustered_unit_vectors,
    exact_top_k,
    noisy_queries,
    recall_at_k,
)
from hopfield_memory.errors import (
    ColdTierUnavailableError,
    DimensionMismatchError,
    InvalidInputError,
    InvalidTypeError,
    MissingExtraError,
    UnknownIdError,
)

pytest.importorskip("psycopg")
pytest.importorskip("pgvector")

from hopfield_memory.cold.postgres import PgVectorColdTier

DIM = 32
Opener = Callable[..., PgVectorColdTier]


@pytest.fixture
def open_tier(postgres_dsn: str) -> Iterator[Opener]:
    """Opens tiers on the test server, each in a fresh namespace unless one is given."""
    opened: list[PgVectorColdTier] = []

    def build(dim: int = DIM, **options: Any) -> PgVectorColdTier:
        options.setdefault("namespace", uuid.uuid4().hex)
        tier = PgVectorColdTier(postgres_dsn, dim, **options)
        opened.append(tier)
        return tier

    yield build
    for tier in opened:
        tier.close()


@pytest.mark.postgres
def test_hnsw_recall_against_exact_oracle(open_tier: Opener) -> None:
    base = clustered_unit_vectors(4000, DIM, n_clusters=40, seed=0)
    ids = np.arange(4000, dtype=np.int64) * 7
    tier = open_tier()
    tier.add(ids, base)
    queries, _ = noisy_queries(base, 200, noise=0.7, seed=3)
    truth = ids[exact_top_k(base, queries, 10)]
    found = tier.search(queries, 10)
    assert recall_at_k(found, truth) >= 0.95
    assert recall_at_k(found, truth[:, :1]) >= 0.98


@pytest.mark.postgres
def test_vectors_round_trip_bit_for_bit(open_tier: Opener) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, DIM)).astype(np.float32)
    vectors[0, :4] = [1e-38, -3.4e38, 1.0000001, -0.0]  # subnormal-adjacent, huge, ulp, -0
    tier = open_tier()
    ids = tier.insert(vectors, [f"f{i}" for i in range(50)])
    got = tier.vectors(ids)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), vectors.view(np.uint32))


@pytest.mark.postgres
def test_insert_facts_update_and_database_ids(open_tier: Opener) -> None:
    tier = open_tier()
    vectors = clustered_unit_vectors(6, DIM, n_clusters=2, seed=2)
    texts = ["zero", "one", "two", "three", "four", "five"]
    metas = [{"n": i, "tags": ["a", "ü"]} for i in range(5)] + [None]
    ids = tier.insert(vectors, texts, metas)
    assert ids.dtype == np.int64 and len(set(ids.tolist())) == 6
    assert len(tier) == 6
    assert tier.facts(ids[[5, 0, 3]]) == [("five", {}), ("zero", metas[0]), ("three", metas[3])]
    tier.update(int(ids[2]), vectors[4], "two, revised", {"v": 2})
    assert tier.facts(ids[2:3]) == [("two, revised", {"v": 2})]
    np.testing.assert_array_equal(tier.vectors(ids[2:3]), vectors[4:5])
    assert len(tier) == 6
    more = tier.insert(vectors[:2], ["six", "seven"])
    assert more.min() > ids.max()  # one sequence: later inserts get larger ids
    tier.add(np.array([int(more.max()) + 100]), vectors[:1])  # caller-chosen id ...
    assert tier.insert(vectors[:1], ["after"])[0] > more.max() + 100  # ... the sequence skips it
    assert tier.insert(np.zeros((0, DIM), np.float32), []).shape == (0,)


@pytest.mark.postgres
def test_bad_input_changes_nothing(open_tier: Opener) -> None:
    tier = open_tier()
    vectors = clustered_unit_vectors(3, DIM, n_clusters=1, seed=3)
    ids = tier.insert(vectors, ["a", "b", "c"])
    nan = vectors.copy()
    nan[1, 0] = np.nan
    bad_calls: list[tuple[type[Exception], Callable[[], Any]]] = [
        (DimensionMismatchError, lambda: tier.insert(vectors[:, :5], ["x"] * 3)),
        (InvalidInputError, lambda: tier.insert(nan, ["x"] * 3)),
        (InvalidInputError, lambda: tier.insert(vectors, ["x"] * 2)),
        (InvalidInputError, lambda: tier.insert(vectors, ["x", "y", "nul\x00"])),
        (InvalidTypeError, lambda: tier.insert(vectors, ["x", "y", 3])),  # type: ignore[list-item]
        (InvalidTypeError, lambda: tier.insert(vectors, ["x"] * 3, [{}, {}, {"s": {1, 2}}])),
        (InvalidInputError, lambda: tier.add(ids[:1], vectors[:1])),  # already held
        (UnknownIdError, lambda: tier.remove(np.array([ids[0], 10**12]))),
        (UnknownIdError, lambda: tier.vectors(np.array([10**12]))),
        (UnknownIdError, lambda: tier.facts(np.array([ids[1], 10**12]))),
        (UnknownIdError, lambda: tier.update(10**12, vectors[0], "x")),
        (DimensionMismatchError, lambda: tier.update(int(ids[0]), vectors[0, :5], "x")),
        (InvalidInputError, lambda: tier.remove(np.array([ids[0], ids[0]]))),
        (InvalidInputError, lambda: tier.changes_since(-1)),
        (InvalidInputError, lambda: tier.changes_since(10**9)),
    ]
    head = tier.changes_since(0)[0]
    for error, call in bad_calls:
        with pytest.raises(error):
            call()
    assert len(tier) == 3 and sorted(tier.ids().tolist()) == sorted(ids.tolist())
    assert tier.facts(ids) == [("a", {}), ("b", {}), ("c", {})]
    assert tier.changes_since(0)[0] == head


@pytest.mark.postgres
def test_namespaces_do_not_see_each_other(open_tier: Opener) -> None:
    base = clustered_unit_vectors(300, DIM, n_clusters=5, seed=4)
    ids = np.arange(300, dtype=np.int64)
    big, small = open_tier(), open_tier()
    big.add(ids, base)
    small.add(ids[:5] + 1000, base[:5])
    assert len(big) == 300 and len(small) == 5
    assert 1000 in small and 1000 not in big and 0 not in small
    found = small.search(base[:20], 10)  # fewer facts than k: all of them, then -1
    assert set(found[:, :5].ravel().tolist()) == set(range(1000, 1005))
    assert (found[:, 5:] == -1).all()
    assert not np.isin(big.search(base[:20], 10), ids[:5] + 1000).any()
    small.remove(np.array([1000]))
    assert len(big) == 300 and 0 in big
    other_dim = open_tier(16, namespace=small.namespace + "-16")  # another dim, another table
    other_dim.add(ids[:3], clustered_unit_vectors(3, 16, n_clusters=1))
    assert len(other_dim) == 3 and len(small) == 4
    with pytest.raises(DimensionMismatchError, match="use another namespace"):
        open_tier(16, namespace=small.namespace)


@pytest.mark.postgres
def test_a_small_namespace_beside_a_large_one_still_gets_k(open_tier: Opener) -> None:
    base = clustered_unit_vectors(2000, DIM, n_clusters=20, seed=5)
    big, small = open_tier(), open_tier()
    big.add(np.arange(1950), base[:1950])
    small.add(np.arange(50), base[1950:])
    truth = exact_top_k(base[1950:], base[:10], 8)
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        small._conn.execute(f"SET {setting} = off")  # walk the HNSW graph, filtering by namespace
    found = small.search(base[:10], 8)  # the iterative scan: k distinct rows of this namespace
    assert ((found >= 0) & (found < 50)).all() and all(len(set(r)) == 8 for r in found.tolist())
    # (how close to the exact best they are varies with the random graph: cues far from every
    # row of the namespace; recall on ordinary data is asserted above)
    # A walk cut short (as on pgvector < 0.8) leaves too few rows: the search is redone exactly.
    small._conn.execute("SET hnsw.iterative_scan = off")
    small._conn.execute("SET hnsw.ef_search = 1")
    np.testing.assert_array_equal(small.search(base[:10], 8), truth)


@pytest.mark.postgres
def test_change_feed(open_tier: Opener) -> None:
    tier = open_tier()
    vectors = clustered_unit_vectors(5, DIM, n_clusters=1, seed=6)
    assert tier.changes_since(0)[0] == 0
    a = tier.insert(vectors[:3], ["a", "b", "c"])
    seq, added, removed = tier.changes_since(0)
    assert seq == 1 and sorted(added.tolist()) == sorted(a.tolist()) and removed.size == 0
    assert [part.size for part in tier.changes_since(seq)[1:]] == [0, 0]
    b = tier.insert(vectors[3:], ["d", "e"])
    tier.remove(np.array([a[0], b[0]]))  # b[0] added and removed after seq: only in removed
    tier.update(int(a[1]), vectors[0], "b2")
    seq2, added, removed = tier.changes_since(seq)
    assert seq2 == 4
    assert sorted(added.tolist()) == sorted([int(a[1]), int(b[1])])
    assert sorted(removed.tolist()) == sorted([int(a[0]), int(b[0])])
    _, added, removed = tier.changes_since(0)  # from scratch: exactly what is held now
    assert sorted(added.tolist()) == sorted(tier.ids().tolist())
    assert sorted(removed.tolist()) == sorted([int(a[0]), int(b[0])])


@pytest.mark.postgres
def test_config_repr_and_snapshots_never_hold_the_password(
    postgres_dsn: str, tmp_path: Path
) -> None:
    password = "Sup3r-s3cret-pw"  # the test server trusts 127.0.0.1, so any password connects
    with_password = postgres_dsn.replace("postgres@", f"postgres:{password}@")
    assert password in with_password
    namespace = uuid.uuid4().hex
    tier = PgVectorColdTier(with_password, DIM, namespace=namespace)
    memory = TieredMemory(dim=DIM, cold=with_password, cold_options={"namespace": namespace})
    try:
        tier.add(np.array([4]), clustered_unit_vectors(1, DIM, n_clusters=1))
        assert password not in json.dumps(tier.config()) and password not in repr(tier)
        assert password not in repr(memory) and len(memory) == 1
        memory.save(tmp_path / "snapshot.sqlite")
        assert password.encode() not in (tmp_path / "snapshot.sqlite").read_bytes()
    finally:
        tier.close()
        memory.close()


def test_unreachable_or_unparsable_dsn_is_a_clear_error_without_password() -> None:
    password = "Sup3r-s3cret-pw"
    with pytest.raises(ColdTierUnavailableError, match="unavailable") as refused:
        PgVectorColdTier(f"postgresql://someone:{password}@127.0.0.1:1/db", DIM)
    assert password not in str(refused.value) and "127.0.0.1" in str(refused.value)
    with pytest.raises(InvalidInputError) as unparsable:
        PgVectorColdTier(f"postgresql://someone:{password} x@@127.0.0.1:1/db", DIM)
    assert password not in str(unparsable.value)
    with pytest.raises(InvalidInputError, match="dsn"):
        make_cold_tier("pgvector", DIM)
    with pytest.raises(InvalidInputError, match="table"):
        PgVectorColdTier("postgresql://x@127.0.0.1:1/db", DIM, table="facts; DROP TABLE x")


@pytest.mark.postgres
def test_a_closed_tier_says_so(open_tier: Opener) -> None:
    tier = open_tier()
    tier.close()
    with pytest.raises(ColdTierUnavailableError):
        len(tier)


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("psycopg", "pgvector"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(MissingExtraError, match=r"pip install 'mhn-ai-agent-memory\[postgres\]'"):
        make_cold_tier("pgvector", DIM, dsn="postgresql://x@127.0.0.1:1/db")


WORKER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from hopfield_memory.cold.postgres import PgVectorColdTier

    dsn, namespace, worker, batches, per_batch, total = sys.argv[1:]
    worker, batches, per_batch, total = int(worker), int(batches), int(per_batch), int(total)
    tier = PgVectorColdTier(dsn, 8, namespace=namespace)
    rng = np.random.default_rng(worker)
    seq, seen, mine = 0, set(), []
    for b in range(batches):
        texts = [f"w{worker}-{b}-{i}" for i in range(per_batch)]
        mine += tier.insert(rng.standard_normal((per_batch, 8)), texts).tolist()
        seq, added, removed = tier.changes_since(seq)  # follow the feed while others write
        seen |= set(added.tolist())
    deadline = time.monotonic() + 60
    while len(seen) < total and time.monotonic() < deadline:
        seq, added, removed = tier.changes_since(seq)
        seen |= set(added.tolist())
        time.sleep(0.02)
    print(json.dumps({"mine": mine, "seen": sorted(seen), "ids": sorted(tier.ids().tolist())}))
    tier.close()
    """
)


@pytest.mark.postgres
def test_four_processes_write_one_namespace_and_lose_nothing(postgres_dsn: str) -> None:
    namespace, batches, per_batch, workers = uuid.uuid4().hex, 5, 40, 4
    total = workers * batches * per_batch
    src = str(Path(hopfield_memory.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    args = [postgres_dsn, namespace, "", str(batches), str(per_batch), str(total)]
    procs = []
    for w in range(workers):
        args[2] = str(w)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    every = sorted(i for r in reports for i in r["mine"])
    assert len(every) == total and len(set(every)) == total  # no id given twice
    for report in reports:
        assert report["seen"] == every  # the change feed missed nothing
        assert report["ids"] == every
    tier = PgVectorColdTier(postgres_dsn, 8, namespace=namespace)
    try:
        assert len(tier) == total
        texts = [text for text, _ in tier.facts(np.array(every))]
        expected = {f"w{w}-{b}-{i}" for w in range(4) for b in range(batches) for i in range(40)}
        assert sorted(texts) == sorted(expected)
        for w, report in enumerate(reports):  # each process's ids carry its own texts, in order
            mine = [text for text, _ in tier.facts(np.array(report["mine"]))]
            assert mine == [f"w{w}-{b}-{i}" for b in range(batches) for i in range(per_batch)]
    finally:
        tier.close()
