"""The documented read calls, written once over ``match_quality_many``.

:class:`~hopfield_memory.memory.HopfieldMemory` and :class:`~hopfield_memory.tiered.TieredMemory`
differ in how one softmax is built (one layer, or hot facts plus cold candidates); every call an
agent makes on top of it (``query_or_none``, ``retrieve``, ``has_match``...) is the same one-line
reading of a :class:`~hopfield_memory.results.MatchReport`, and lives here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import EmptyMemoryError
from .results import MatchReport, Recall


class ReadCalls:
    """Mixin: the read API over a ``match_quality_many`` the class provides."""

    def match_quality_many(
        self, cues: Sequence[str], *, top_k: int = 3, min_similarity: float | None = None
    ) -> list[MatchReport]:
        """One report per cue, from one batched readout; provided by the memory class."""
        raise NotImplementedError

    def match_quality(
        self, cue: str, *, top_k: int = 3, min_similarity: float | None = None
    ) -> MatchReport:
        """How well ``cue`` matches, from one softmax: the three signals, the decision, the
        reason for abstaining (if any) and the ``top_k`` best candidates.

        ``min_similarity`` overrides the policy's threshold for this call only.
        """
        return self.match_quality_many([cue], top_k=top_k, min_similarity=min_similarity)[0]

    def has_match(self, cue: str, min_similarity: float | None = None) -> bool:
        """True when the policy would answer ``cue``."""
        return self.match_quality(cue, top_k=1, min_similarity=min_similarity).is_match

    def recall_or_none(self, cue: str, min_similarity: float | None = None) -> Recall | None:
        """The best fact for ``cue`` with its id, weight, similarity and metadata, or None."""
        return self.match_quality(cue, top_k=1, min_similarity=min_similarity).best

    def query_or_none(self, cue: str, min_similarity: float | None = None) -> str | None:
        """The best fact's text, or None when nothing stored should answer ``cue``."""
        best = self.recall_or_none(cue, min_similarity)
        return None if best is None else best.text

    def query_or_none_many(
        self, cues: Sequence[str], min_similarity: float | None = None
    ) -> list[str | None]:
        """:meth:`query_or_none` for many cues at once."""
        reports = self.match_quality_many(cues, top_k=1, min_similarity=min_similarity)
        return [None if r.best is None else r.best.text for r in reports]

    def recall_many(self, cues: Sequence[str], top_k: int = 3) -> list[list[Recall]]:
        """The ``top_k`` best facts for each cue, best first, without abstaining."""
        return [list(r.candidates) for r in self.match_quality_many(cues, top_k=top_k)]

    def recall(self, cue: str, top_k: int = 3) -> list[Recall]:
        """The ``top_k`` best facts for ``cue`` as :class:`Recall` results, best first."""
        return self.recall_many([cue], top_k)[0]

    def retrieve(self, cue: str, top_k: int = 3) -> list[tuple[str, float]]:
        """The documented form: ``[(fact, weight), ...]`` best first; [] when empty."""
        return [r.as_tuple() for r in self.recall(cue, top_k)]

    def retrieve_many(self, cues: Sequence[str], top_k: int = 3) -> list[list[tuple[str, float]]]:
        """:meth:`retrieve` for many cues at once."""
        return [[r.as_tuple() for r in rs] for rs in self.recall_many(cues, top_k)]

    def query_with_confidence(self, cue: str) -> tuple[str, float]:
        """The best fact and its weight, even when the gate would abstain.

        Raises :class:`EmptyMemoryError` when nothing is stored.
        """
        results = self.recall(cue, top_k=1)
        if not results:
            raise EmptyMemoryError("the memory holds no facts; store some before querying")
        return results[0].as_tuple()

    def query(self, cue: str) -> str:
        """The best fact for ``cue``, even when the gate would abstain (see query_or_none)."""
        return self.query_with_confidence(cue)[0]
