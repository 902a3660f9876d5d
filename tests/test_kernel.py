"""kernel: the equations, batch-first, float32, with hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unit_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from hopfield_memory import kernel

seeds = st.integers(0, 2**32 - 1)
betas = st.floats(0.5, 60.0)


def _reference_softmax(logits: np.ndarray, sentinel: bool) -> tuple[np.ndarray, float]:
    full = np.append(logits.astype(np.float64), 0.0) if sentinel else logits.astype(np.float64)
    e = np.exp(full - full.max())
    p = e / e.sum()
    return (p[:-1], p[-1]) if sentinel else (p, 0.0)


@given(seed=seeds, beta=betas, sentinel=st.booleans())
def test_weights_are_a_distribution(seed: int, beta: float, sentinel: bool) -> None:
    rng = np.random.default_rng(seed)
    x, q = unit_rows(rng, 17, 12), unit_rows(rng, 3, 12)
    logits = kernel.similarities(x, q) * np.float32(beta)
    weights, sw = kernel.softmax(logits, sentinel=sentinel)
    assert np.all(weights >= 0) and np.all(sw >= 0)
    np.testing.assert_allclose(weights.sum(axis=1) + sw, 1.0, rtol=1e-5)
    for row in range(3):
        ref, ref_sw = _reference_softmax(logits[row], sentinel)
        np.testing.assert_allclose(weights[row], ref, atol=1e-6)
        assert sw[row] == pytest.approx(ref_sw, abs=1e-6)


def test_softmax_is_stable_for_huge_logits() -> None:
    logits = np.array([[1e4, 1e4 - 1.0, -1e4]], dtype=np.float32)
    weights, sw = kernel.softmax(logits, sentinel=True)
    assert np.isfinite(weights).all()
    assert weights[0, 0] == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-5)
    assert sw[0] == pytest.approx(0.0, abs=1e-30)
    assert np.isfinite(kernel.logsumexp(logits, sentinel=True)).all()


@given(seed=seeds, beta=betas)
def test_one_step_state_lies_in_convex_hull(seed: int, beta: float) -> None:
    """xi_new = X^T w with w a distribution: a convex combination of the stored patterns."""
    rng = np.random.default_rng(seed)
    x, q = unit_rows(rng, 9, 6), unit_rows(rng, 1, 6)[0]
    new, w = kernel.hopfield_step(x, q, beta)
    np.testing.assert_allclose(w @ x, new, atol=1e-6)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-5)
    # and for every direction, the projection is within the patterns' range
    for direction in unit_rows(rng, 5, 6):
        proj = x @ direction
        assert proj.min() - 1e-5 <= new @ direction <= proj.max() + 1e-5


@settings(max_examples=60)
@given(seed=seeds, beta=betas, sentinel=st.booleans())
def test_energy_does_not_rise_over_relax_steps(seed: int, beta: float, sentinel: bool) -> None:
    rng = np.random.default_rng(seed)
    x = unit_rows(rng, 25, 8)
    q = unit_rows(rng, 4, 8) * np.float32(rng.uniform(0.2, 1.5))
    result = kernel.relax(x, q, beta, max_steps=30, tol=0.0, sentinel=sentinel)
    rises = np.diff(result.energies.astype(np.float64), axis=0)
    assert (rises <= 1e-4).all()


def test_energy_matches_definition() -> None:
    rng = np.random.default_rng(3)
    x, q = unit_rows(rng, 10, 5), unit_rows(rng, 1, 5)[0]
    beta = 4.0
    s = (x @ q).astype(np.float64)
    expected = -np.log(np.exp(beta * s).sum()) / beta + 0.5 * float(q @ q)
    assert float(kernel.energy(x, q, beta)) == pytest.approx(expected, rel=1e-5)


def test_relax_reports_convergence_and_steps() -> None:
    rng = np.random.default_rng(0)
    x = unit_rows(rng, 5, 64)
    cue = x[2] + 0.1 * unit_rows(rng, 1, 64)[0]
    result = kernel.relax(x, cue, 30.0, max_steps=50, tol=1e-6)
    assert result.converged.tolist() == [True]
    assert 1 <= result.steps[0] < 50
    assert result.weights[0].argmax() == 2
    np.testing.assert_allclose(result.states[0], x[2], atol=1e-3)
    capped = kernel.relax(x, cue, 30.0, max_steps=1, tol=0.0)
    assert capped.converged.tolist() == [False] and capped.steps.tolist() == [1]
    with pytest.raises(ValueError):
        kernel.relax(x, cue, 30.0, max_steps=0)


@given(seed=seeds, beta=betas, sentinel=st.booleans(), k=st.integers(1, 12))
def test_readout_matches_full_softmax(seed: int, beta: float, sentinel: bool, k: int) -> None:
    rng = np.random.default_rng(seed)
    x, q = unit_rows(rng, 30, 10), unit_rows(rng, 4, 10)
    sims = kernel.similarities(x, q)
    weights, sw = kernel.softmax(sims * np.float32(beta), sentinel=sentinel)
    out = kernel.readout(sims.copy(), beta, k, sentinel=sentinel)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(out.indices, order)
    np.testing.assert_allclose(out.weights, np.take_along_axis(weights, order, 1), atol=1e-6)
    np.testing.assert_allclose(out.sentinel_weight, sw, atol=1e-6)
    lse = kernel.logsumexp(sims * np.float32(beta), sentinel=sentinel)
    np.testing.assert_allclose(out.lse, lse, rtol=1e-5, atol=1e-5)


@given(seed=seeds, beta=betas)
def test_permuting_patterns_permutes_weights(seed: int, beta: float) -> None:
    rng = np.random.default_rng(seed)
    x, q = unit_rows(rng, 12, 7), unit_rows(rng, 1, 7)[0]
    perm = rng.permutation(12)
    _, w = kernel.hopfield_step(x, q, beta, sentinel=True)
    _, w_perm = kernel.hopfield_step(x[perm], q, beta, sentinel=True)
    # float32 sums in a different order: agree to rounding, not bit for bit
    np.testing.assert_allclose(w_perm, w[perm], rtol=1e-5, atol=1e-6)


def test_single_and_batch_agree() -> None:
    rng = np.random.default_rng(1)
    x, q = unit_rows(rng, 40, 16), unit_rows(rng, 3, 16)
    batch_new, batch_w = kernel.hopfield_step(x, q, 8.0)
    for i in range(3):
        new, w = kernel.hopfield_step(x, q[i], 8.0)
        np.testing.assert_allclose(new, batch_new[i], atol=1e-6)
        np.testing.assert_allclose(w, batch_w[i], atol=1e-6)


@pytest.mark.parametrize("beta", [8.0, np.float64(8.0), 8])
def test_hot_path_stays_float32(beta: float) -> None:
    """A float64 beta must not turn the float32 pattern product into a float64 one."""
    rng = np.random.default_rng(2)
    x, q = unit_rows(rng, 50, 8), unit_rows(rng, 2, 8)
    sims = kernel.similarities(x, q)
    assert sims.dtype == np.float32
    out = kernel.readout(sims, beta, 2, sentinel=True)
    for arr in (out.weights, out.similarities, out.sentinel_weight, out.lse):
        assert arr.dtype == np.float32
    new, w = kernel.hopfield_step(x, q, beta, sentinel=True)
    assert new.dtype == np.float32 and w.dtype == np.float32
    assert kernel.energy(x, q, beta).dtype == np.float32
    assert kernel.relax(x, q, beta, max_steps=3).states.dtype == np.float32


def test_top_indices_break_ties_by_lower_index() -> None:
    sims = np.array([[0.5, 0.9, 0.9, 0.1]], dtype=np.float32)
    assert kernel.readout(sims.copy(), 1.0, 3, sentinel=False).indices.tolist() == [[1, 2, 0]]
    many = np.zeros((1, 30), dtype=np.float32)
    assert kernel.readout(many, 1.0, 10, sentinel=False).indices.tolist() == [list(range(10))]
