"""HopfieldMemory: the documented calls, the additions, and errors that change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FACTS, unit_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from hopfield_memory import (
    AbstainReason,
    EmptyMemoryError,
    GatePolicy,
    HopfieldMemory,
    InvalidInputError,
    InvalidTypeError,
    MatchReport,
    RandomIndexEncoder,
    Recall,
    UnknownIdError,
)


def snapshot(mem: HopfieldMemory) -> tuple:
    """Everything observable about a memory's contents."""
    return (
        [(f.id, f.text, f.metadata) for f in mem],
        mem._store.patterns.copy().tobytes(),
        mem._store.next_id,
        mem.policy,
    )


def test_documented_calls(mem: HopfieldMemory) -> None:
    assert mem.query_or_none("Eiffel Tower Paris") == FACTS[0]
    assert mem.query_or_none("quantum chromodynamics lecture") is None
    fact, conf = mem.query_with_confidence("topology")
    assert fact == FACTS[1] and 0.5 < conf <= 1.0
    top = mem.retrieve("capital of Japan", top_k=3)
    assert [type(t) for t in top] == [tuple] * 3
    assert top[0][0] == FACTS[3]
    assert top[0][1] >= top[1][1] >= top[2][1]
    mq = mem.match_quality("capital of Japan")
    assert set(mq) >= {"max_similarity", "gap", "sentinel_weight", "is_match", "top_confidence"}
    assert mq["is_match"] is True and mq["reason"] is None
    assert mem.has_match("highest mountain on earth")
    assert not mem.has_match("weather tomorrow afternoon")
    assert mem.query("violin") == FACTS[2]
    assert mem.num_facts == len(FACTS) == len(mem)
    assert mem.all_facts() == FACTS


def test_report_explains_abstention(mem: HopfieldMemory) -> None:
    report = mem.match_quality("weather tomorrow afternoon")
    assert isinstance(report, MatchReport)
    assert report.is_match is False and report.best is None
    assert report.reason is AbstainReason.NO_OVERLAP
    assert "no stored fact is similar enough" in report.explanation
    assert report.as_dict()["reason"] == "no_overlap"


def test_ambiguous_cue_names_competitors() -> None:
    # the default encoder counts words, not their order: these two facts tie for any cue
    mem = HopfieldMemory()
    mem.store_many(["Alice sent the report to Bob", "Bob sent the report to Alice", "Dave rides"])
    report = mem.match_quality("who sent the report")
    assert report.reason is AbstainReason.AMBIGUOUS
    names = {c.text for c in report.candidates[:2]}
    assert names == {"Alice sent the report to Bob", "Bob sent the report to Alice"}
    assert "Alice sent" in report.explanation and "Bob sent" in report.explanation
    assert mem.query_or_none("who sent the report") is None


def test_a_cue_that_tells_competitors_apart_is_answered() -> None:
    mem = HopfieldMemory(dim=8)
    east, north, up = np.eye(8)[:3]
    mem.store_vectors(np.stack([east + north, east + up]), ["east-north", "east-up"])
    assert mem.match_quality_vectors(east)[0].reason is AbstainReason.AMBIGUOUS
    report = mem.match_quality_vectors(east + 0.5 * up)[0]
    assert report.is_match and report.best is not None and report.best.text == "east-up"


def test_sentinel_dominates_when_no_fact_is_closer_than_nothing() -> None:
    """With one fact at negative similarity, the zero pattern takes most of the softmax."""
    mem = HopfieldMemory(dim=8, beta=4.0, policy=GatePolicy(min_similarity=-1.0, min_gap=0.0))
    east, north = np.eye(8)[0], np.eye(8)[1]
    mem.store_vectors(east, ["east"])
    report = mem.match_quality_vectors(-0.3 * east + north)[0]
    assert report.reason is AbstainReason.SENTINEL_DOMINANT
    assert report.sentinel_weight > 0.5
    assert report.sentinel_weight + report.top_confidence == pytest.approx(1.0, abs=1e-6)
    assert mem.match_quality_vectors(east + 0.2 * north)[0].is_match


def test_empty_memory() -> None:
    mem = HopfieldMemory()
    assert mem.query_or_none("anything") is None
    assert mem.retrieve("anything") == []
    assert mem.match_quality("anything").reason is AbstainReason.EMPTY_MEMORY
    with pytest.raises(EmptyMemoryError):
        mem.query("anything")
    with pytest.raises(LookupError):
        mem.query_with_confidence("anything")


