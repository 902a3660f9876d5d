"""Repulsive attention: the kernel step and energy terms, negatives in HopfieldMemory, the
NEGATIVE_MATCH abstention and diagnose()."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import FACTS, unit_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hopfield_memory import (
    AbstainReason,
    Diagnosis,
    GatePolicy,
    HopfieldMemory,
    HopfieldMemoryError,
    InvalidInputError,
    InvalidTypeError,
    Recommendation,
    RepulsionDisabledError,
    UnknownIdError,
    kernel,
)
from hopfield_memory.gate import decide

seeds = st.integers(0, 2**32 - 1)
betas = st.floats(0.5, 60.0)


# ------------------------------------------------------------------------------------- kernel


@given(
    seed=seeds,
    beta=betas,
    beta_neg=betas,
    radius=st.floats(0.05, 3.0),
    strength=st.floats(0.01, 3.0),
    m=st.integers(1, 6),
)
def test_repulsive_step_respects_the_clamp(
    seed: int, beta: float, beta_neg: float, radius: float, strength: float, m: int
) -> None:
    rng = np.random.default_rng(seed)
    x, y, q = unit_rows(rng, 12, 8), unit_rows(rng, m, 8), unit_rows(rng, 5, 8)
    new, w, v = kernel.repulsive_step(
        x, q, beta, negatives=y, beta_neg=beta_neg, clamp_radius=radius, neg_strength=strength
    )
    assert new.dtype == np.float32 and w.shape == (5, 12) and v.shape == (5, m)
    assert (np.linalg.norm(new, axis=1) <= radius * (1 + 1e-5)).all()
    np.testing.assert_allclose(v.sum(axis=1), 1.0, rtol=1e-5)
    # below the radius the clamp does nothing: the unclamped update
    raw = w @ x - np.float32(strength) * (v @ y)
    inside = np.linalg.norm(raw, axis=1) <= radius
    np.testing.assert_allclose(new[inside], raw[inside], atol=1e-5)


@given(seed=seeds, beta=betas, sentinel=st.booleans(), radius=st.one_of(st.none(), st.floats(1, 3)))
def test_without_negatives_the_repulsive_step_is_the_plain_step(
    seed: int, beta: float, sentinel: bool, radius: float | None
) -> None:
    rng = np.random.default_rng(seed)
    x, q = unit_rows(rng, 15, 10), unit_rows(rng, 3, 10)
    plain, w = kernel.hopfield_step(x, q, beta, sentinel=sentinel)
    for negatives in (None, np.empty((0, 10), dtype=np.float32)):
        new, w2, v = kernel.repulsive_step(
            x, q, beta, negatives=negatives, clamp_radius=radius, sentinel=sentinel
        )
        np.testing.assert_allclose(new, plain, atol=1e-6)
        np.testing.assert_allclose(w2, w, atol=1e-7)
        assert v.shape == (3, 0)
    relaxed = kernel.relax(x, q, beta, max_steps=20, sentinel=sentinel)
    empty = kernel.relax(
        x, q, beta, max_steps=20, sentinel=sentinel, negatives=np.empty((0, 10), np.float32)
    )
    np.testing.assert_array_equal(relaxed.states, empty.states)
    np.testing.assert_array_equal(relaxed.steps, empty.steps)
    assert not relaxed.terms.repulsive.any()


def _reference_terms(x, y, q, beta, beta_neg, strength, sentinel):
    s = (x @ q).astype(np.float64) * beta
    if sentinel:
        s = np.append(s, 0.0)
    att = -(np.log(np.exp(s - s.max()).sum()) + s.max()) / beta
    r = (y @ q).astype(np.float64) * beta_neg
    rep = strength * (np.log(np.exp(r - r.max()).sum()) + r.max()) / beta_neg
    return att, rep, 0.5 * float(q.astype(np.float64) @ q)


@given(
    seed=seeds,
    beta=betas,
    beta_neg=betas,
    strength=st.floats(0.05, 2.0),
    sentinel=st.booleans(),
)
def test_energy_terms_match_definitions_and_sum_to_the_total(
    seed: int, beta: float, beta_neg: float, strength: float, sentinel: bool
) -> None:
    rng = np.random.default_rng(seed)
    x, y = unit_rows(rng, 9, 6), unit_rows(rng, 4, 6)
    q = unit_rows(rng, 3, 6) * np.float32(rng.uniform(0.1, 1.5))
    terms = kernel.energy_terms(
        x, q, beta, negatives=y, beta_neg=beta_neg, neg_strength=strength, sentinel=sentinel
    )
    total = kernel.energy(
        x, q, beta, negatives=y, beta_neg=beta_neg, neg_strength=strength, sentinel=sentinel
    )
    for arr in (terms.attractive, terms.repulsive, terms.quadratic, total):
        assert arr.dtype == np.float32 and arr.shape == (3,)
    np.testing.assert_allclose(
        terms.attractive + terms.repulsive + terms.quadratic, total, rtol=1e-6, atol=1e-6
    )
    for i in range(3):
        att, rep, quad = _reference_terms(x, y, q[i], beta, beta_neg, strength, sentinel)
        assert float(terms.attractive[i]) == pytest.approx(att, rel=1e-4, abs=1e-5)
        assert float(terms.repulsive[i]) == pytest.approx(rep, rel=1e-4, abs=1e-5)
        assert float(terms.quadratic[i]) == pytest.approx(quad, rel=1e-5)


@settings(max_examples=30)
@given(seed=seeds, beta=betas, sentinel=st.booleans())
def test_relax_logs_terms_that_sum_to_its_energies(seed: int, beta: float, sentinel: bool) -> None:
    rng = np.random.default_rng(seed)
    x, y, q = unit_rows(rng, 20, 8), unit_rows(rng, 3, 8), unit_rows(rng, 4, 8)
    res = kernel.relax(
        x, q, beta, max_steps=15, tol=0.0, sentinel=sentinel, negatives=y, clamp_radius=1.5
    )
    assert res.energies.shape == (16, 4) == res.terms.repulsive.shape
    np.testing.assert_allclose(res.terms.total, res.energies)
    assert res.negative_weights.shape == (4, 3)
    # every logged energy is the energy of the state it follows
    last = kernel.energy(x, res.states, beta, negatives=y, sentinel=sentinel)
    np.testing.assert_allclose(res.energies[-1], last, rtol=1e-5, atol=1e-6)


def test_repulsion_can_raise_the_energy() -> None:
    """The docstring's claim, measured: with negatives the update is not a descent method."""
    rng = np.random.default_rng(0)
    x, y = unit_rows(rng, 40, 16), unit_rows(rng, 6, 16)
    q = unit_rows(rng, 50, 16)
    res = kernel.relax(x, q, 20.0, max_steps=50, tol=0.0, negatives=y, clamp_radius=1.5)
    assert (np.diff(res.energies.astype(np.float64), axis=0) > 1e-4).any()


