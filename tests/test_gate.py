"""gate: the frozen policy and the vectorised decision with reasons."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hopfield_memory import AbstainReason, GatePolicy, InvalidInputError
from hopfield_memory.gate import decide


def test_policy_is_frozen_and_validated() -> None:
    policy = GatePolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.min_gap = 0.5  # type: ignore[misc]
    for bad in (
        {"min_similarity": 1.5},
        {"min_gap": -0.1},
        {"max_sentinel_weight": float("nan")},
        {"min_similarity": "high"},
        {"min_gap": True},
    ):
        with pytest.raises(InvalidInputError):
            GatePolicy(**bad)  # type: ignore[arg-type]


def test_policy_round_trips_through_dict() -> None:
    policy = GatePolicy(min_similarity=0.42, min_gap=0.05, max_sentinel_weight=0.3, source="x")
    assert GatePolicy.from_dict(policy.to_dict()) == policy


def test_decide_names_the_first_failing_reason() -> None:
    policy = GatePolicy(min_similarity=0.3, min_gap=0.1, max_sentinel_weight=0.5)
    sims = np.array([0.9, 0.1, 0.9, 0.9, 0.1], dtype=np.float32)
    gaps = np.array([0.8, 0.8, 0.05, 0.8, 0.0], dtype=np.float32)
    sentinel = np.array([0.0, 0.0, 0.0, 0.7, 0.9], dtype=np.float32)
    assert decide(policy, sims, gaps, sentinel) == [
        None,
        AbstainReason.NO_OVERLAP,
        AbstainReason.AMBIGUOUS,
        AbstainReason.SENTINEL_DOMINANT,
        AbstainReason.NO_OVERLAP,
    ]
    assert decide(policy, sims[3:4], gaps[3:4], None) == [None]


def test_reasons_are_stable_strings() -> None:
    assert AbstainReason.NO_OVERLAP.value == "no_overlap"
    assert all(reason.describe() for reason in AbstainReason)
