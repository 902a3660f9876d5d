r"""The Modern Hopfield Network update as pure, batch-first float32 functions.

Notation (Ramsauer et al., 2021, "Hopfield Networks is All You Need"):

* ``X`` : stored patterns, ndarray of shape (n, dim), one unit-norm pattern per row.
* ``xi`` : state pattern(s), shape (dim,) for one cue or (q, dim) for a batch.
* ``beta`` : inverse temperature; larger means sharper retrieval.

The equations, written once::

    s      = X xi                                   similarities (raw cosines for unit rows)
    w      = softmax(beta * s)                      attention weights over stored patterns
    xi_new = X^T w                                  one Hopfield update step
    lse    = log sum_i exp(beta * s_i)              (log-sum-exp)
    E(xi)  = -lse / beta + ||xi||^2 / 2             energy; never rises over steps at fixed beta

With ``sentinel=True`` the softmax also holds an implicit zero pattern, the "no match" state: its
logit is always ``beta * 0 = 0`` and it adds nothing to ``xi_new``. Its weight,
``exp(0 - lse)``, grows when no stored pattern is closer to the cue than the origin. It is never a
row of ``X``.

Every function takes float32 arrays and returns float32 arrays; Python-float ``beta`` values are
converted once, so the hot path never upcasts to float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One BLAS-free pass of masked argmax beats argpartition up to about this many results.
_ARGMAX_TOP_K_LIMIT = 8


@dataclass(frozen=True)
class Readout:
    """The answer of one softmax for a batch of q cues; all arrays are float32 unless noted.

    Attributes
    ----------
    indices : ndarray of int64, shape (q, k)
        Rows of ``X`` with the largest similarities, best first.
    similarities : ndarray of shape (q, k)
        Their raw similarities ``s``.
    weights : ndarray of shape (q, k)
        Their softmax weights (the sentinel, if any, is in the denominator).
    sentinel_weight : ndarray of shape (q,)
        Weight on the zero pattern; zeros when there is no sentinel.
    lse : ndarray of shape (q,)
        ``log sum exp(beta * s)`` including the sentinel's zero logit when present.
    """

    indices: np.ndarray
    similarities: np.ndarray
    weights: np.ndarray
    sentinel_weight: np.ndarray
    lse: np.ndarray


@dataclass(frozen=True)
class Relaxation:
    """Result of :func:`relax` for a batch of q cues.

    Attributes
    ----------
    states : ndarray of shape (q, dim)
        Final state patterns.
    weights : ndarray of shape (q, n)
        Softmax weights of the last step (the step that produced ``states``).
    steps : ndarray of int64, shape (q,)
        Update steps taken until the state moved less than ``tol`` (or ``max_steps``).
    converged : ndarray of bool, shape (q,)
        Whether the state settled within ``max_steps``.
    energies : ndarray of shape (steps + 1, q)
        Energy of the start state and after every step, for logging and diagnosis.
    """

    states: np.ndarray
    weights: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    energies: np.ndarray


def as_f32(beta: float) -> np.float32:
    """``beta`` as a float32 scalar, so that ``beta * s`` stays float32."""
    return np.float32(beta)


def similarities(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Raw similarities ``X xi``: shape (n,) for a state (dim,), (q, n) for states (q, dim).

    A single state uses one matrix-vector product (GEMV), a batch one matrix product (GEMM):
    either way a single pass over ``patterns``.
    """
    if states.ndim == 1:
        return patterns @ states
    return states @ patterns.T


def logsumexp(logits: np.ndarray, *, sentinel: bool = False) -> np.ndarray:
    """Stable ``log sum exp`` over the last axis; ``sentinel`` adds one zero logit.

    logits : ndarray of shape (..., n); returns shape (...,).
    """
    shift = _shift(logits, sentinel)
    total = np.exp(logits - shift[..., None]).sum(axis=-1)
    if sentinel:
        total += np.exp(-shift)
    return np.log(total) + shift


