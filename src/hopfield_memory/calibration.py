"""Fit a :class:`~hopfield_memory.gate.GatePolicy` to a memory's facts or to labelled cues.

Two pure functions, no state, no I/O:

* :func:`calibrate_from_patterns` needs only the stored patterns. It measures how similar each
  fact is to its nearest *other* fact. A cue about a fact that is *not* stored but belongs to the
  same domain ("related but different") resembles the stored facts about as much as they resemble
  each other, so a high quantile of those nearest-neighbour cosines is a floor that such cues
  rarely clear, while paraphrases of a stored fact (cosine well above it) do.
* :func:`calibrate_from_examples` needs cues with known answers. It searches thresholds on the
  three signals for the highest recall at a required precision, or for the best joint accuracy.

:func:`evaluate_policy` scores any policy on labelled signals with the same rule the gate applies
(answer when ``max_similarity >= min_similarity`` and ``gap >= min_gap`` and
``sentinel_weight <= max_sentinel_weight``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import InvalidInputError
from .gate import GatePolicy

if TYPE_CHECKING:
    from .memory import HopfieldMemory
    from .tiered import TieredMemory

logger = logging.getLogger(__name__)

__all__ = [
    "GateScores",
    "calibrate_from_examples",
    "calibrate_from_patterns",
    "evaluate_policy",
    "nearest_other_similarities",
]


@dataclass(frozen=True)
class GateScores:
    """How a policy does on labelled cues.

    Attributes
    ----------
    precision : float
        Correct answers / answers given (1.0 when nothing is answered).
    recall : float
        Correct answers / cues that should be answered (the stored-fact cues answered correctly).
    refusal_rate : float
        Cues that should not be answered and were refused / such cues.
    joint_accuracy : float
        (correct answers + correct refusals) / all cues.
    answered : int
        Cues answered.
    """

    precision: float
    recall: float
    refusal_rate: float
    joint_accuracy: float
    answered: int


# ------------------------------------------------------------------------------ from patterns


def nearest_other_similarities(
    patterns: np.ndarray,
    *,
    beta: float | None = None,
    max_sample: int = 4096,
    random_state: int | None = 0,
    block_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Cosine of (a sample of) facts to their nearest other fact, computed in blocks.

    Parameters
    ----------
    patterns : ndarray of shape (n_patterns, dim)
        Unit-norm stored patterns (zero rows are skipped as queries).
    beta : float or None
        When given, also return the gap each sampled fact would get if cued with its own text.
    max_sample : int
        Facts used as queries; above this a seeded random sample is drawn.
    random_state : int or None
        Seed of that sample.
    block_size : int
        Rows per block on both sides; memory is O(block_size**2), never O(n**2).

    Returns
    -------
    nearest : ndarray of shape (n_sample,), float32
        Largest cosine between each sampled fact and any *other* fact.
    self_gap : ndarray of shape (n_sample,) or None
        ``w_self - w_runner_up`` of ``softmax(beta * X x_i)`` with a zero-logit sentinel.
    """
    x = _check_patterns(patterns)
    n = x.shape[0]
    if n < 2:
        raise InvalidInputError(f"need at least 2 stored patterns to calibrate, got {n}")
    _check_int("max_sample", max_sample, 1)
    _check_int("block_size", block_size, 1)
    candidates = np.flatnonzero(np.einsum("nd,nd->n", x, x) > 0)
    if candidates.size == 0:
        raise InvalidInputError("every stored pattern is a zero row; nothing to calibrate")
    if candidates.size > max_sample:
        rng = np.random.default_rng(random_state)
        candidates = np.sort(rng.choice(candidates, size=max_sample, replace=False))
    m = candidates.size
    best = np.full(m, -np.inf, dtype=np.float32)
    second = np.full(m, -np.inf, dtype=np.float32)
    b32 = np.float32(beta) if beta is not None else None
    lse = np.full(m, -np.inf, dtype=np.float64)  # log sum over other facts of exp(beta * s)
    for q0 in range(0, m, block_size):
        rows = candidates[q0 : q0 + block_size]
        queries = x[rows]
        for c0 in range(0, n, block_size):
            sims = queries @ x[c0 : c0 + block_size].T  # (bq, bc) float32
            local = rows - c0
            inside = np.flatnonzero((local >= 0) & (local < sims.shape[1]))
            sims[inside, local[inside]] = -np.inf  # never count a fact as its own neighbour
            top2 = _top2(sims)
            merged = np.concatenate(
                [best[q0 : q0 + len(rows), None], second[q0 : q0 + len(rows), None], top2], axis=1
            )
            merged.sort(axis=1)
            best[q0 : q0 + len(rows)] = merged[:, -1]
            second[q0 : q0 + len(rows)] = merged[:, -2]
            if b32 is not None:
                logits = (sims * b32).astype(np.float64)
                block_lse = _logsumexp_rows(logits)
                lse[q0 : q0 + len(rows)] = np.logaddexp(lse[q0 : q0 + len(rows)], block_lse)
    if b32 is None:
        return best, None
    beta64 = float(beta)  # type: ignore[arg-type]
    # softmax over [self (cosine 1), others, sentinel (logit 0)], shifted by beta for stability
    log_z = np.logaddexp(np.logaddexp(0.0, lse - beta64), -beta64)
    w_self = np.exp(-log_z)
    w_next = np.exp(beta64 * best.astype(np.float64) - beta64 - log_z)
    return best, (w_self - w_next).astype(np.float32)


