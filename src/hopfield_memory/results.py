"""Result types: one recalled fact, and the report of whether a cue matches anything."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .gate import AbstainReason, GatePolicy


@dataclass(frozen=True)
class Recall:
    """A stored fact as it answered a cue.

    Attributes
    ----------
    id : int
        The fact's stable id.
    text : str
        The stored text.
    weight : float
        Its softmax weight for this cue (the sentinel, if any, shares the same softmax).
    similarity : float
        Raw cosine between the cue and the fact, before the softmax.
    metadata : dict
        What was stored with the fact.
    """

    id: int
    text: str
    weight: float
    similarity: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_tuple(self) -> tuple[str, float]:
        """The documented ``(fact, weight)`` form."""
        return (self.text, self.weight)


_DOCUMENTED_KEYS = (
    "max_similarity",
    "gap",
    "energy",
    "sentinel_weight",
    "top_confidence",
    "is_match",
    "reason",
)


@dataclass(frozen=True)
class MatchReport(Mapping[str, Any]):
    """How well a cue matches the memory, and why it is or is not answered.

    Reads like the documented dict (``report["is_match"]``, ``dict(report)``) and as attributes.

    Attributes
    ----------
    max_similarity : float
        Largest raw cosine between the cue and a stored fact.
    gap : float
        Weight of the best fact minus the weight of the runner-up (0 for the runner-up when
        only one fact is stored).
    sentinel_weight : float
        Weight on the zero "no match" pattern (0.0 without a sentinel).
    top_confidence : float
        Weight of the best fact.
    energy : float
        Hopfield energy of the cue state, ``-lse(beta, X xi) / beta + ||xi||^2 / 2`` (the
        attractive and quadratic terms; the repulsive term of a memory with negatives is in
        :meth:`HopfieldMemory.diagnose`).
    is_match : bool
        Whether the policy answers the cue.
    reason : AbstainReason or None
        Why the cue is not answered; None when it is.
    candidates : tuple of Recall
        The best facts for the cue, best first (the answer is ``candidates[0]`` when matched).
    policy : GatePolicy
        The thresholds that made the decision.
    negative_similarity : float or None
        Largest raw cosine between the cue and a declared negative pattern; None when the
        memory holds no negatives.
    """

    max_similarity: float
    gap: float
    sentinel_weight: float
    top_confidence: float
    energy: float
    is_match: bool
    reason: AbstainReason | None
    candidates: tuple[Recall, ...]
    policy: GatePolicy
    negative_similarity: float | None = None

    @classmethod
    def empty(cls, policy: GatePolicy, *, sentinel: bool) -> MatchReport:
        """The report for a memory with no facts to answer from: all weight on the sentinel."""
        return cls(
            max_similarity=0.0,
            gap=0.0,
            sentinel_weight=1.0 if sentinel else 0.0,
            top_confidence=0.0,
            energy=0.0,
            is_match=False,
            reason=AbstainReason.EMPTY_MEMORY,
            candidates=(),
            policy=policy,
        )

    @property
    def best(self) -> Recall | None:
        """The answer when the cue matches, else None."""
        return self.candidates[0] if self.is_match and self.candidates else None

    @property
    def explanation(self) -> str:
        """A sentence saying what was decided and from which numbers."""
        signals = (
            f"max_similarity={self.max_similarity:.3f} (min {self.policy.min_similarity:.3f}), "
            f"gap={self.gap:.3f} (min {self.policy.min_gap:.3f}), "
            f"sentinel_weight={self.sentinel_weight:.3f} "
            f"(max {self.policy.max_sentinel_weight:.3f})"
        )
        if self.negative_similarity is not None:
            signals += (
                f", negative_similarity={self.negative_similarity:.3f} "
                f"(abstain from {self.policy.min_negative_similarity:.3f} when >= max_similarity)"
            )
        if self.reason is None:
            return f"match: {self.candidates[0].text!r}; {signals}"
        text = f"no answer: {self.reason.describe()}"
        if self.reason is AbstainReason.AMBIGUOUS and len(self.candidates) > 1:
            names = ", ".join(f"{c.text!r} ({c.weight:.3f})" for c in self.candidates[:3])
            text += f" ({names})"
        return f"{text}; {signals}"

    def as_dict(self) -> dict[str, Any]:
        """The documented keys as plain JSON-ready values, plus the candidates."""
        out = dict(self)
        out["reason"] = None if self.reason is None else self.reason.value
        out["negative_similarity"] = self.negative_similarity
        out["candidates"] = [
            {"id": c.id, "text": c.text, "weight": c.weight, "similarity": c.similarity}
            for c in self.candidates
        ]
        return out

    def __getitem__(self, key: str) -> Any:
        if key not in _DOCUMENTED_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_DOCUMENTED_KEYS)

    def __len__(self) -> int:
        return len(_DOCUMENTED_KEYS)


class Recommendation(str, Enum):
    """What :meth:`HopfieldMemory.diagnose` suggests; the value is a stable string."""

    NONE = "none"
    STORE_FACTS = "store_facts"
    ENABLE_REPULSION = "enable_repulsion"
    STORE_NEGATIVE = "store_negative"
    KEEP_REPULSION = "keep_repulsion"
    DISABLE_REPULSION = "disable_repulsion"
    RAISE_MAX_STEPS = "raise_max_steps"


_DIAGNOSIS_KEYS = ("steps", "converged", "final_confidence", "repulsive", "recommendation")


@dataclass(frozen=True)
class Diagnosis(Mapping[str, Any]):
    """How the update dynamics behave for one cue, and what to do about it.

    Reads like the documented dict (``d["steps"]``, ``dict(d)`` gives the keys ``steps``,
    ``converged``, ``final_confidence``, ``repulsive``, ``recommendation``) and as attributes.
    Every number comes from one :func:`hopfield_memory.kernel.relax` call with the memory's own
    configuration (the same numbers, not a re-derivation).

    Attributes
    ----------
    steps : int
        Update steps until the state moved less than ``tol`` (``max_steps`` if it never did).
    converged : bool
        Whether the state settled within ``max_steps``.
    final_confidence : float
        Largest softmax weight of the last step.
    repulsive : bool
        Whether the relaxation used negative patterns.
    recommendation : Recommendation
        What an agent can do (see ``advice`` for the sentence).
    advice : str
        The recommendation with the numbers behind it.
    energies : tuple of float
        Total energy of the start state and after every step (``steps + 1`` values when the run
        stopped at convergence).
    attractive_energy, repulsive_energy, quadratic_energy : tuple of float
        The three terms of ``energies`` (``repulsive_energy`` is zeros without negatives).
    energy_rises : int
        Steps at which the energy rose by more than float32 rounding (never with plain
        attraction; possible with repulsion, see :mod:`hopfield_memory.kernel`).
    top : tuple of Recall
        The largest entries of the final weights, best first (``similarity`` is to the cue).
    baseline_steps, baseline_converged : int, bool
        The same relaxation without negatives (equal to ``steps``/``converged`` when
        ``repulsive`` is False), so the effect of repulsion is visible for this cue.
    baseline_top_id : int or None
        Fact id with the largest final weight without negatives.
    max_similarity : float
        Largest raw cosine between the cue and a stored fact.
    negative_similarity : float or None
        Largest raw cosine between the cue and a negative; None without negatives.
    """

    steps: int
    converged: bool
    final_confidence: float
    repulsive: bool
    recommendation: Recommendation
    advice: str
    energies: tuple[float, ...]
    attractive_energy: tuple[float, ...]
    repulsive_energy: tuple[float, ...]
    quadratic_energy: tuple[float, ...]
    energy_rises: int
    top: tuple[Recall, ...]
    baseline_steps: int
    baseline_converged: bool
    baseline_top_id: int | None
    max_similarity: float
    negative_similarity: float | None

    def as_dict(self) -> dict[str, Any]:
        """All fields as plain JSON-ready values."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["recommendation"] = self.recommendation.value
        for key in ("energies", "attractive_energy", "repulsive_energy", "quadratic_energy"):
            out[key] = list(out[key])
        out["top"] = [
            {"id": r.id, "text": r.text, "weight": r.weight, "similarity": r.similarity}
            for r in self.top
        ]
        return out

    def __getitem__(self, key: str) -> Any:
        if key not in _DIAGNOSIS_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_DIAGNOSIS_KEYS)

    def __len__(self) -> int:
        return len(_DIAGNOSIS_KEYS)
