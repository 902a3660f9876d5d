"""The abstention policy: when should a cue get no answer at all?

Three signals are read off the one softmax that answers the cue (see :mod:`hopfield_memory.kernel`):

* ``max_similarity``: the largest raw cosine between the cue and a stored pattern, before the
  softmax. Low means the cue shares nothing with any fact.
* ``gap``: the winner's weight minus the runner-up's. Small means two facts compete for the cue.
* ``sentinel_weight``: the weight on the zero "no match" pattern (logit 0). High means no stored
  pattern is closer to the cue than nothing at all.

With repulsion enabled, a fourth signal comes from the declared negative patterns ("never answer
this"): ``negative_similarity``, the largest raw cosine between the cue and a negative. A cue
that lands on a negative (at least ``min_negative_similarity`` and at least as close as the best
fact) abstains with :attr:`AbstainReason.NEGATIVE_MATCH`, whatever the other signals say.

A cue is answered only when all pass. The thresholds live in one frozen :class:`GatePolicy`;
:func:`decide` applies it to a batch of signals and names the reason for every refusal.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import numpy as np

from .errors import InvalidInputError


class AbstainReason(str, Enum):
    """Why a cue got no answer; the value is a stable string for logs and JSON."""

    EMPTY_MEMORY = "empty_memory"
    NO_OVERLAP = "no_overlap"
    SENTINEL_DOMINANT = "sentinel_dominant"
    AMBIGUOUS = "ambiguous"
    NEGATIVE_MATCH = "negative_match"

    def describe(self) -> str:
        """One sentence for people reading a log."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    AbstainReason.EMPTY_MEMORY: "the memory holds no facts",
    AbstainReason.NO_OVERLAP: "no stored fact is similar enough to the cue",
    AbstainReason.SENTINEL_DOMINANT: "the 'no match' pattern outweighs the stored facts",
    AbstainReason.AMBIGUOUS: "two or more stored facts compete for the cue",
    AbstainReason.NEGATIVE_MATCH: "the cue matches a declared negative pattern",
}

# Cosines closer than this count as equal (float32 products of unit vectors).
_TIE = np.float32(1e-5)

# Codes used by the vectorised decision; 0 means "answer".
_CODES: tuple[AbstainReason | None, ...] = (
    None,
    AbstainReason.EMPTY_MEMORY,
    AbstainReason.NO_OVERLAP,
    AbstainReason.SENTINEL_DOMINANT,
    AbstainReason.AMBIGUOUS,
    AbstainReason.NEGATIVE_MATCH,
)


@dataclass(frozen=True)
class GatePolicy:
    """Thresholds for answering a cue; every one must pass.

    Parameters
    ----------
    min_similarity : float
        Smallest raw cosine to the best stored fact, in [-1, 1].
    min_gap : float
        Smallest difference between the top two facts' softmax weights, in [0, 1].
    max_sentinel_weight : float
        Largest weight the zero "no match" pattern may take, in [0, 1]. Ignored when the memory
        has no sentinel.
    min_negative_similarity : float
        A cue whose raw cosine to a declared negative pattern is at least this, and at least its
        cosine to the best fact, abstains with ``NEGATIVE_MATCH``; in [-1, 1]. Only used when
        the memory has negatives (``repulsive=True``).
    source : str
        Where the numbers came from (``"default"``, ``"calibrated"``, ...), for logs.
    """

    min_similarity: float = 0.3
    min_gap: float = 0.01
    max_sentinel_weight: float = 0.5
    min_negative_similarity: float = 0.3
    source: str = "default"

    def __post_init__(self) -> None:
        checks = (
            ("min_similarity", self.min_similarity, -1.0, 1.0),
            ("min_gap", self.min_gap, 0.0, 1.0),
            ("max_sentinel_weight", self.max_sentinel_weight, 0.0, 1.0),
            ("min_negative_similarity", self.min_negative_similarity, -1.0, 1.0),
        )
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise InvalidInputError(f"GatePolicy.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and low <= value <= high):
                raise InvalidInputError(
                    f"GatePolicy.{name} must be in [{low}, {high}], got {value!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain JSON-serialisable data."""
        return {k: (float(v) if k != "source" else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GatePolicy:
        """Rebuild a policy written by :meth:`to_dict`."""
        return cls(
            min_similarity=float(data["min_similarity"]),
            min_gap=float(data["min_gap"]),
            max_sentinel_weight=float(data["max_sentinel_weight"]),
            min_negative_similarity=float(
                data.get("min_negative_similarity", cls.min_negative_similarity)
            ),
            source=str(data.get("source", "default")),
        )


def decide(
    policy: GatePolicy,
    max_similarity: np.ndarray,
    gap: np.ndarray,
    sentinel_weight: np.ndarray | None,
    negative_similarity: np.ndarray | None = None,
) -> list[AbstainReason | None]:
    """Apply ``policy`` to a batch of signals, each of shape (q,).

    Returns one entry per cue: ``None`` to answer, else the first failing reason in the order
    negative match, no overlap, sentinel dominant, ambiguous. ``sentinel_weight`` is None when
    there is no sentinel, ``negative_similarity`` when there are no negative patterns.
    """
    codes = np.zeros(max_similarity.shape, dtype=np.int8)
    codes[gap < policy.min_gap] = 4
    if sentinel_weight is not None:
        codes[sentinel_weight > policy.max_sentinel_weight] = 3
    codes[max_similarity < policy.min_similarity] = 2
    if negative_similarity is not None:
        # "at least as close as the best fact" up to float32 rounding: a negative with the same
        # text as a fact must win the tie
        lands = (negative_similarity >= policy.min_negative_similarity) & (
            negative_similarity >= max_similarity - _TIE
        )
        codes[lands] = 5
    return [_CODES[int(c)] for c in codes]