def calibrate_from_patterns(
    patterns: np.ndarray,
    *,
    beta: float,
    base: GatePolicy,
    quantile: float = 0.9,
    max_min_similarity: float = 0.9,
    max_sample: int = 4096,
    random_state: int | None = 0,
) -> GatePolicy:
    """Raise ``min_similarity`` to the level of "related but different" facts in this memory.

    Rule: ``min_similarity = clip(q, base.min_similarity, max_min_similarity)`` where ``q`` is the
    ``quantile`` of the facts' nearest-other-fact cosines. Why: a cue about an unstored fact from
    the same domain is, to the memory, one more fact of that domain; its best cosine is
    distributed like the nearest-neighbour cosines of the stored facts themselves, so answering
    only above their upper quantile refuses most such look-alikes. The base threshold is a floor
    (it already separates unrelated text for the encoder); the cap keeps paraphrases answerable
    when the memory holds near-duplicates.

    ``min_gap`` is lowered when needed so that at least 95% of the facts, cued with their own
    text, would pass it (half of their 5th-percentile self-gap); ``max_sentinel_weight`` is kept.

    Parameters
    ----------
    patterns : ndarray of shape (n_patterns, dim)
        The stored unit rows (float32).
    beta : float
        The memory's inverse temperature.
    base : GatePolicy
        Usually the encoder's default policy.
    quantile : float
        In (0, 1); higher refuses more look-alikes and more weak paraphrases.
    max_min_similarity : float
        Upper cap on the fitted ``min_similarity``.
    max_sample, random_state
        Facts used as queries above this many, drawn with this seed.

    Returns
    -------
    GatePolicy
        With ``source="calibrated:patterns(...)"``.
    """
    if not isinstance(base, GatePolicy):
        raise InvalidInputError(f"base must be a GatePolicy, got {type(base).__name__}")
    beta_f = _check_beta(beta)
    if not (isinstance(quantile, (int, float)) and 0.0 < quantile < 1.0):
        raise InvalidInputError(f"quantile must be in (0, 1), got {quantile!r}")
    if not (isinstance(max_min_similarity, (int, float)) and -1.0 <= max_min_similarity <= 1.0):
        raise InvalidInputError(
            f"max_min_similarity must be in [-1, 1], got {max_min_similarity!r}"
        )
    nearest, self_gap = nearest_other_similarities(
        patterns, beta=beta_f, max_sample=max_sample, random_state=random_state
    )
    level = float(np.quantile(nearest.astype(np.float64), quantile))
    floor = float(base.min_similarity)
    threshold = min(max(level, floor), max(float(max_min_similarity), floor))
    min_gap = float(base.min_gap)
    if self_gap is not None:
        reachable = 0.5 * float(np.quantile(self_gap.astype(np.float64), 0.05))
        min_gap = max(0.0, min(min_gap, reachable))
    logger.info(
        "calibrated from %d facts: nearest-other cosine q%.0f=%.3f -> min_similarity=%.3f",
        nearest.size,
        quantile * 100,
        level,
        threshold,
    )
    return GatePolicy(
        min_similarity=float(np.float32(threshold)),
        min_gap=float(np.float32(min_gap)),
        max_sentinel_weight=base.max_sentinel_weight,
        source=f"calibrated:patterns(n={nearest.size},q={quantile:g},level={level:.3f})",
    )