def test_recall_results_carry_id_metadata_and_similarity(mem: HopfieldMemory) -> None:
    (best, *_rest) = mem.recall("capital of Japan", top_k=2)
    assert isinstance(best, Recall)
    assert best.id == 3 and best.metadata == {"n": 3}
    assert 0.5 < best.similarity <= 1.0
    assert mem.recall_or_none("capital of Japan") == best
    assert mem.recall_or_none("weather tomorrow afternoon") is None


def test_batch_calls_equal_single_calls(mem: HopfieldMemory) -> None:
    cues = ["Eiffel Tower", "topology", "nothing relevant here", "Tokyo", "violin"]
    assert mem.query_or_none_many(cues) == [mem.query_or_none(c) for c in cues]
    batched = mem.retrieve_many(cues, top_k=2)
    for cue, got in zip(cues, batched, strict=True):
        single = mem.retrieve(cue, top_k=2)
        assert [t for t, _ in got] == [t for t, _ in single]
        np.testing.assert_allclose([w for _, w in got], [w for _, w in single], rtol=1e-4)
    assert mem.query_or_none_many([]) == []


def test_store_many_ids_metadata_get_and_iteration() -> None:
    mem = HopfieldMemory()
    ids = mem.store_many(["a fact about cats", "a fact about dogs"], [{"k": 1}, None])
    assert ids == [0, 1]
    assert mem.store("a fact about birds", {"tags": ["x"]}) == 2
    assert mem.get(1).metadata == {}
    assert [f.text for f in mem] == ["a fact about cats", "a fact about dogs", "a fact about birds"]
    assert 2 in mem and 3 not in mem


def test_metadata_is_copied() -> None:
    mem = HopfieldMemory()
    meta = {"tags": ["a"]}
    fact_id = mem.store("cats purr when content", meta)
    meta["tags"].append("b")
    assert mem.get(fact_id).metadata == {"tags": ["a"]}


def test_forget_and_update() -> None:
    mem = HopfieldMemory()
    ids = mem.store_many(["The capital of France is Lyon", "Bob plays violin"])
    mem.update(ids[0], "The capital of France is Paris", {"fixed": True})
    assert mem.get(ids[0]).metadata == {"fixed": True}
    assert mem.query_or_none("capital of France") == "The capital of France is Paris"
    mem.update(ids[0], "The capital of France is Paris!")
    assert mem.get(ids[0]).metadata == {"fixed": True}
    removed = mem.forget(ids[1])
    assert removed.text == "Bob plays violin"
    assert mem.query_or_none("violin") is None
    with pytest.raises(UnknownIdError):
        mem.forget(ids[1])
    assert mem.store("Carol sings") == 2


def test_forget_many_is_all_or_nothing(mem: HopfieldMemory) -> None:
    before = snapshot(mem)
    with pytest.raises(UnknownIdError):
        mem.forget_many([0, 1, 99])
    with pytest.raises(InvalidInputError):
        mem.forget_many([0, 0])
    assert snapshot(mem) == before
    assert [f.id for f in mem.forget_many([0, 1])] == [0, 1]
    assert len(mem) == len(FACTS) - 2


BAD_CALLS = [
    (lambda m: m.store(""), InvalidInputError),
    (lambda m: m.store("   \n"), InvalidInputError),
    (lambda m: m.store(42), InvalidTypeError),
    (lambda m: m.store(None), InvalidTypeError),
    (lambda m: m.store("ok", {"x": float("nan")}), InvalidInputError),
    (lambda m: m.store("ok", {"x": object()}), InvalidInputError),
    (lambda m: m.store("ok", {1: "int key"}), InvalidTypeError),
    (lambda m: m.store("ok", "not a dict"), InvalidTypeError),
    (lambda m: m.store_many(["ok", ""]), InvalidInputError),
    (lambda m: m.store_many("a single string"), InvalidTypeError),
    (lambda m: m.store_many(["ok", 3]), InvalidTypeError),
    (lambda m: m.store_many(["a", "b"], [{}]), InvalidInputError),
    (lambda m: m.store_vectors(np.full((1, 512), np.nan), ["x"]), InvalidInputError),
    (lambda m: m.store_vectors(np.ones((1, 3)), ["x"]), InvalidInputError),
    (lambda m: m.store_vectors(np.ones((2, 512)), ["x"]), InvalidInputError),
    (lambda m: m.update(99, "new text"), UnknownIdError),
    (lambda m: m.update(0, ""), InvalidInputError),
    (lambda m: m.forget(99), UnknownIdError),
    (lambda m: m.retrieve("x", top_k=0), InvalidInputError),
    (lambda m: m.retrieve("x", top_k=1.5), InvalidTypeError),
    (lambda m: m.retrieve("x", top_k=True), InvalidTypeError),
    (lambda m: m.query_or_none(""), InvalidInputError),
    (lambda m: m.query_or_none(b"bytes"), InvalidTypeError),
    (lambda m: m.query_or_none("x", min_similarity=float("inf")), InvalidInputError),
    (lambda m: m.recall_vectors(np.ones(7)), InvalidInputError),
    (lambda m: m.recall_vectors(np.array([np.inf] * 512)), InvalidInputError),
]


