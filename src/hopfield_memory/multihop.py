"""Multi-hop retrieval: each retrieved fact is fed back into the cue to reach the next one.

"capital of the country where Alice lives" first reaches "Alice lives in France"; the question
plus the latest fact then reaches "The capital of France is Paris", and so on. Facts already used
are left out of later hops, so the chain moves on instead of finding its own first hop again.
The chain stops when the gate abstains, when a hop's weight falls below ``min_confidence``, when
a hop repeats the text of an earlier one (a duplicate fact), or after ``max_hops``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InvalidInputError

if TYPE_CHECKING:
    from .memory import HopfieldMemory
    from .results import Recall


@dataclass(frozen=True)
class Chain:
    """The hops of one multi-hop query and why it stopped.

    Attributes
    ----------
    hops : tuple of Recall
        The fact reached at each hop, with its id, weight and similarity, in hop order.
    stop_reason : str
        ``"max_hops"``, ``"low_confidence"``, ``"repetition"``, or ``"abstained:<reason>"``
        with the gate's reason (e.g. ``"abstained:no_overlap"``).
    """

    hops: tuple[Recall, ...]
    stop_reason: str

    @property
    def texts(self) -> list[str]:
        """The texts of the hops, in order."""
        return [hop.text for hop in self.hops]


def chain_recall(
    memory: HopfieldMemory, question: str, max_hops: int = 3, min_confidence: float = 0.1
) -> Chain:
    """Follow ``question`` through up to ``max_hops`` facts; see the module docstring."""
    if isinstance(max_hops, bool) or not isinstance(max_hops, int) or max_hops < 1:
        raise InvalidInputError(f"max_hops must be an int >= 1, got {max_hops!r}")
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInputError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    hops: list[Recall] = []
    cue = question
    for _ in range(max_hops):
        report = memory.match_quality(cue, top_k=1, exclude=[hop.id for hop in hops])
        best = report.best
        if best is None:
            reason = report.reason.value if report.reason is not None else "unknown"
            return Chain(tuple(hops), f"abstained:{reason}")
        if best.weight < min_confidence:
            return Chain(tuple(hops), "low_confidence")
        if any(hop.text == best.text for hop in hops):
            return Chain(tuple(hops), "repetition")
        hops.append(best)
        cue = f"{question} {best.text}"
    return Chain(tuple(hops), "max_hops")


def chain_query(memory: HopfieldMemory, question: str, max_hops: int = 3) -> list[str]:
    """The documented form: the facts reached, in hop order (empty when the first hop
    abstains)."""
    return chain_recall(memory, question, max_hops, min_confidence=0.0).texts


def chain_query_with_confidence(
    memory: HopfieldMemory, question: str, max_hops: int = 3, min_confidence: float = 0.1
) -> list[tuple[str, float]]:
    """The documented form: ``[(fact, weight), ...]`` in hop order, stopping early below
    ``min_confidence``."""
    return [hop.as_tuple() for hop in chain_recall(memory, question, max_hops, min_confidence).hops]