# ------------------------------------------------------------------------------ from examples


def evaluate_policy(
    policy: GatePolicy,
    max_similarity: np.ndarray,
    gap: np.ndarray,
    sentinel_weight: np.ndarray | None,
    should_match: np.ndarray,
    correct: np.ndarray | None = None,
) -> GateScores:
    """Score ``policy`` on labelled cues.

    Parameters
    ----------
    policy : GatePolicy
    max_similarity, gap : ndarray of shape (n_cues,)
        The cues' signals (from :meth:`HopfieldMemory.match_quality_many`).
    sentinel_weight : ndarray of shape (n_cues,) or None
        None when the memory has no sentinel.
    should_match : ndarray of bool, shape (n_cues,)
        True for cues whose fact is stored.
    correct : ndarray of bool, shape (n_cues,), optional
        True where the top candidate is the right fact; default: same as ``should_match``.
    """
    sim, gp, sw, pos, good = _check_examples(
        max_similarity, gap, sentinel_weight, should_match, correct
    )
    accept = _accept(policy, sim, gp, sw)
    return _scores(accept, pos, good)


def calibrate_from_examples(
    max_similarity: np.ndarray,
    gap: np.ndarray,
    sentinel_weight: np.ndarray | None,
    should_match: np.ndarray,
    *,
    correct: np.ndarray | None = None,
    target_precision: float | None = None,
    base: GatePolicy | None = None,
    n_grid: int = 32,
) -> GatePolicy:
    """Thresholds that answer the most cues correctly, from cues with known answers.

    With ``target_precision`` the search maximises recall (stored-fact cues answered with the
    right fact) among thresholds whose precision (right answers / answers) is at least the
    target; ties go to the higher joint accuracy. Without it, it maximises joint accuracy
    ((right answers + refusals of unstored cues) / cues). ``min_similarity`` is searched over
    every observed value; ``min_gap`` and ``max_sentinel_weight`` over ``n_grid`` quantiles of
    theirs plus "off" (0 and 1). Similarity thresholds sit midway between the neighbouring
    observed values, for margin.

    Answering nothing counts as precision 1, so a target is always reachable; when only that
    reaches it, the returned policy answers nothing (``min_similarity=1.0``) and a warning is
    logged.

    Parameters
    ----------
    max_similarity, gap : ndarray of shape (n_cues,)
    sentinel_weight : ndarray of shape (n_cues,) or None
    should_match : ndarray of bool, shape (n_cues,)
    correct : ndarray of bool, shape (n_cues,), optional
        True where the top candidate is the right fact (default ``should_match``): answering a
        stored-fact cue with the wrong fact counts as a false answer.
    target_precision : float or None
        In (0, 1].
    base : GatePolicy, optional
        Supplies ``max_sentinel_weight`` when ``sentinel_weight`` is None.
    n_grid : int
        Candidate values per secondary signal.

    Returns
    -------
    GatePolicy
        With ``source="calibrated:examples(...)"``.
    """
    sim, gp, sw, pos, good = _check_examples(
        max_similarity, gap, sentinel_weight, should_match, correct
    )
    if target_precision is not None and not (
        isinstance(target_precision, (int, float)) and 0.0 < target_precision <= 1.0
    ):
        raise InvalidInputError(
            f"target_precision must be in (0, 1] or None, got {target_precision!r}"
        )
    _check_int("n_grid", n_grid, 1)
    base = base if base is not None else GatePolicy()
    n = sim.size
    target = np.logical_and(pos, good)  # answering these is right
    negatives = ~pos
    n_pos = max(int(pos.sum()), 1)

    gap_grid = _grid(gp, n_grid, low=np.float32(0.0), high=None)
    sw_grid = (
        _grid(sw, n_grid, low=None, high=np.float32(1.0))
        if sw is not None
        else np.array([np.float32(base.max_sentinel_weight)])
    )
    # keys compare better-first; ties go to the least restrictive gap and sentinel thresholds
    best_key: tuple[float, ...] | None = None
    key: tuple[float, ...]
    best: tuple[float, float, float] = (1.0, 0.0, 1.0)
    order = np.argsort(-sim, kind="stable")
    sim_sorted = sim[order]
    target_sorted, negatives_sorted = target[order], negatives[order]
    n_neg = int(negatives.sum())
    # only cut points between distinct similarity values are realisable thresholds
    ks = np.flatnonzero(np.concatenate([[True], sim_sorted[1:] < sim_sorted[:-1], [True]]))
    for g in gap_grid:
        gap_ok = gp >= g
        for w in sw_grid:
            ok = gap_ok if sw is None else gap_ok & (sw <= w)
            ok_sorted = ok[order]
            # accepting the k highest-similarity cues (that pass gap/sentinel), k = 0..n
            tp = np.concatenate([[0], np.cumsum(ok_sorted & target_sorted)])
            answered = np.concatenate([[0], np.cumsum(ok_sorted)])
            refused_neg = n_neg - np.concatenate([[0], np.cumsum(ok_sorted & negatives_sorted)])
            precision = np.where(answered[ks] > 0, tp[ks] / np.maximum(answered[ks], 1), 1.0)
            recall = tp[ks] / n_pos
            joint = (tp[ks] + refused_neg[ks]) / n
            if target_precision is not None:
                feasible = precision >= target_precision - 1e-12
                if feasible.any():
                    idx = np.flatnonzero(feasible)
                    i = idx[np.lexsort((joint[idx], recall[idx]))[-1]]
                    key = (float(recall[i]), float(joint[i]), -float(g), float(w))
                    if best_key is None or key > best_key:
                        best_key = key
                        best = (_sim_threshold(sim_sorted, int(ks[i])), float(g), float(w))
            else:
                i = int(np.argmax(joint))
                key = (float(joint[i]), -float(g), float(w))
                if best_key is None or key > best_key:
                    best_key = key
                    best = (_sim_threshold(sim_sorted, int(ks[i])), float(g), float(w))
    if best[0] >= 1.0:
        logger.warning(
            "calibration on %d cues: the best thresholds answer nothing; the policy refuses "
            "every cue (are any cues labelled should_match with a correct top candidate?)",
            n,
        )
    label = f"target_precision={target_precision:g}" if target_precision is not None else "joint"
    return GatePolicy(
        min_similarity=best[0],
        min_gap=min(max(best[1], 0.0), 1.0),
        max_sentinel_weight=min(max(best[2], 0.0), 1.0),
        source=f"calibrated:examples(n={n},{label})",
    )


