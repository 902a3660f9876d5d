"""HopfieldMemory.calibrate: fit the gate from stored facts or labelled cues, and keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopfield_memory import HopfieldMemory, InvalidInputError

# Facts of one domain that resemble each other: a look-alike cue about an unstored member of the
# domain shares words with several stored facts.
CITIES = ["Paris", "Lyon", "Berlin", "Munich", "Rome", "Milan", "Madrid", "Porto", "Vienna"]
JOBS = ["baker", "pilot", "nurse", "judge", "chef", "miner", "tailor", "sailor", "farmer"]
FACTS = [
    f"{job.title()} Smith moved to {city} in {1990 + 3 * i}"
    for i, (city, job) in enumerate(zip(CITIES, JOBS, strict=True))
]


@pytest.fixture
def mem() -> HopfieldMemory:
    memory = HopfieldMemory()
    memory.store_many(FACTS)
    return memory


def test_calibrate_from_facts_raises_the_bar_to_the_domain_level(mem: HopfieldMemory) -> None:
    lookalike = "Potter Smith moved to Oslo in 2031"  # not stored
    assert mem.query_or_none(lookalike) is not None  # the default gate answers a look-alike
    policy = mem.calibrate()
    assert mem.policy is policy and policy.source.startswith("calibrated:patterns")
    assert policy.min_similarity > mem.encoder.default_policy.min_similarity
    assert mem.query_or_none(lookalike) is None
    assert mem.query_or_none(FACTS[2]) == FACTS[2]


def test_calibrate_from_examples_reaches_the_target_precision(mem: HopfieldMemory) -> None:
    examples = [
        (f"{job} {city}", fact) for city, job, fact in zip(CITIES, JOBS, FACTS, strict=True)
    ]
    examples += [
        (f"a {job} moved to {town}", None)
        for job, town in [("potter", "Oslo"), ("vet", "Bern"), ("clerk", "Riga"), ("poet", "Kyiv")]
    ]
    policy = mem.calibrate(examples, target_precision=1.0)
    assert policy.source.startswith("calibrated:examples")
    for cue, expected in examples:
        answer = mem.query_or_none(cue)
        assert answer is None or answer == expected


def test_fitted_policy_is_saved_with_the_memory(mem: HopfieldMemory, tmp_path: Path) -> None:
    policy = mem.calibrate()
    mem.save(tmp_path / "m.hmem")
    assert HopfieldMemory.load(tmp_path / "m.hmem").policy == policy


def test_bad_examples(mem: HopfieldMemory) -> None:
    before = mem.policy
    for bad in ([], [("cue",)], ["cue"]):
        with pytest.raises(InvalidInputError):
            mem.calibrate(bad)  # type: ignore[arg-type]
    assert mem.policy == before