def softmax(logits: np.ndarray, *, sentinel: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Stable softmax over the last axis of ``logits`` (..., n).

    Returns ``(weights, sentinel_weight)`` with shapes (..., n) and (...,). With
    ``sentinel=True`` an extra zero logit takes part and its weight is returned separately (the
    weights then sum to ``1 - sentinel_weight``); otherwise ``sentinel_weight`` is zeros.
    """
    shift = _shift(logits, sentinel)
    weights = np.exp(logits - shift[..., None])
    total = weights.sum(axis=-1)
    sentinel_weight = np.exp(-shift) if sentinel else np.zeros_like(total)
    total += sentinel_weight
    weights /= total[..., None]
    return weights, sentinel_weight / total


def hopfield_step(
    patterns: np.ndarray, states: np.ndarray, beta: float, *, sentinel: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One update ``xi_new = X^T softmax(beta X xi)``.

    patterns : (n, dim); states : (dim,) or (q, dim). Returns ``(new_states, weights)`` with the
    shape of ``states`` and (n,) or (q, n).
    """
    logits = similarities(patterns, states)
    logits *= as_f32(beta)
    weights, _ = softmax(logits, sentinel=sentinel)
    return weights @ patterns, weights


def energy(
    patterns: np.ndarray, states: np.ndarray, beta: float, *, sentinel: bool = False
) -> np.ndarray:
    """Energy ``E(xi) = -lse(beta, X xi) / beta + ||xi||^2 / 2``; shape () or (q,)."""
    b = as_f32(beta)
    sims = similarities(patterns, states)
    sims *= b
    squared_norm = np.einsum("...d,...d->...", states, states)
    return -logsumexp(sims, sentinel=sentinel) / b + 0.5 * squared_norm


def relax(
    patterns: np.ndarray,
    states: np.ndarray,
    beta: float,
    *,
    max_steps: int = 100,
    tol: float = 1e-5,
    sentinel: bool = False,
) -> Relaxation:
    """Repeat :func:`hopfield_step` until every state moves less than ``tol`` (L2) or
    ``max_steps`` steps have run.

    patterns : (n, dim); states : (dim,) or (q, dim), always returned batched as (q, ...).
    A state that has settled keeps being updated with the others; it stays where it is up to
    rounding, and its ``steps`` records the step at which it settled.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    xi = np.atleast_2d(np.asarray(states, dtype=np.float32))
    q = xi.shape[0]
    steps = np.full(q, max_steps, dtype=np.int64)
    converged = np.zeros(q, dtype=bool)
    energies = [energy(patterns, xi, beta, sentinel=sentinel)]
    weights = np.zeros((q, patterns.shape[0]), dtype=np.float32)
    for step in range(1, max_steps + 1):
        new, weights = hopfield_step(patterns, xi, beta, sentinel=sentinel)
        moved = np.linalg.norm(new - xi, axis=1)
        xi = new
        energies.append(energy(patterns, xi, beta, sentinel=sentinel))
        settled = (moved < tol) & ~converged
        steps[settled] = step
        converged |= settled
        if converged.all():
            break
    return Relaxation(xi, weights, steps, converged, np.stack(energies))


def readout(sims: np.ndarray, beta: float, top_k: int, *, sentinel: bool) -> Readout:
    """The top ``top_k`` patterns of one softmax over ``sims`` (q, n), without normalising all n
    weights: one argmax-style scan per result and one exp pass, so the cost is O(q n).

    ``sims`` is used as scratch space and holds garbage afterwards.
    """
    q, n = sims.shape
    k = min(top_k, n)
    indices = top_indices(sims, k)
    top_sims = np.take_along_axis(sims, indices, axis=1)
    b = as_f32(beta)
    shift = b * top_sims[:, 0]
    if sentinel:
        np.maximum(shift, 0, out=shift)
    np.multiply(sims, b, out=sims)
    np.subtract(sims, shift[:, None], out=sims)
    np.exp(sims, out=sims)
    total = sims.sum(axis=1)
    sentinel_weight = np.exp(-shift) if sentinel else np.zeros(q, dtype=np.float32)
    total += sentinel_weight
    weights = np.exp(b * top_sims - shift[:, None]) / total[:, None]
    return Readout(
        indices=indices,
        similarities=top_sims,
        weights=weights.astype(np.float32, copy=False),
        sentinel_weight=(sentinel_weight / total).astype(np.float32, copy=False),
        lse=(np.log(total) + shift).astype(np.float32, copy=False),
    )


def _shift(logits: np.ndarray, sentinel: bool) -> np.ndarray:
    """Per-row maximum logit (at least 0 with a sentinel), the shift that keeps exp finite."""
    shift = logits.max(axis=-1)
    if sentinel:
        shift = np.maximum(shift, 0)
    return np.asarray(shift)


def top_indices(sims: np.ndarray, k: int) -> np.ndarray:
    """Indices (q, k) of the k largest entries per row of ``sims`` (q, n), best first.

    Ties go to the lower index, so the answer is deterministic. ``sims`` is restored afterwards.
    """
    q = sims.shape[0]
    if k <= _ARGMAX_TOP_K_LIMIT:
        rows = np.arange(q)
        out = np.empty((q, k), dtype=np.int64)
        saved = np.empty((q, k), dtype=sims.dtype)
        for j in range(k):
            best = sims.argmax(axis=1)
            out[:, j] = best
            saved[:, j] = sims[rows, best]
            sims[rows, best] = -np.inf
        for j in range(k):
            sims[rows, out[:, j]] = saved[:, j]
        return out
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part_sims = np.take_along_axis(sims, part, axis=1)
    order = np.lexsort((part, -part_sims), axis=1)
    return np.take_along_axis(part, order, axis=1)
