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

Repulsive attention (optional negative patterns ``Y`` of shape (m, dim), inverse temperature
``beta_neg``, clamp radius ``r``) adds "hills" around the negatives::

    v      = softmax(beta_neg * Y xi)                repulsive weights (no sentinel)
    xi_new = clamp_r(X^T w - lam * Y^T v)            clamp_r(z) = z * min(1, r / ||z||)
    E(xi)  = E_att + E_rep + E_quad
    E_att  = -lse(beta, X xi) / beta                 (with the sentinel's zero logit if enabled)
    E_rep  = +lam * lse(beta_neg, Y xi) / beta_neg

``lam`` (``neg_strength``) is 1 in the seed design; the repulsive softmax always has total mass
1, so at ``lam = 1`` a negative pushes with the force of a whole stored pattern wherever the
state is, which the benchmark shows is usually too strong.
    E_quad = ||xi||^2 / 2

Without negatives (``m = 0``) and with ``r >= 1`` the repulsive step is the plain step: the plain
state is a convex combination of unit rows, so the clamp never bites. The plain update is the
concave-convex procedure on ``E`` and never raises it. With negatives it is *not* a descent
method in general: ``E_rep`` is convex, and the update linearises it as if it were concave, and
the clamp is a projection that ignores ``E``. :class:`Relaxation` therefore logs all three terms
per step, and the test suite and ``benchmarks/bench_repulsive.py`` measure how often ``E`` rises.
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
        Energy of the start state and after every step, for logging and diagnosis; the sum of
        the three rows of ``terms``.
    terms : EnergyTerms
        The attractive, repulsive and quadratic parts of ``energies``, each (steps + 1, q). The
        repulsive part is zeros without negatives.
    negative_weights : ndarray of shape (q, m)
        Repulsive softmax weights of the last step; shape (q, 0) without negatives.
    """

    states: np.ndarray
    weights: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    energies: np.ndarray
    terms: EnergyTerms
    negative_weights: np.ndarray


@dataclass(frozen=True)
class EnergyTerms:
    """The energy split into its terms; arrays of shape () or (q,) (or (steps + 1, q) in a
    :class:`Relaxation`), float32.

    Attributes
    ----------
    attractive : ndarray
        ``E_att = -lse(beta, X xi) / beta``.
    repulsive : ndarray
        ``E_rep = +lse(beta_neg, Y xi) / beta_neg``; zeros without negatives.
    quadratic : ndarray
        ``E_quad = ||xi||^2 / 2``.
    """

    attractive: np.ndarray
    repulsive: np.ndarray
    quadratic: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """``E_att + E_rep + E_quad``."""
        return self.attractive + self.repulsive + self.quadratic


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


def clamp_norm(states: np.ndarray, radius: float | None) -> np.ndarray:
    """Scale every state (last axis) whose L2 norm exceeds ``radius`` back onto the sphere of
    that radius, in place; ``radius=None`` leaves the states alone. Returns ``states``."""
    if radius is None:
        return states
    r = as_f32(radius)
    norms = np.sqrt(np.einsum("...d,...d->...", states, states))
    over = norms > r
    if np.any(over):
        scale = np.ones_like(norms)
        scale[over] = r / norms[over]
        states *= scale[..., None]
    return states


def repulsive_step(
    patterns: np.ndarray,
    states: np.ndarray,
    beta: float,
    *,
    negatives: np.ndarray | None = None,
    beta_neg: float = 6.0,
    clamp_radius: float | None = 1.5,
    neg_strength: float = 1.0,
    sentinel: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One repulsive update
    ``xi_new = clamp(X^T softmax(beta X xi) - neg_strength * Y^T softmax(beta_neg Y xi))``.

    patterns : (n, dim); negatives : (m, dim) or None; states : (dim,) or (q, dim).
    Returns ``(new_states, weights, negative_weights)`` with the shape of ``states``, (…, n) and
    (…, m). With no negatives (None or m = 0) only the clamp differs from :func:`hopfield_step`.
    """
    new, weights = hopfield_step(patterns, states, beta, sentinel=sentinel)
    if negatives is None or len(negatives) == 0:
        neg_weights = np.zeros((*states.shape[:-1], 0), dtype=np.float32)
    else:
        logits = similarities(negatives, states)
        logits *= as_f32(beta_neg)
        neg_weights, _ = softmax(logits)
        push = neg_weights @ negatives
        if neg_strength != 1.0:
            push *= as_f32(neg_strength)
        new -= push
    return clamp_norm(new, clamp_radius), weights, neg_weights


def energy_terms(
    patterns: np.ndarray,
    states: np.ndarray,
    beta: float,
    *,
    negatives: np.ndarray | None = None,
    beta_neg: float = 6.0,
    neg_strength: float = 1.0,
    sentinel: bool = False,
) -> EnergyTerms:
    """The three energy terms of ``states`` (dim,) or (q, dim); shapes () or (q,)."""
    b = as_f32(beta)
    sims = similarities(patterns, states)
    sims *= b
    attractive = -logsumexp(sims, sentinel=sentinel) / b
    quadratic = as_f32(0.5) * np.einsum("...d,...d->...", states, states)
    if negatives is None or len(negatives) == 0:
        repulsive = np.zeros_like(quadratic)
    else:
        bn = as_f32(beta_neg)
        neg = similarities(negatives, states)
        neg *= bn
        repulsive = logsumexp(neg) / bn * as_f32(neg_strength)
    return EnergyTerms(
        np.asarray(attractive, dtype=np.float32),
        np.asarray(repulsive, dtype=np.float32),
        np.asarray(quadratic, dtype=np.float32),
    )


def energy(
    patterns: np.ndarray,
    states: np.ndarray,
    beta: float,
    *,
    negatives: np.ndarray | None = None,
    beta_neg: float = 6.0,
    neg_strength: float = 1.0,
    sentinel: bool = False,
) -> np.ndarray:
    """Energy ``E = E_att + E_rep + E_quad`` (see the module docstring); shape () or (q,).

    Without negatives this is ``-lse(beta, X xi) / beta + ||xi||^2 / 2``.
    """
    terms = energy_terms(
        patterns,
        states,
        beta,
        negatives=negatives,
        beta_neg=beta_neg,
        neg_strength=neg_strength,
        sentinel=sentinel,
    )
    return terms.total


def relax(
    patterns: np.ndarray,
    states: np.ndarray,
    beta: float,
    *,
    max_steps: int = 100,
    tol: float = 1e-5,
    sentinel: bool = False,
    negatives: np.ndarray | None = None,
    beta_neg: float = 6.0,
    clamp_radius: float | None = None,
    neg_strength: float = 1.0,
) -> Relaxation:
    """Repeat the update until every state moves less than ``tol`` (L2) or ``max_steps`` steps
    have run.

    Without ``negatives`` (None, or shape (0, dim)) and ``clamp_radius`` the update is
    :func:`hopfield_step`; otherwise it is :func:`repulsive_step` with ``beta_neg``,
    ``clamp_radius`` and ``neg_strength``. patterns : (n, dim); states : (dim,) or (q, dim),
    always returned batched as (q, ...). A state that has settled keeps being updated with the
    others; it stays where it is up to rounding, and its ``steps`` records the step at which it
    settled.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    xi = np.atleast_2d(np.asarray(states, dtype=np.float32))
    if negatives is not None and len(negatives) == 0:
        negatives = None
    plain = negatives is None and clamp_radius is None
    m = 0 if negatives is None else negatives.shape[0]
    q = xi.shape[0]
    steps = np.full(q, max_steps, dtype=np.int64)
    converged = np.zeros(q, dtype=bool)

    def terms_of(state: np.ndarray) -> EnergyTerms:
        return energy_terms(
            patterns,
            state,
            beta,
            negatives=negatives,
            beta_neg=beta_neg,
            neg_strength=neg_strength,
            sentinel=sentinel,
        )

    terms = [terms_of(xi)]
    weights = np.zeros((q, patterns.shape[0]), dtype=np.float32)
    neg_weights = np.zeros((q, m), dtype=np.float32)
    for step in range(1, max_steps + 1):
        if plain:
            new, weights = hopfield_step(patterns, xi, beta, sentinel=sentinel)
        else:
            new, weights, neg_weights = repulsive_step(
                patterns,
                xi,
                beta,
                negatives=negatives,
                beta_neg=beta_neg,
                clamp_radius=clamp_radius,
                neg_strength=neg_strength,
                sentinel=sentinel,
            )
        moved = np.linalg.norm(new - xi, axis=1)
        xi = new
        terms.append(terms_of(xi))
        settled = (moved < tol) & ~converged
        steps[settled] = step
        converged |= settled
        if converged.all():
            break
    stacked = EnergyTerms(
        np.stack([t.attractive for t in terms]),
        np.stack([t.repulsive for t in terms]),
        np.stack([t.quadratic for t in terms]),
    )
    return Relaxation(
        states=xi,
        weights=weights,
        steps=steps,
        converged=converged,
        energies=stacked.total,
        terms=stacked,
        negative_weights=neg_weights,
    )


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
