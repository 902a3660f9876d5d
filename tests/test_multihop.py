"""chain_query: each hop feeds the next, and the chain stops for a stated reason."""

from __future__ import annotations

import pytest

from hopfield_memory import HopfieldMemory, InvalidInputError
from hopfield_memory.multihop import chain_query, chain_query_with_confidence, chain_recall

FACTS = [
    "Alice lives in France",
    "The capital of France is Paris",
    "Bob owns a red bicycle",
    "Paris hosts the Louvre museum",
]


@pytest.fixture
def mem() -> HopfieldMemory:
    memory = HopfieldMemory()
    memory.store_many(FACTS)
    return memory


def test_two_hops_reach_the_fact_the_question_alone_misses(mem: HopfieldMemory) -> None:
    question = "capital of the country where Alice lives"
    assert mem.query_or_none(question) == "Alice lives in France"
    chain = chain_recall(mem, question, max_hops=2)
    assert chain.texts == ["Alice lives in France", "The capital of France is Paris"]
    assert [hop.id for hop in chain.hops] == [0, 1]
    assert all(0 < hop.weight <= 1 for hop in chain.hops)
    assert chain.stop_reason == "max_hops"
    assert chain_query(mem, question, max_hops=2) == chain.texts
    pairs = chain_query_with_confidence(mem, question, max_hops=2)
    assert [p[0] for p in pairs] == chain.texts
    assert [p[1] for p in pairs] == [hop.weight for hop in chain.hops]


def test_chain_stops_when_the_gate_abstains(mem: HopfieldMemory) -> None:
    chain = chain_recall(mem, "capital of the country where Alice lives", max_hops=10)
    assert chain.stop_reason.startswith("abstained:")
    assert "Bob owns a red bicycle" not in chain.texts
    nothing = chain_recall(mem, "quantum chromodynamics")
    assert nothing.hops == () and nothing.stop_reason == "abstained:no_overlap"
    assert chain_query(mem, "quantum chromodynamics") == []


def test_chain_stops_on_low_confidence_and_repetition() -> None:
    mem = HopfieldMemory()
    mem.store_many(["Carol lives in Berlin", "Carol lives in Berlin"])
    chain = chain_recall(mem, "Carol Berlin", max_hops=3, min_confidence=0.0)
    assert chain.stop_reason in {"repetition", "abstained:ambiguous"}
    assert len(chain.hops) <= 1
    strict = chain_recall(mem, "Carol", min_confidence=0.99)
    assert strict.hops == ()


def test_a_hop_never_repeats_a_fact(mem: HopfieldMemory) -> None:
    chain = chain_recall(mem, "Alice France capital Paris Louvre museum", max_hops=4)
    ids = [hop.id for hop in chain.hops]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("kwargs", [{"max_hops": 0}, {"max_hops": True}, {"min_confidence": 2.0}])
def test_bad_arguments(mem: HopfieldMemory, kwargs: dict) -> None:
    with pytest.raises(InvalidInputError):
        chain_recall(mem, "Alice", **kwargs)
