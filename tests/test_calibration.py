"""Calibration on seeded synthetic geometry: facts in topics, paraphrases, unstored look-alikes."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopfield_memory.calibration import (
    calibrate_from_examples,
    calibrate_from_patterns,
    evaluate_policy,
    nearest_other_similarities,
)
from hopfield_memory.errors import InvalidInputError
from hopfield_memory.gate import GatePolicy

DIM = 64
BETA = 20.0
BASE = GatePolicy(min_similarity=0.2, min_gap=0.01, max_sentinel_weight=0.5, source="default")


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def topic_world(seed: int = 0, topics: int = 40, per_topic: int = 6):
    """Facts share a topic direction (cosine ~0.5 to each other); paraphrases sit near a fact
    (cosine ~0.85); look-alikes are new facts of a stored topic."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((topics, DIM)))

    def fact_like(topic_ids: np.ndarray) -> np.ndarray:
        noise = unit(rng.standard_normal((topic_ids.size, DIM)))
        return unit(centres[topic_ids] + noise)

    facts = fact_like(np.repeat(np.arange(topics), per_topic))
    stored_cues = unit(facts + 0.35 * unit(rng.standard_normal(facts.shape)))
    lookalikes = fact_like(rng.integers(0, topics, size=facts.shape[0]))
    return facts, stored_cues, lookalikes