def test_repulsive_hot_path_stays_float32() -> None:
    rng = np.random.default_rng(4)
    x, y, q = unit_rows(rng, 30, 8), unit_rows(rng, 4, 8), unit_rows(rng, 2, 8)
    new, w, v = kernel.repulsive_step(
        x, q, np.float64(8), negatives=y, beta_neg=np.float64(6), clamp_radius=np.float64(1.2)
    )
    assert new.dtype == w.dtype == v.dtype == np.float32
    res = kernel.relax(x, q, 8, max_steps=4, negatives=y, beta_neg=6, clamp_radius=1.5)
    assert res.states.dtype == res.energies.dtype == res.terms.repulsive.dtype == np.float32


def test_repulsive_relax_single_and_batch_agree() -> None:
    rng = np.random.default_rng(5)
    x, y, q = unit_rows(rng, 30, 16), unit_rows(rng, 5, 16), unit_rows(rng, 4, 16)
    batch = kernel.relax(x, q, 10.0, max_steps=40, negatives=y, neg_strength=0.3)
    for i in range(4):
        one = kernel.relax(x, q[i], 10.0, max_steps=40, negatives=y, neg_strength=0.3)
        assert one.steps[0] == batch.steps[i]
        np.testing.assert_allclose(one.states[0], batch.states[i], atol=1e-5)


# ------------------------------------------------------------------------------------- memory


