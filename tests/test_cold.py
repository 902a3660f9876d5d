"""Cold tiers: one protocol, FAISS recall against the exact oracle, real deletes, persistence.

The protocol tests also run on the pgvector tier (marker ``postgres``; its own tests are in
tests/test_cold_pgvector.py), each in a namespace of its own.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hopfield_memory.cold import ColdTier, make_cold_tier
from hopfield_memory.cold.evaluation import (
    clustered_unit_vectors,
    exact_top_k,
    noisy_queries,
    recall_at_k,
)
from hopfield_memory.errors import (
    InvalidInputError,
    MissingExtraError,
    UnknownIdError,
)

pytest.importorskip("faiss")

DIM = 32
# Small IVF so that tests train it: 16 lists, trained at 640 vectors.
KINDS: dict[str, dict[str, Any]] = {
    "exact": {},
    "faiss-flat": {},
    "faiss-ivf": {"nlist": 16, "nprobe": 4},
}


@pytest.fixture(params=[*sorted(KINDS), pytest.param("pgvector", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(request: pytest.FixtureRequest) -> Callable[[str], ColdTier]:
    """Builds empty tiers; a pgvector tier gets the test server and a fresh namespace."""

    def build(kind: str) -> ColdTier:
        if kind != "pgvector":
            return make_cold_tier(kind, DIM, **KINDS[kind])
        dsn = request.getfixturevalue("postgres_dsn")
        tier = make_cold_tier(kind, DIM, dsn=dsn, namespace=uuid.uuid4().hex)
        request.addfinalizer(tier.close)  # type: ignore[attr-defined]
        return tier

    return build


def data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    base = clustered_unit_vectors(n, DIM, n_clusters=40, seed=seed)
    ids = np.arange(10, 10 + n, dtype=np.int64) * 3  # not row numbers
    return ids, base


def test_every_tier_follows_the_protocol(kind: str, make: Callable[[str], ColdTier]) -> None:
    tier = make(kind)
    assert isinstance(tier, ColdTier)
    assert tier.kind == kind and tier.dim == DIM and len(tier) == 0
    assert (tier.search(np.zeros(DIM, np.float32), 3) == -1).all()
    ids, base = data()
    tier.add(ids, base)
    assert len(tier) == len(ids)
    assert sorted(tier.ids().tolist()) == ids.tolist()
    assert int(ids[5]) in tier and -1 not in tier and "x" not in tier
    np.testing.assert_array_equal(tier.vectors(ids[[3, 1]]), base[[3, 1]])
    found = tier.search(base[:5], 4)
    assert found.shape == (5, 4) and found.dtype == np.int64
    assert found[:, 0].tolist() == ids[:5].tolist()  # a stored vector finds itself
    assert tier.config()["kind"] == kind


def test_tiers_reject_bad_input(kind: str, make: Callable[[str], ColdTier]) -> None:
    tier = make(kind)
    ids, base = data(100)
    tier.add(ids, base)
    with pytest.raises(InvalidInputError):
        tier.add(ids[:1], base[:1])  # already held
    with pytest.raises(InvalidInputError):
        tier.add(np.array([1, 1]), base[:2])
    with pytest.raises(InvalidInputError):
        tier.search(base[:1], 0)
    with pytest.raises(UnknownIdError):
        tier.remove(np.array([7]))
    with pytest.raises(UnknownIdError):
        tier.vectors(np.array([7]))
    assert len(tier) == 100


@pytest.mark.parametrize("approx", ["faiss-flat", "faiss-ivf"])
def test_faiss_recall_against_exact_oracle(approx: str, make: Callable[[str], ColdTier]) -> None:
    ids, base = data(4000)
    exact, tier = make("exact"), make(approx)
    exact.add(ids, base)
    tier.add(ids, base)
    queries, _ = noisy_queries(base, 200, noise=0.7, seed=3)
    truth = exact.search(queries, 10)
    np.testing.assert_array_equal(truth, ids[exact_top_k(base, queries, 10)])
    recall10 = recall_at_k(tier.search(queries, 10), truth)
    recall1 = recall_at_k(tier.search(queries, 10), truth[:, :1])  # candidates hold the best
    floor = 0.999 if approx == "faiss-flat" else 0.9
    assert recall10 >= floor, recall10
    assert recall1 >= max(floor, 0.95), recall1


def test_ivf_is_exact_until_trained_then_indexes(make: Callable[[str], ColdTier]) -> None:
    tier = make("faiss-ivf")
    ids, base = data(2000)
    tier.add(ids[:600], base[:600])
    assert not tier.is_trained  # type: ignore[attr-defined]
    exact = make("exact")
    exact.add(ids[:600], base[:600])
    np.testing.assert_array_equal(tier.search(base[:20], 5), exact.search(base[:20], 5))
    tier.add(ids[600:], base[600:])
    assert tier.is_trained  # type: ignore[attr-defined]
    assert len(tier) == 2000


def test_deletes_really_delete(kind: str, make: Callable[[str], ColdTier]) -> None:
    tier = make(kind)
    ids, base = data()
    tier.add(ids, base)
    gone = ids[::3]
    tier.remove(gone)
    assert len(tier) == len(ids) - len(gone)
    found = tier.search(base[::3], 10)  # each deleted vector as its own cue
    assert not np.isin(found, gone).any()
    assert not any(int(i) in tier for i in gone)
    kept = np.setdiff1d(ids, gone)
    assert sorted(tier.ids().tolist()) == kept.tolist()
    np.testing.assert_array_equal(tier.vectors(kept[:3]), base[np.isin(ids, kept[:3])])
    tier.add(gone[:5], base[::3][:5])  # a removed id can come back (a promoted/evicted fact)
    assert tier.search(base[:1], 1)[0, 0] == ids[0]


@pytest.mark.parametrize("approx", ["faiss-flat", "faiss-ivf"])
def test_missing_faiss_names_the_extra(approx: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_faiss(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "faiss" or name.startswith("faiss."):
            raise ImportError("No module named 'faiss'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    with pytest.raises(MissingExtraError, match=r"pip install 'mhn-ai-agent-memory\[scale\]'"):
        make_cold_tier(approx, DIM)


def test_unknown_kind() -> None:
    with pytest.raises(InvalidInputError, match="faiss-ivf"):
        make_cold_tier("annoy", DIM)
