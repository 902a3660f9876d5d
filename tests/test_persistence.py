"""Snapshots: an identity through save/load, atomic, strict about what they read."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hopfield_memory import (
    EncoderMismatchError,
    GatePolicy,
    HopfieldMemory,
    PersistenceFormatError,
    RandomIndexEncoder,
)
from hopfield_memory.persistence import SnapshotNotFoundError, row_crc


def observable(mem: HopfieldMemory) -> tuple:
    return (
        [(f.id, f.text, f.metadata) for f in mem],
        [mem._store.vector(f.id).tobytes() for f in mem],
        mem._store.next_id,
        mem.policy,
        mem.parameters(),
        mem.encoder.spec,
    )


def test_round_trip_is_an_identity(mem: HopfieldMemory, tmp_path: Path) -> None:
    mem.forget(2)
    mem.policy = GatePolicy(min_similarity=0.4, source="tuned")
    path = tmp_path / "m.hmem"
    mem.save(path)
    loaded = HopfieldMemory.load(path)
    assert observable(loaded) == observable(mem)
    assert loaded.store("new fact after load") == mem._store.next_id
    assert loaded.query_or_none("Eiffel Tower Paris") == mem.query_or_none("Eiffel Tower Paris")


texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != "")
metadata = st.dictionaries(
    st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.booleans()), max_size=3
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(st.tuples(texts, metadata), max_size=15), beta=st.floats(1.0, 50.0))
def test_round_trip_property(tmp_path: Path, items: list, beta: float) -> None:
    mem = HopfieldMemory(dim=32, beta=beta, num_steps=None)
    if items:
        mem.store_many([t for t, _ in items], [m for _, m in items])
    path = tmp_path / "p.hmem"
    mem.save(path)
    assert observable(HopfieldMemory.load(path)) == observable(mem)


def test_save_replaces_atomically_and_leaves_no_temp(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    mem.store("one more fact about zebras")
    mem.save(path)
    assert len(HopfieldMemory.load(path)) == len(mem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.hmem"]


def test_failed_save_keeps_previous_file(mem: HopfieldMemory, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    before = path.read_bytes()
    mem.store("a fact that will not reach the disk")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        mem.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.hmem"]


def test_encoder_fingerprint_is_checked(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    with pytest.raises(EncoderMismatchError, match="not comparable"):
        HopfieldMemory.load(path, encoder=RandomIndexEncoder(seed=5))
    same = HopfieldMemory.load(path, encoder=RandomIndexEncoder())
    assert len(same) == len(mem)


def _corrupt(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(b"not a database at all"), "not an SQLite file"),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "damaged|not a hopfield"),
        (lambda p: _corrupt(p, "UPDATE meta SET value='99' WHERE key='format_version'"), "version"),
        (lambda p: _corrupt(p, "UPDATE meta SET value='\"other\"' WHERE key='format'"), "not a"),
        (lambda p: _corrupt(p, "DROP TABLE meta"), "not a hopfield-memory"),
        (lambda p: _corrupt(p, "UPDATE facts SET vector=x'00' WHERE id=0"), "wrong size"),
        (lambda p: _corrupt(p, "UPDATE namespaces SET dim=64"), "mismatched dimension"),
    ],
)
def test_bad_files_raise_format_errors_and_stay_untouched(
    mem: HopfieldMemory, tmp_path: Path, damage, message: str
) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    damage(path)
    before = path.read_bytes()
    with pytest.raises(PersistenceFormatError, match=message):
        HopfieldMemory.load(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.hmem"]


def test_nan_vectors_in_file_are_refused(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    nan_blob = np.full(mem.dim, np.nan, dtype="<f4").tobytes()
    with sqlite3.connect(path) as db:
        ns, text, meta = db.execute(
            "SELECT namespace, text, metadata FROM facts WHERE id=1"
        ).fetchone()
        crc = row_crc(1, ns, text, meta, nan_blob)  # a consistent row, so the NaN check must act
        db.execute("UPDATE facts SET vector=?, crc=? WHERE id=1", (nan_blob, crc))
    with pytest.raises(PersistenceFormatError, match="NaN"):
        HopfieldMemory.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFoundError) as info:
        HopfieldMemory.load(tmp_path / "nope.hmem")
    assert isinstance(info.value, FileNotFoundError)
