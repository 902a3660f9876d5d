"""How HopfieldMemory uses its encoder: batches, progress, the cue cache, re-encoding."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pytest

from hopfield_memory import (
    DimensionMismatchError,
    GatePolicy,
    HopfieldMemory,
    InvalidInputError,
    RandomIndexEncoder,
)
from hopfield_memory.encoders.base import EncoderSpec
from hopfield_memory.memory import ENCODE_BATCH


class CountingEncoder:
    """The hashing encoder, counting every text it is asked to encode."""

    def __init__(self, dim: int = 64, seed: int = 0, broken: str | None = None) -> None:
        self.inner = RandomIndexEncoder(dim=dim, seed=seed)
        self.calls: list[int] = []
        self.broken = broken

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def spec(self) -> EncoderSpec:
        return self.inner.spec

    @property
    def default_policy(self) -> GatePolicy:
        return GatePolicy(min_similarity=0.2, source="counting")

    def encode(self, text: str) -> np.ndarray:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = self.inner.encode_batch(texts)
        if self.broken == "nan":
            out[:] = np.nan
        if self.broken == "shape":
            out = out[:, :-1]
        return out


def test_repeated_cues_are_encoded_once() -> None:
    enc = CountingEncoder()
    mem = HopfieldMemory(enc)
    mem.store_many(["alpha beta gamma", "delta epsilon zeta"])
    enc.calls.clear()
    for _ in range(5):
        mem.query_or_none("alpha beta")
    mem.query_or_none_many(["alpha beta", "delta", "delta"])
    assert enc.calls == [1, 1]


def test_cue_cache_is_bounded_and_can_be_disabled() -> None:
    enc = CountingEncoder()
    mem = HopfieldMemory(enc, cue_cache_size=2)
    mem.store("alpha beta gamma")
    for cue in ["one", "two", "three", "one"]:
        mem.query_or_none(cue)
    assert len(mem._cue_cache) == 2
    assert sum(enc.calls) == 1 + 4  # "one" was evicted before it came back
    off = HopfieldMemory(CountingEncoder(), cue_cache_size=0)
    off.store("alpha")
    off.query_or_none("alpha")
    off.query_or_none("alpha")
    assert len(off._cue_cache) == 0


def test_store_many_encodes_in_batches_with_progress(caplog: pytest.LogCaptureFixture) -> None:
    enc = CountingEncoder(dim=16)
    mem = HopfieldMemory(enc)
    n = ENCODE_BATCH * 2 + 5
    with caplog.at_level(logging.INFO, logger="hopfield_memory.progress"):
        ids = mem.store_many([f"fact {i}" for i in range(n)], progress=False)
    assert enc.calls == [ENCODE_BATCH, ENCODE_BATCH, 5]
    assert ids == list(range(n))
    assert f"encoding: {n}/{n}" in caplog.text


@pytest.mark.parametrize(
    ("broken", "error"), [("nan", InvalidInputError), ("shape", DimensionMismatchError)]
)
def test_an_encoder_that_breaks_its_contract_stores_nothing(broken: str, error: type) -> None:
    enc = CountingEncoder()
    mem = HopfieldMemory(enc)
    mem.store("kept fact")
    enc.broken = broken
    with pytest.raises(error, match="encoder"):
        mem.store_many(["one", "two"])
    assert mem.all_facts() == ["kept fact"]


def test_reencode_switches_geometry_and_keeps_ids() -> None:
    mem = HopfieldMemory(dim=64)
    ids = mem.store_many(["cats purr", "dogs bark", "birds sing"], [{"a": 1}, None, None])
    mem.forget(ids[1])
    mem.query_or_none("cats")
    new = CountingEncoder(dim=32, seed=9)
    mem.reencode(new)
    assert mem.encoder is new and mem.dim == 32
    assert [(f.id, f.text, f.metadata) for f in mem] == [
        (0, "cats purr", {"a": 1}),
        (2, "birds sing", {}),
    ]
    np.testing.assert_allclose(mem._store.vector(0), new.inner.encode("cats purr"), atol=1e-6)
    assert mem.policy.source == "counting"
    assert mem.query_or_none("cats") == "cats purr"
    assert mem.store("fish swim") == 3


def test_failed_reencode_changes_nothing() -> None:
    mem = HopfieldMemory(dim=64)
    mem.store_many(["cats purr", "dogs bark"])
    before = (mem.encoder, mem._store.patterns.copy(), mem.policy)
    with pytest.raises(InvalidInputError):
        mem.reencode(CountingEncoder(dim=32, broken="nan"))
    assert mem.encoder is before[0] and mem.policy == before[2]
    np.testing.assert_array_equal(mem._store.patterns, before[1])


def test_load_can_reencode_with_another_encoder(tmp_path) -> None:
    from hopfield_memory import EncoderMismatchError

    mem = HopfieldMemory(dim=64, repulsive=True)
    ids = mem.store_many(["cats purr", "dogs bark", "birds sing"], [{"a": 1}, None, None])
    mem.forget(ids[1])
    mem.store_negative("never say this")
    mem.save(tmp_path / "m.hmem")
    new = CountingEncoder(dim=32, seed=9)
    with pytest.raises(EncoderMismatchError):
        HopfieldMemory.load(tmp_path / "m.hmem", encoder=new)
    moved = HopfieldMemory.load(tmp_path / "m.hmem", encoder=new, reencode=True)
    assert moved.encoder is new and moved.dim == 32
    assert [(f.id, f.text, f.metadata) for f in moved] == [
        (0, "cats purr", {"a": 1}),
        (2, "birds sing", {}),
    ]
    np.testing.assert_allclose(moved._store.vector(2), new.inner.encode("birds sing"), atol=1e-6)
    assert [f.text for f in moved.negatives()] == ["never say this"]
    assert moved.policy.source == "counting"
    assert moved.store("fish swim") == 3


def test_a_file_of_an_older_built_in_encoder_is_reencoded_on_request(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hopfield_memory import EncoderMismatchError
    from hopfield_memory.encoders import hashing

    path = tmp_path / "old.hmem"
    mem = HopfieldMemory(dim=64)
    mem.store_many(["cats purr", "dogs bark", "birds sing"])
    with monkeypatch.context() as older:
        older.setattr(hashing, "RECIPE_VERSION", "0")  # as an earlier release wrote it
        mem.save(path)
    for opening in (HopfieldMemory.load, HopfieldMemory.open):
        with pytest.raises(EncoderMismatchError, match="reencode=True"):
            opening(path)
    moved = HopfieldMemory.load(path, reencode=True)
    assert moved.encoder.spec == RandomIndexEncoder(dim=64).spec
    assert [f.text for f in moved] == ["cats purr", "dogs bark", "birds sing"]
    assert moved.query_or_none("dogs barking") == "dogs bark"


def test_store_many_writes_the_encoders_rows_in_place() -> None:
    texts = [f"fact {i} about topic {i % 5}" for i in range(ENCODE_BATCH + 10)]
    mem = HopfieldMemory(dim=64)
    mem.store("a first fact")
    ids = mem.store_many(texts)
    assert ids == list(range(1, len(texts) + 1))
    expected = RandomIndexEncoder(dim=64).encode_batch(texts)
    np.testing.assert_array_equal(mem._store.patterns[1:], expected)


def test_encode_into_fills_given_rows_and_checks_them() -> None:
    enc = RandomIndexEncoder(dim=32)
    texts = [f"text {i}" for i in range(20)]
    out = np.full((20, 32), 7.0, dtype=np.float32)
    enc.encode_into(texts, out)
    np.testing.assert_array_equal(out, enc.encode_batch(texts))
    for bad in (np.zeros((19, 32), np.float32), np.zeros((20, 32), np.float64)):
        with pytest.raises(InvalidInputError, match="out must be float32"):
            enc.encode_into(texts, bad)