def snapshot(mem: HopfieldMemory) -> tuple:
    return (
        [(f.id, f.text, f.metadata) for f in mem],
        mem._store.patterns.copy().tobytes(),
        [(f.id, f.text, f.metadata) for f in mem._negatives],
        mem._negatives.patterns.copy().tobytes(),
        mem._negatives.next_id,
    )


@pytest.fixture
def rep(facts: list[str]) -> HopfieldMemory:
    memory = HopfieldMemory(repulsive=True)
    memory.store_many(facts)
    return memory


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.store_negative("The Eiffel Tower is in Paris"),
        lambda m: m.store_negative_many(["a", "b"]),
        lambda m: m.forget_negative(0),
    ],
)
def test_negatives_need_repulsive_true(mem: HopfieldMemory, call) -> None:
    before = snapshot(mem)
    with pytest.raises(RepulsionDisabledError, match="repulsive=True") as info:
        call(mem)
    assert isinstance(info.value, HopfieldMemoryError) and isinstance(info.value, RuntimeError)
    assert snapshot(mem) == before
    assert mem.match_quality("Eiffel Tower").negative_similarity is None


def test_store_list_and_forget_negatives(rep: HopfieldMemory) -> None:
    first = rep.store_negative("Eiffel Tower opening hours", {"why": "stale"})
    more = rep.store_negative_many(["violin lessons price", "Tokyo weather"])
    assert [first, *more] == [0, 1, 2] and rep.num_negatives == 3
    assert rep.negatives()[0].text == "Eiffel Tower opening hours"
    assert rep.negatives()[0].metadata == {"why": "stale"}
    assert len(rep) == len(FACTS)  # negatives are not facts
    assert rep.forget_negative(1).text == "violin lessons price"
    assert [n.id for n in rep.negatives()] == [0, 2]
    assert "negatives=2" in repr(rep)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.store_negative(""), InvalidInputError),
        (lambda m: m.store_negative_many(["ok", "  "]), InvalidInputError),
        (lambda m: m.store_negative(3), InvalidTypeError),
        (lambda m: m.store_negative_many(["a"], [{"x": object()}]), InvalidInputError),
        (lambda m: m.forget_negative(99), UnknownIdError),
        (lambda m: m.diagnose("x", max_steps=0), InvalidInputError),
        (lambda m: m.diagnose("x", tol=-1.0), InvalidInputError),
        (lambda m: m.diagnose(""), InvalidInputError),
    ],
)
def test_bad_negative_calls_change_nothing(rep: HopfieldMemory, call, error) -> None:
    rep.store_negative("Eiffel Tower opening hours")
    before = snapshot(rep)
    with pytest.raises(error):
        call(rep)
    assert snapshot(rep) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beta_neg": 0},
        {"beta_neg": float("inf")},
        {"clamp_radius": -1.0},
        {"neg_strength": float("nan")},
        {"neg_strength": 0},
        {"repulsive": "yes"},
    ],
)
def test_bad_repulsion_arguments(kwargs: dict) -> None:
    with pytest.raises(HopfieldMemoryError):
        HopfieldMemory(**kwargs)


def test_parameters_round_trip_as_keyword_arguments() -> None:
    mem = HopfieldMemory(
        repulsive=True, beta_neg=3.0, clamp_radius=None, neg_strength=0.25, num_steps=None
    )
    params = mem.parameters()
    assert {"repulsive", "beta_neg", "clamp_radius", "neg_strength"} <= params.keys()
    again = HopfieldMemory(encoder=mem.encoder, **params)
    assert again.parameters() == params


def test_a_cue_on_a_negative_abstains_with_that_reason(rep: HopfieldMemory) -> None:
    assert rep.query_or_none("capital of Japan Tokyo") == FACTS[3]
    rep.store_negative("capital of Japan Tokyo")
    report = rep.match_quality("capital of Japan Tokyo")
    assert report.is_match is False and report.reason is AbstainReason.NEGATIVE_MATCH
    assert report.negative_similarity == pytest.approx(1.0, abs=1e-5)
    assert "declared negative" in report.explanation
    assert report.as_dict()["reason"] == "negative_match"
    assert report.candidates[0].text == FACTS[3]  # still visible for inspection
    # cues away from the negative keep their answers
    assert rep.query_or_none("Eiffel Tower Paris") == FACTS[0]
    assert rep.query_or_none("violin orchestra") == FACTS[2]


