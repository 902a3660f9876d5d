"""ContradictionDetector and check_and_store: clashes are reported, duplicates not stored twice."""

from __future__ import annotations

import pytest

from hopfield_memory import HopfieldMemory, InvalidInputError
from hopfield_memory.contradiction import ContradictionDetector, check_and_store

FACTS = [
    "The capital of France is Paris",
    "Water boils at 100 degrees Celsius at sea level",
    "Bob owns a red bicycle",
]


@pytest.fixture
def mem() -> HopfieldMemory:
    memory = HopfieldMemory()
    memory.store_many(FACTS)
    return memory


@pytest.mark.parametrize(
    ("new", "stored_id", "old_words", "new_words"),
    [
        ("The capital of France is Lyon", 0, ("paris",), ("lyon",)),
        ("Water boils at 90 degrees Celsius at sea level", 1, ("100",), ("90",)),
        ("Bob owns a blue bicycle", 2, ("red",), ("blue",)),
    ],
)
def test_contradictions_are_found_with_the_differing_words(
    mem: HopfieldMemory, new: str, stored_id: int, old_words: tuple, new_words: tuple
) -> None:
    result = ContradictionDetector().check(mem, new)
    assert result.has_conflict
    (conflict,) = result.contradictions
    assert (conflict.id, conflict.stored_words, conflict.new_words) == (
        stored_id,
        old_words,
        new_words,
    )
    assert result.conflicting_facts == [(FACTS[stored_id], conflict.similarity)]
    assert 0 < conflict.similarity < 1
    assert "contradicts" in result.explanation


@pytest.mark.parametrize("new", ["The capital of Italy is Rome", "Carol plays chess", "Paris"])
def test_unrelated_or_compatible_facts_are_not_conflicts(mem: HopfieldMemory, new: str) -> None:
    result = ContradictionDetector().check(mem, new)
    assert result.conflicts == () and not result.has_conflict


def test_check_and_store_reports_and_does_not_store_a_contradiction(mem: HopfieldMemory) -> None:
    fact_id, result = check_and_store(mem, "The capital of France is Lyon")
    assert fact_id is None and result.has_conflict
    assert mem.all_facts() == FACTS


def test_check_and_store_can_replace_the_contradicted_fact(mem: HopfieldMemory) -> None:
    fact_id, result = check_and_store(
        mem, "The capital of France is Lyon", auto_resolve=True, metadata={"src": "x"}
    )
    assert fact_id == 0 and result.has_conflict
    assert mem.get(0).text == "The capital of France is Lyon"
    assert mem.get(0).metadata == {"src": "x"}
    assert len(mem) == len(FACTS)


def test_duplicates_are_reported_not_stored_twice(mem: HopfieldMemory) -> None:
    fact_id, result = check_and_store(mem, "the capital of france is Paris.")
    assert fact_id == 0 and result.duplicates and not result.has_conflict
    assert len(mem) == len(FACTS)
    assert "duplicates #0" in result.explanation


def test_new_facts_are_stored(mem: HopfieldMemory) -> None:
    fact_id, result = check_and_store(mem, "Carol plays chess on Sundays", metadata={"k": 1})
    assert fact_id == 3 and result.conflicts == ()
    assert mem.get(3).metadata == {"k": 1}


def test_detector_validates_its_settings() -> None:
    with pytest.raises(InvalidInputError):
        ContradictionDetector(duplicate_threshold=0.0)
    with pytest.raises(InvalidInputError):
        ContradictionDetector(top_k=0)
