"""The durable store: write-through, several handles and processes, namespaces, bad files."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import FACTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hopfield_memory import (
    EncoderMismatchError,
    GatePolicy,
    HopfieldMemory,
    InvalidInputError,
    PersistenceFormatError,
    RandomIndexEncoder,
    UnknownIdError,
)
from hopfield_memory import durable as durable_module
from hopfield_memory.errors import (
    MemoryClosedError,
    PersistenceNotFoundError,
    UnknownNamespaceError,
)


def contents(mem: HopfieldMemory) -> list[tuple]:
    """Facts with their vectors, in id order."""
    return [(f.id, f.text, f.metadata, mem._store.vector(f.id).tobytes()) for f in mem]


def test_writes_are_in_the_file_when_the_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with HopfieldMemory.open(path) as mem:
        assert mem.store(FACTS[0], {"n": 0}) == 0
        assert mem.store_many(FACTS[1:4]) == [1, 2, 3]
        mem.forget(1)
        mem.update(2, "Bob plays the cello in the city orchestra", {"edited": True})
        expected = contents(mem)
        # read the file with a separate, plain connection while the handle is still open
        with HopfieldMemory.load(path) as copy:
            assert contents(copy) == expected
    reopened = HopfieldMemory.open(path)
    assert contents(reopened) == expected
    assert reopened.store("a new fact after reopening") == 4  # ids are never reused
    assert (
        reopened.query_or_none("Bob cello orchestra") == "Bob plays the cello in the city orchestra"
    )
    reopened.close()


def test_handles_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    a, b = HopfieldMemory.open(path), HopfieldMemory.open(path)
    ids = a.store_many(FACTS)
    assert b.query_or_none("Eiffel Tower Paris") == FACTS[0]
    assert len(b) == len(FACTS)
    b.forget(ids[0])
    assert a.query_or_none("Eiffel Tower Paris") is None
    assert ids[0] not in a
    a.update(ids[1], "Alice is a chemist", {"v": 2})
    assert b.get(ids[1]).text == "Alice is a chemist"
    assert b.get(ids[1]).metadata == {"v": 2}
    b.policy = GatePolicy(min_similarity=0.6, source="tuned")
    assert a.policy == b.policy
    a.clear()
    assert len(b) == 0
    assert b.store("after the clear") == len(FACTS)
    assert a.all_facts() == ["after the clear"]
    assert contents(a) == contents(b)
    a.close()
    b.close()


def test_failed_calls_change_nothing_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    mem = HopfieldMemory.open(path)
    mem.store_many(FACTS[:3])
    before = contents(mem)
    with pytest.raises(InvalidInputError):
        mem.store_many(["fine", "   "])
    with pytest.raises(UnknownIdError):
        mem.forget_many([0, 99])
    with pytest.raises(UnknownIdError):
        mem.update(99, "nothing there")
    with pytest.raises(InvalidInputError):
        mem.store("x", {"bad": float("nan")})
    assert contents(mem) == before
    mem.close()
    with HopfieldMemory.open(path) as again:
        assert contents(again) == before


def test_closed_memory_refuses_calls(tmp_path: Path) -> None:
    mem = HopfieldMemory.open(tmp_path / "m.db")
    mem.store("one")
    mem.close()
    mem.close()  # idempotent
    with pytest.raises(MemoryClosedError):
        mem.store("two")
    with pytest.raises(MemoryClosedError):
        mem.query_or_none("one")


def test_open_checks_encoder_parameters_and_namespace(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    HopfieldMemory.open(path, dim=64, beta=10.0).close()
    with HopfieldMemory.open(path) as same:  # stored encoder and parameters are used
        assert (same.dim, same.beta) == (64, 10.0)
    with pytest.raises(EncoderMismatchError):
        HopfieldMemory.open(path, encoder=RandomIndexEncoder(dim=64, seed=3))
    with pytest.raises(EncoderMismatchError):
        HopfieldMemory.open(path, dim=128)
    with pytest.raises(InvalidInputError, match="beta"):
        HopfieldMemory.open(path, beta=5.0)
    with pytest.raises(UnknownNamespaceError):
        HopfieldMemory.open(path, namespace="nobody", create=False)
    with pytest.raises(PersistenceNotFoundError):
        HopfieldMemory.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_save_from_a_durable_memory_and_open_a_snapshot(tmp_path: Path) -> None:
    path, snap = tmp_path / "m.db", tmp_path / "snap.hmem"
    mem = HopfieldMemory.open(path, namespace="agent-7")
    mem.store_many(FACTS, [{"n": i} for i in range(len(FACTS))])
    mem.forget(3)
    with pytest.raises(InvalidInputError, match="bound to"):
        mem.save(path)
    mem.save(snap)
    loaded = HopfieldMemory.load(snap)  # the only namespace
    assert loaded.namespace == "agent-7"
    assert contents(loaded) == contents(mem)
    with HopfieldMemory.open(snap, namespace="agent-7") as bound:  # one format
        assert contents(bound) == contents(mem)
        assert bound.store("continues after the snapshot's ids") == len(FACTS)
    mem.close()


# ------------------------------------------------------------------------------- namespaces

words = st.sampled_from(
    "paris tokyo violin topology server door code monday python everest water boils".split()
)
fact_texts = st.lists(words, min_size=1, max_size=5).map(" ".join)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    a_facts=st.lists(fact_texts, min_size=1, max_size=8),
    b_facts=st.lists(fact_texts, min_size=1, max_size=8),
    cues=st.lists(fact_texts, min_size=1, max_size=6),
)
def test_no_query_crosses_namespaces(
    tmp_path_factory: pytest.TempPathFactory, a_facts: list, b_facts: list, cues: list
) -> None:
    path = tmp_path_factory.mktemp("ns") / "m.db"
    a = HopfieldMemory.open(path, namespace="user-a")
    b = HopfieldMemory.open(path, namespace="user-b", beta=30.0)
    a_ids = set(a.store_many(a_facts, [{"owner": "a"}] * len(a_facts)))
    b_ids = set(b.store_many(b_facts, [{"owner": "b"}] * len(b_facts)))
    assert not a_ids & b_ids  # ids come from the database, shared by the namespaces
    b.policy = GatePolicy(min_similarity=0.0, min_gap=0.0, max_sentinel_weight=1.0, source="b")
    assert a.policy != b.policy  # each namespace has its own gate
    for mem, own in ((a, a_ids), (b, b_ids)):
        for report in mem.match_quality_many(cues + a_facts + b_facts, top_k=20):
            for cand in report.candidates:
                assert cand.id in own
                assert cand.metadata["owner"] == ("a" if mem is a else "b")
        assert {f.id for f in mem} == own
    a.clear()
    assert len(b) == len(b_facts)
    a.close()
    b.close()


# ---------------------------------------------------------------------------------- threads


def test_concurrent_readers_and_a_writer_get_consistent_answers(tmp_path: Path) -> None:
    mem = HopfieldMemory.open(tmp_path / "m.db", durability="normal")
    other = HopfieldMemory.open(tmp_path / "m.db")
    acked: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for i in range(120):
                text = f"record {i} zeta{i} kappa{i * 7}"
                mem.store(text, {"i": i})
                acked.append(text)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    def reader(handle: HopfieldMemory) -> None:
        try:
            seen = 0
            while not done.is_set() or seen < 120:
                n = len(acked)
                if n:
                    text = acked[n - 1]
                    best = handle.recall_or_none(text)
                    assert best is not None and best.text == text
                    assert best.metadata["i"] == n - 1
                count = len(handle)
                assert count >= n
                seen = count
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader, args=(h,)) for h in (mem, other, mem)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(mem) == len(other) == 120
    mem.close()
    other.close()


def test_a_handle_far_behind_reloads_after_the_changelog_is_trimmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable_module, "LOG_KEEP", 5)
    path = tmp_path / "m.db"
    a, b = HopfieldMemory.open(path), HopfieldMemory.open(path)
    a.store("first")
    assert len(b) == 1
    for i in range(30):
        a.store(f"fact {i}")
    a.forget(0)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM changelog").fetchone()[0] <= 11
    assert contents(b) == contents(a)
    a.close()
    b.close()


# -------------------------------------------------------------------------------- bad files


def _make_alien(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users VALUES (1, 'alice')")


def _set(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)


BAD_FILES = [
    (lambda p: p.write_bytes(b"definitely not a database"), "magic"),
    (lambda p: p.write_bytes(p.read_bytes()[:1500]), "damaged|truncated|not a"),
    (lambda p: _set(p, "UPDATE meta SET value='2' WHERE key='format_version'"), "version 2"),
    (lambda p: _set(p, "DROP TABLE changelog"), "unexpected schema"),
    (lambda p: (p.unlink(), _make_alien(p)), "another application|not a hopfield"),
    (lambda p: _set(p, "UPDATE namespaces SET dim=16"), "mismatched dimension"),
    (lambda p: _set(p, "UPDATE facts SET text='tampered' WHERE id=1"), "checksum"),
    (lambda p: _set(p, "DELETE FROM facts WHERE id=2"), "should hold"),
]


@pytest.mark.parametrize(("damage", "message"), BAD_FILES)
@pytest.mark.parametrize("how", ["open", "load"])
def test_bad_files_are_refused_and_left_alone(
    mem: HopfieldMemory, tmp_path: Path, damage, message: str, how: str
) -> None:
    path = tmp_path / "m.hmem"
    mem.save(path)
    damage(path)
    before = path.read_bytes()
    with pytest.raises(PersistenceFormatError, match=message):
        if how == "open":
            HopfieldMemory.open(path).close()
        else:
            HopfieldMemory.load(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.hmem"]


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, bit in flips:
        out[pos % len(out)] ^= 1 << bit
    return bytes(out)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 1 << 20)),
    how=st.sampled_from(["open", "load"]),
)
def test_fuzzed_files_never_load_wrong_data(
    mem: HopfieldMemory,
    tmp_path_factory: pytest.TempPathFactory,
    flips: list,
    cut: int | None,
    how: str,
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "m.hmem"
    mem.save(path)
    good = path.read_bytes()
    bad = _flip(good, flips)
    if cut is not None:
        bad = bad[: max(1, cut % len(bad))]  # an empty file is a new store (tested below)
    path.write_bytes(bad)
    try:
        loaded = HopfieldMemory.open(path) if how == "open" else HopfieldMemory.load(path)
    except PersistenceFormatError:
        assert path.read_bytes() == bad  # a failed open or load changes nothing
    else:
        assert contents(loaded) == contents(mem)
        assert loaded.policy == mem.policy
        assert loaded.parameters() == mem.parameters()
        loaded.close()
        if how == "load":
            assert path.read_bytes() == bad
    assert sorted(p.name for p in folder.iterdir()) == ["m.hmem"]


def test_snapshot_carries_negatives_parameters_and_policy(tmp_path: Path) -> None:
    mem = HopfieldMemory(dim=48, beta=12.5, num_steps=None, tol=1e-4, repulsive=True, beta_neg=3.0)
    mem.store_many(FACTS[:3])
    mem.store_negative("confusable decoy text")
    mem.policy = GatePolicy(min_similarity=0.42, source="custom")
    path = tmp_path / "m.hmem"
    mem.save(path)
    loaded = HopfieldMemory.load(path)
    assert loaded.parameters() == mem.parameters()
    assert loaded.repulsive and loaded.beta_neg == 3.0
    assert loaded.policy == mem.policy
    assert [f.text for f in loaded.negatives()] == ["confusable decoy text"]
    np.testing.assert_array_equal(loaded._negatives.patterns, mem._negatives.patterns)
    with HopfieldMemory.open(path) as bound:
        second = bound.store_negative("another decoy")
    with HopfieldMemory.open(path) as again:
        assert [f.text for f in again.negatives()] == ["confusable decoy text", "another decoy"]
        again.forget_negative(second)
    with HopfieldMemory.open(path) as third:
        assert [f.text for f in third.negatives()] == ["confusable decoy text"]
        report = third.match_quality("confusable decoy text")
        assert report.reason is not None and report.reason.value == "negative_match"


def test_other_handles_see_negatives_come_and_go(tmp_path: Path) -> None:
    path = tmp_path / "shared.hmem"
    with HopfieldMemory.open(path, repulsive=True) as writer, HopfieldMemory.open(path) as reader:
        writer.store("the deploy key lives in the vault")
        negative = writer.store_negative("print the deploy key")
        assert reader.num_negatives == 1
        assert reader.query_or_none("print the deploy key") is None
        writer.forget_negative(negative)
        assert reader.num_negatives == 0


def test_open_on_a_directory_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(PersistenceFormatError):
        HopfieldMemory.open(tmp_path)
    empty = tmp_path / "empty.db"
    empty.touch()
    with HopfieldMemory.open(empty) as mem:  # an empty file is a new store
        mem.store("first")
    assert os.path.getsize(empty) > 0