def test_gate_decides_negative_match_first() -> None:
    policy = GatePolicy(min_negative_similarity=0.5)
    sims = np.array([0.9, 0.9, 0.9, 0.1], dtype=np.float32)
    gaps = np.ones(4, dtype=np.float32)
    neg = np.array([0.95, 0.6, 0.4, 0.6], dtype=np.float32)
    assert decide(policy, sims, gaps, None, neg) == [
        AbstainReason.NEGATIVE_MATCH,
        None,  # the fact is closer than the negative
        None,  # the negative is below the threshold
        AbstainReason.NEGATIVE_MATCH,  # more informative than no_overlap
    ]
    assert decide(policy, sims, gaps, None) == [None, None, None, AbstainReason.NO_OVERLAP]


def test_policy_round_trip_keeps_the_negative_threshold() -> None:
    policy = GatePolicy(min_negative_similarity=0.7, source="x")
    assert GatePolicy.from_dict(policy.to_dict()) == policy
    old = {k: v for k, v in policy.to_dict().items() if k != "min_negative_similarity"}
    assert GatePolicy.from_dict(old).min_negative_similarity == GatePolicy().min_negative_similarity
    with pytest.raises(InvalidInputError):
        GatePolicy(min_negative_similarity=1.5)


def test_min_similarity_override_keeps_the_negative_threshold(rep: HopfieldMemory) -> None:
    rep.policy = dataclasses.replace(rep.policy, min_negative_similarity=0.9)
    report = rep.match_quality("topology", min_similarity=0.1)
    assert report.policy.min_negative_similarity == 0.9


words = st.sampled_from(
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
)
sentences = st.lists(words, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=st.lists(sentences, min_size=1, max_size=8),
    cue=sentences,
    num_steps=st.sampled_from([1, 3, None]),
)
def test_this_cue_must_not_retrieve_any_fact_once_declared_negative(
    facts: list[str], cue: str, num_steps: int | None
) -> None:
    """ "This cue must not retrieve that fact": declaring the cue negative guarantees it, for any
    facts (including the cue itself stored as a fact) and any number of update steps."""
    mem = HopfieldMemory(dim=128, repulsive=True, num_steps=num_steps)
    mem.store_many([*facts, cue])
    mem.store_negative(cue)
    assert mem.query_or_none(cue) is None
    assert mem.match_quality(cue).reason is AbstainReason.NEGATIVE_MATCH
    assert mem.query_or_none_many([cue, cue]) == [None, None]


def test_multi_step_batches_equal_single_calls_with_repulsion(facts: list[str]) -> None:
    mem = HopfieldMemory(repulsive=True, num_steps=None, neg_strength=0.5)
    mem.store_many(facts)
    mem.store_negative_many(["Tokyo Japan weather", "violin concert tickets"])
    cues = ["capital of Japan", "violin", "highest mountain", "Tokyo Japan weather"]
    batch = mem.match_quality_many(cues)
    for cue, report in zip(cues, batch, strict=True):
        single = mem.match_quality(cue)
        assert single.reason == report.reason
        assert [c.id for c in single.candidates] == [c.id for c in report.candidates]
        assert single.top_confidence == pytest.approx(report.top_confidence, abs=1e-5)


def test_multi_step_answers_use_the_repulsive_relax(facts: list[str]) -> None:
    plain = HopfieldMemory(num_steps=5, repulsive=True, neg_strength=1.0)
    plain.store_many(facts)
    before = plain.match_quality("Alice topology").top_confidence
    plain.store_negative("Bob violin orchestra")
    after = plain.match_quality("Alice topology").top_confidence
    cue = plain.encoder.encode_batch(["Alice topology"])
    res = kernel.relax(
        plain._store.patterns,
        cue,
        plain.beta,
        max_steps=5,
        tol=0.0,
        sentinel=True,
        negatives=plain._negatives.patterns,
        beta_neg=plain.beta_neg,
        clamp_radius=plain.clamp_radius,
        neg_strength=1.0,
    )
    sims = kernel.similarities(plain._store.patterns, res.states)
    expected = kernel.readout(sims, plain.beta, 2, sentinel=True).weights[0, 0]
    assert after == pytest.approx(float(expected), abs=1e-6)
    assert before > 0.5