# ------------------------------------------------------------------------------ helpers


def _accept(
    policy: GatePolicy, sim: np.ndarray, gap: np.ndarray, sw: np.ndarray | None
) -> np.ndarray:
    accept = (sim >= np.float32(policy.min_similarity)) & (gap >= np.float32(policy.min_gap))
    if sw is not None:
        accept &= sw <= np.float32(policy.max_sentinel_weight)
    return accept


def _scores(accept: np.ndarray, pos: np.ndarray, good: np.ndarray) -> GateScores:
    right = accept & pos & good
    answered = int(accept.sum())
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    refused_neg = int((~accept & ~pos).sum())
    return GateScores(
        precision=float(right.sum() / answered) if answered else 1.0,
        recall=float(right.sum() / n_pos) if n_pos else 1.0,
        refusal_rate=float(refused_neg / n_neg) if n_neg else 1.0,
        joint_accuracy=float((right.sum() + refused_neg) / accept.size),
        answered=answered,
    )


def _sim_threshold(sim_sorted: np.ndarray, k: int) -> float:
    """A float32 threshold accepting exactly the ``k`` highest values of ``sim_sorted`` (desc)."""
    n = sim_sorted.size
    if k == 0:
        return 1.0  # answer nothing (a cosine of exactly 1.0 would still pass)
    low_accepted = sim_sorted[k - 1]
    if k == n:
        return float(max(np.float32(-1.0), low_accepted))
    above_rejected = sim_sorted[k]
    mid = np.float32((float(low_accepted) + float(above_rejected)) / 2.0)
    if not (above_rejected < mid <= low_accepted):
        mid = low_accepted
    return float(min(max(mid, np.float32(-1.0)), np.float32(1.0)))