def gate_signals(facts: np.ndarray, cues: np.ndarray, beta: float = BETA):
    """max_similarity, gap, sentinel_weight and top-1 row, the way the memory computes them."""
    sims = cues @ facts.T
    logits = np.concatenate([beta * sims, np.zeros((cues.shape[0], 1))], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    w /= w.sum(axis=1, keepdims=True)
    top2 = np.sort(w[:, :-1], axis=1)[:, -2:]
    return sims.max(axis=1), top2[:, 1] - top2[:, 0], w[:, -1], sims.argmax(axis=1)


def labelled(seed: int = 0):
    facts, stored_cues, lookalikes = topic_world(seed)
    cues = np.concatenate([stored_cues, lookalikes])
    sim, gap, sw, top = gate_signals(facts, cues)
    n = facts.shape[0]
    should = np.concatenate([np.ones(n, bool), np.zeros(n, bool)])
    correct = np.concatenate([top[:n] == np.arange(n), np.zeros(n, bool)])
    return facts, sim, gap, sw, should, correct


def test_nearest_other_matches_brute_force_and_never_counts_self():
    facts, _, _ = topic_world(1)
    nearest, self_gap = nearest_other_similarities(facts, beta=BETA, block_size=17)
    full = facts @ facts.T
    np.fill_diagonal(full, -np.inf)
    np.testing.assert_allclose(nearest, full.max(axis=1), rtol=1e-5, atol=1e-6)
    assert (nearest < 0.999).all()
    # the self-gap is what the gate sees when a fact is cued with its own vector
    _, gap, _, top = gate_signals(facts, facts)
    assert (top == np.arange(len(facts))).all()
    np.testing.assert_allclose(self_gap, gap, rtol=1e-4, atol=1e-5)


def test_nearest_other_subsamples_with_a_seed():
    facts, _, _ = topic_world(2)
    a, _ = nearest_other_similarities(facts, max_sample=50, random_state=7)
    b, _ = nearest_other_similarities(facts, max_sample=50, random_state=7)
    assert a.shape == (50,)
    np.testing.assert_array_equal(a, b)


def test_patterns_calibration_separates_paraphrases_from_lookalikes():
    facts, sim, gap, sw, should, correct = labelled(0)
    policy = calibrate_from_patterns(facts, beta=BETA, base=BASE)
    assert policy.source.startswith("calibrated:patterns")
    assert BASE.min_similarity < policy.min_similarity < 0.9
    fitted = evaluate_policy(policy, sim, gap, sw, should, correct)
    default = evaluate_policy(BASE, sim, gap, sw, should, correct)
    assert fitted.refusal_rate > 0.8  # look-alikes refused
    assert fitted.recall > 0.8  # paraphrases still answered
    assert default.refusal_rate < 0.1  # the encoder default cannot tell them apart
    assert fitted.joint_accuracy > default.joint_accuracy + 0.3


def test_patterns_calibration_keeps_the_base_floor_for_sparse_memories():
    rng = np.random.default_rng(3)
    spread = unit(rng.standard_normal((200, 512)))  # nearly orthogonal facts
    policy = calibrate_from_patterns(spread, beta=BETA, base=BASE)
    assert policy.min_similarity == pytest.approx(BASE.min_similarity)
    assert policy.max_sentinel_weight == BASE.max_sentinel_weight


def test_patterns_calibration_caps_the_threshold_for_near_duplicates():
    rng = np.random.default_rng(4)
    base_rows = unit(rng.standard_normal((50, DIM)))
    dupes = unit(np.repeat(base_rows, 2, axis=0) + 1e-3 * rng.standard_normal((100, DIM)))
    policy = calibrate_from_patterns(dupes, beta=BETA, base=BASE, max_min_similarity=0.8)
    assert policy.min_similarity == pytest.approx(0.8)
    # near-duplicates leave a tiny self-gap; min_gap is lowered so the facts stay reachable
    _, gap, _, _ = gate_signals(dupes, dupes)
    assert (gap >= policy.min_gap).mean() >= 0.95


def test_patterns_calibration_never_builds_an_n_by_n_matrix():
    import tracemalloc

    facts = unit(np.random.default_rng(5).standard_normal((3000, 16)))
    tracemalloc.start()
    try:
        nearest, gaps = nearest_other_similarities(facts, beta=BETA, block_size=256)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert nearest.shape == gaps.shape == (3000,)
    assert peak < 3000 * 3000 * 4 / 8  # far below one float32 n x n matrix (36 MB)


def test_examples_calibration_reaches_target_precision_with_best_recall():
    _, sim, gap, sw, should, correct = labelled(0)
    policy = calibrate_from_examples(sim, gap, sw, should, correct=correct, target_precision=0.95)
    scores = evaluate_policy(policy, sim, gap, sw, should, correct)
    assert scores.precision >= 0.95
    assert scores.recall > 0.8
    # no single similarity threshold (gap and sentinel off) beats it at that precision
    for t in np.unique(sim):
        other = GatePolicy(min_similarity=float(t), min_gap=0.0, max_sentinel_weight=1.0)
        s = evaluate_policy(other, sim, gap, sw, should, correct)
        if s.precision >= 0.95:
            assert s.recall <= scores.recall + 1e-12


def test_examples_calibration_maximises_joint_accuracy_without_target():
    _, sim, gap, sw, should, correct = labelled(1)
    policy = calibrate_from_examples(sim, gap, sw, should, correct=correct)
    assert policy.source == f"calibrated:examples(n={sim.size},joint)"
    best = evaluate_policy(policy, sim, gap, sw, should, correct).joint_accuracy
    for t in np.unique(sim):
        other = GatePolicy(min_similarity=float(t), min_gap=0.0, max_sentinel_weight=1.0)
        assert evaluate_policy(other, sim, gap, sw, should, correct).joint_accuracy <= best
    # and the fitted thresholds generalise to a fresh draw of the same world
    _, sim2, gap2, sw2, should2, correct2 = labelled(2)
    assert evaluate_policy(policy, sim2, gap2, sw2, should2, correct2).joint_accuracy > 0.85


def test_examples_calibration_uses_the_gap_when_similarity_cannot_separate():
    # every cue is similar to something; only the gap tells ambiguous cues apart
    rng = np.random.default_rng(6)
    n = 400
    sim = rng.uniform(0.7, 0.9, n).astype(np.float32)
    should = rng.random(n) < 0.5
    gap = np.where(should, rng.uniform(0.3, 0.9, n), rng.uniform(0.0, 0.1, n)).astype(np.float32)
    policy = calibrate_from_examples(sim, gap, None, should, target_precision=0.99)
    scores = evaluate_policy(policy, sim, gap, None, should)
    assert 0.1 <= policy.min_gap <= 0.45
    assert scores.precision >= 0.99 and scores.recall >= 0.85
    sim_only = calibrate_from_examples(sim, np.ones(n, np.float32), None, should)
    assert evaluate_policy(sim_only, sim, gap, None, should).joint_accuracy < 0.7


def test_sentinel_none_keeps_the_base_sentinel_threshold():
    _, sim, gap, _, should, correct = labelled(0)
    base = GatePolicy(max_sentinel_weight=0.25)
    policy = calibrate_from_examples(sim, gap, None, should, correct=correct, base=base)
    assert policy.max_sentinel_weight == 0.25


def test_all_negative_examples_refuse_everything(caplog):
    sim = np.array([0.2, 0.5, 0.9], dtype=np.float32)
    zeros = np.zeros(3, dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="hopfield_memory.calibration"):
        policy = calibrate_from_examples(sim, zeros, None, np.zeros(3, bool))
    assert policy.min_similarity == 1.0
    assert evaluate_policy(policy, sim, zeros, None, np.zeros(3, bool)).answered == 0
    assert "refuses every cue" in caplog.text


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 60),
    target=st.sampled_from([None, 0.5, 0.8, 0.95, 1.0]),
)
def test_fitted_policy_meets_its_target_on_its_own_data(seed, n, target):
    rng = np.random.default_rng(seed)
    sim = rng.uniform(-1, 1, n).astype(np.float32)
    sim[: n // 3] = sim[0]  # ties must not break the threshold placement
    gap = rng.uniform(0, 1, n).astype(np.float32)
    sw = rng.uniform(0, 1, n).astype(np.float32)
    should = rng.random(n) < 0.5
    policy = calibrate_from_examples(sim, gap, sw, should, target_precision=target, n_grid=5)
    scores = evaluate_policy(policy, sim, gap, sw, should)
    if target is not None:
        assert scores.precision >= target - 1e-9
    else:
        answer_none = GatePolicy(min_similarity=1.0, min_gap=1.0, max_sentinel_weight=0.0)
        none_acc = evaluate_policy(answer_none, sim, gap, sw, should).joint_accuracy
        assert scores.joint_accuracy >= none_acc - 1e-9


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((np.zeros((0,)), np.zeros(0), None, np.zeros(0, bool)), {}),
        ((np.zeros(3), np.zeros(2), None, np.zeros(3, bool)), {}),
        ((np.zeros(3), np.zeros(3), None, np.zeros(3)), {}),
        ((np.array([0.1, np.nan, 0.2]), np.zeros(3), None, np.zeros(3, bool)), {}),
        ((np.zeros(3), np.zeros(3), None, np.zeros(3, bool)), {"target_precision": 1.5}),
    ],
)
def test_bad_examples_are_refused(args, kwargs):
    with pytest.raises(InvalidInputError):
        calibrate_from_examples(*args, **kwargs)


def test_bad_patterns_are_refused():
    with pytest.raises(InvalidInputError):
        calibrate_from_patterns(np.zeros((1, 4), np.float32), beta=BETA, base=BASE)
    with pytest.raises(InvalidInputError):
        calibrate_from_patterns(np.ones(4, np.float32), beta=BETA, base=BASE)
    with pytest.raises(InvalidInputError):
        calibrate_from_patterns(unit(np.ones((3, 4))), beta=0.0, base=BASE)
    with pytest.raises(InvalidInputError):
        calibrate_from_patterns(unit(np.ones((3, 4))), beta=BETA, base=BASE, quantile=1.0)