@pytest.mark.parametrize(("call", "error"), BAD_CALLS)
def test_bad_input_raises_and_changes_nothing(mem: HopfieldMemory, call, error) -> None:
    before = snapshot(mem)
    with pytest.raises(error) as info:
        call(mem)
    assert str(info.value)
    assert snapshot(mem) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beta": 0},
        {"beta": float("nan")},
        {"num_steps": 0},
        {"max_steps": -1},
        {"dim": 3},
        {"encoder": RandomIndexEncoder(dim=64), "dim": 32},
        {"encoder": "minilm"},
        {"policy": {"min_similarity": 0.2}},
    ],
)
def test_bad_constructor_arguments(kwargs: dict) -> None:
    with pytest.raises((InvalidInputError, InvalidTypeError)):
        HopfieldMemory(**kwargs)


def test_policy_can_be_passed_and_replaced(mem: HopfieldMemory) -> None:
    strict = GatePolicy(min_similarity=0.95)
    assert mem.query_or_none("topology") is not None
    mem.policy = strict
    assert mem.query_or_none("topology") is None
    assert mem.query_or_none("topology", min_similarity=0.1) is not None
    with pytest.raises(InvalidTypeError):
        mem.policy = 0.3  # type: ignore[assignment]


def test_vector_level_calls() -> None:
    rng = np.random.default_rng(0)
    mem = HopfieldMemory(dim=32)
    vectors = unit_rows(rng, 50, 32)
    ids = mem.store_vectors(vectors * 3.0, [f"v{i}" for i in range(50)])
    results = mem.recall_vectors(vectors[[7, 11]], top_k=1)
    assert [r[0].id for r in results] == [ids[7], ids[11]]
    assert results[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(mem.get(ids[0]) and mem._store.vector(ids[0]), vectors[0], atol=1e-6)


@pytest.mark.parametrize("num_steps", [2, 5, None])
def test_multi_step_retrieval(num_steps: int | None) -> None:
    rng = np.random.default_rng(4)
    vectors = unit_rows(rng, 20, 64)
    single, multi = HopfieldMemory(dim=64), HopfieldMemory(dim=64, num_steps=num_steps)
    for m in (single, multi):
        m.store_vectors(vectors, [f"p{i}" for i in range(20)])
    cue = vectors[5] + 0.5 * unit_rows(rng, 1, 64)[0]
    one, many = single.match_quality_vectors(cue)[0], multi.match_quality_vectors(cue)[0]
    assert one.candidates[0].text == many.candidates[0].text == "p5"
    assert one.max_similarity == pytest.approx(many.max_similarity)
    assert many.top_confidence >= one.top_confidence - 1e-6


def test_the_answer_does_not_depend_on_storage_order(facts: list[str]) -> None:
    rng = np.random.default_rng(7)
    forward, shuffled = HopfieldMemory(), HopfieldMemory()
    forward.store_many(facts)
    order = rng.permutation(len(facts))
    shuffled.store_many([facts[i] for i in order])
    for cue in ["Eiffel", "topology", "Tokyo", "Celsius", "Guido", "door code"]:
        a = forward.match_quality(cue, top_k=len(facts))
        b = shuffled.match_quality(cue, top_k=len(facts))
        assert a.candidates[0].text == b.candidates[0].text
        weights_a = {c.text: c.weight for c in a.candidates}
        weights_b = {c.text: c.weight for c in b.candidates}
        for text, weight in weights_a.items():
            assert weights_b[text] == pytest.approx(weight, rel=1e-4, abs=1e-7)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(words, min_size=3, max_size=6, unique=True), min_size=2, max_size=12))
def test_a_cue_from_one_fact_never_retrieves_an_unrelated_fact(sentences: list[list[str]]) -> None:
    """Facts that share no word: a cue made of one fact's words retrieves that fact or nothing."""
    seen: set[str] = set()
    facts = []
    for sentence in sentences:
        fresh = [w for w in sentence if w not in seen]
        if len(fresh) >= 3:
            facts.append(" ".join(fresh))
            seen.update(fresh)
    mem = HopfieldMemory()
    mem.store_many(facts)
    for fact in facts:
        cue = " ".join(fact.split()[:2])
        answer = mem.query_or_none(cue)
        assert answer in (fact, None)
        assert mem.query_or_none(fact) == fact