def _grid(
    values: np.ndarray, n_grid: int, *, low: np.float32 | None, high: np.float32 | None
) -> np.ndarray:
    # observed values (not interpolations), so each candidate is a real cut between cues
    qs = np.quantile(values, np.linspace(0.0, 1.0, n_grid), method="inverted_cdf")
    extra = [v for v in (low, high) if v is not None]
    return np.unique(np.clip(np.concatenate([qs, np.asarray(extra, dtype=np.float32)]), 0.0, 1.0))


def _check_examples(
    max_similarity: np.ndarray,
    gap: np.ndarray,
    sentinel_weight: np.ndarray | None,
    should_match: np.ndarray,
    correct: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    sim = _vector("max_similarity", max_similarity)
    n = sim.size
    if n == 0:
        raise InvalidInputError("need at least one labelled cue")
    gp = _vector("gap", gap, n)
    sw = None if sentinel_weight is None else _vector("sentinel_weight", sentinel_weight, n)
    pos = _bools("should_match", should_match, n)
    good = pos.copy() if correct is None else _bools("correct", correct, n)
    return sim, gp, sw, pos, good


def _vector(name: str, values: object, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        want = "(n_cues,)" if n is None else f"({n},)"
        raise InvalidInputError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_):
        raise InvalidInputError(f"{name} must be numeric, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise InvalidInputError(f"{name} contains NaN or infinity")
    return out


def _bools(name: str, values: object, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise InvalidInputError(f"{name} must have shape ({n},), got {arr.shape}")
    if arr.dtype != np.bool_:
        raise InvalidInputError(f"{name} must be a bool array, got dtype {arr.dtype}")
    return arr


def _check_patterns(patterns: np.ndarray) -> np.ndarray:
    arr = np.asarray(patterns)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidInputError(f"patterns must have shape (n_patterns, dim), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(f"patterns must be numeric, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise InvalidInputError("patterns contain NaN or infinity")
    return out


def _check_beta(beta: object) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating)):
        raise InvalidInputError(f"beta must be a positive number, got {beta!r}")
    value = float(beta)
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"beta must be a positive finite number, got {beta!r}")
    return value


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInputError(f"{name} must be an int >= {low}, got {value!r}")


def _top2(sims: np.ndarray) -> np.ndarray:
    """The two largest values of each row of ``sims`` (bq, bc), shape (bq, 2), ascending."""
    if sims.shape[1] == 1:
        return np.concatenate([np.full_like(sims, -np.inf), sims], axis=1)
    part = np.partition(sims, sims.shape[1] - 2, axis=1)[:, -2:]
    part.sort(axis=1)
    return part


def _logsumexp_rows(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(under="ignore"):
        total = np.exp(logits - safe[:, None]).sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe


def fit_policy(
    memory: HopfieldMemory | TieredMemory,
    examples: Sequence[tuple[str, int | str | None]] | None,
    *,
    patterns: Callable[[], np.ndarray],
    target_precision: float | None,
    quantile: float,
) -> GatePolicy:
    """The policy ``memory.calibrate`` puts in force (see :meth:`HopfieldMemory.calibrate`).

    Without ``examples``: :func:`calibrate_from_patterns` over ``patterns()`` (n, dim), the
    stored facts. With them: each ``(cue, expected)`` is answered by the memory's own
    ``match_quality_many`` and :func:`calibrate_from_examples` fits the thresholds.
    """
    if examples is None:
        return calibrate_from_patterns(
            patterns(), beta=memory.beta, base=memory.encoder.default_policy, quantile=quantile
        )
    pairs = list(examples)
    if not pairs or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        raise InvalidInputError("examples must be a non-empty sequence of (cue, expected)")
    reports = memory.match_quality_many([cue for cue, _ in pairs], top_k=1)
    expected = [want for _, want in pairs]
    correct = [
        bool(r.candidates) and want in (r.candidates[0].id, r.candidates[0].text)
        for r, want in zip(reports, expected, strict=True)
    ]
    return calibrate_from_examples(
        np.array([r.max_similarity for r in reports], dtype=np.float32),
        np.array([r.gap for r in reports], dtype=np.float32),
        np.array([r.sentinel_weight for r in reports], dtype=np.float32)
        if memory.sentinel
        else None,
        np.array([want is not None for want in expected]),
        correct=np.array(correct),
        target_precision=target_precision,
        base=memory.policy,
    )