# ------------------------------------------------------------------------------------ diagnose


@pytest.mark.parametrize("repulsive", [False, True])
def test_diagnose_reports_the_numbers_of_kernel_relax(facts: list[str], repulsive: bool) -> None:
    mem = HopfieldMemory(repulsive=repulsive, beta=8.0, neg_strength=0.3)
    mem.store_many(facts)
    if repulsive:
        mem.store_negative_many(["Japan Tokyo travel", "Paris tower tickets"])
    cue = "capital of Japan"
    d = mem.diagnose(cue, max_steps=60, tol=1e-6)
    res = kernel.relax(
        mem._store.patterns,
        mem.encoder.encode_batch([cue]),
        8.0,
        max_steps=60,
        tol=1e-6,
        sentinel=True,
        negatives=mem._negatives.patterns if repulsive else None,
        beta_neg=mem.beta_neg,
        clamp_radius=mem.clamp_radius if repulsive else None,
        neg_strength=0.3,
    )
    assert isinstance(d, Diagnosis)
    assert d.steps == int(res.steps[0]) and d.converged == bool(res.converged[0])
    assert d.repulsive is repulsive
    n = d.steps + 1
    assert d.energies == tuple(res.energies[:n, 0].astype(np.float64).tolist())
    assert d.attractive_energy == tuple(res.terms.attractive[:n, 0].tolist())
    assert d.repulsive_energy == tuple(res.terms.repulsive[:n, 0].tolist())
    assert d.quadratic_energy == tuple(res.terms.quadratic[:n, 0].tolist())
    assert d.final_confidence == float(res.weights[0].max())
    best = int(res.weights[0].argmax())
    assert d.top[0].id == int(mem._store.ids[best]) and d.top[0].text == FACTS[3]
    assert d.top[0].weight == float(res.weights[0, best])
    assert [t.weight for t in d.top] == sorted((t.weight for t in d.top), reverse=True)
    assert (d.negative_similarity is not None) is repulsive
    assert set(d) == {"steps", "converged", "final_confidence", "repulsive", "recommendation"}
    assert d["steps"] == d.steps and isinstance(d["recommendation"], Recommendation)
    assert d.as_dict()["recommendation"] == d.recommendation.value
    assert d.advice and f"steps={d.steps}" in d.advice
    if not repulsive:
        assert (d.baseline_steps, d.baseline_converged) == (d.steps, d.converged)


def test_diagnose_many_equals_single_calls(rep: HopfieldMemory) -> None:
    rep.store_negative("Tokyo weather")
    cues = ["capital of Japan", "Python Guido", "door code Monday"]
    many = rep.diagnose_many(cues)
    for cue, d in zip(cues, many, strict=True):
        one = rep.diagnose(cue)
        assert (one.steps, one.converged, one.top[0].id) == (d.steps, d.converged, d.top[0].id)
        np.testing.assert_allclose(one.energies, d.energies, atol=1e-5)
    assert rep.diagnose_many([]) == []


def test_diagnose_recommendations() -> None:
    empty = HopfieldMemory()
    d = empty.diagnose("anything")
    assert d.recommendation is Recommendation.STORE_FACTS and d.steps == 0
    mem = HopfieldMemory()
    mem.store_many(FACTS)
    assert mem.diagnose("Eiffel Tower Paris").recommendation is Recommendation.NONE
    # two near-identical facts: a slow, split state; the advice names the competitor
    twins = HopfieldMemory(beta=8.0)
    twins.store_many(["Alice works in London office", "Alice works in Berlin office"])
    d = twins.diagnose("Alice works office")
    assert d.recommendation is Recommendation.ENABLE_REPULSION
    assert "store_negative" in d.advice
    rep = HopfieldMemory(beta=8.0, repulsive=True)
    rep.store_many(["Alice works in London office", "Alice works in Berlin office"])
    assert rep.diagnose("Alice works office").recommendation is Recommendation.STORE_NEGATIVE
    rep.store_negative("Berlin office")
    d = rep.diagnose("Alice works office")
    assert d.repulsive and d.recommendation in {
        Recommendation.KEEP_REPULSION,
        Recommendation.DISABLE_REPULSION,
        Recommendation.NONE,
    }
    assert str(d.baseline_steps) in d.advice
