"""Check a new fact against the memory before storing it: contradictions and near duplicates.

A *contradiction* is a stored fact that says the same thing about the same subject with a
different value: the two texts share their frame (the words before and after) and differ in a
short span, "The capital of France is **Lyon**" against "The capital of France is **Paris**".
Candidates come from the memory itself (its nearest facts, with their similarities); the frame
test is on words, so it needs no language model and works with any encoder. It cannot tell a
changed value from a compatible one ("Alice **lives** in Paris" / "Alice **works** in Paris"):
it reports, and the caller decides.

A *duplicate* is a stored fact with the same words, or a similarity of at least
``duplicate_threshold``: storing it again would only split the softmax weight between two
copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .encoders.hashing import tokenize
from .errors import InvalidInputError
from .store import Metadata

if TYPE_CHECKING:
    from .memory import HopfieldMemory

_FUNCTION_WORDS = frozenset(
    "a an the is are was were be been of in on at to for by with and or".split()
)


@dataclass(frozen=True)
class Conflict:
    """A stored fact that clashes with a new one.

    Attributes
    ----------
    id, text : int, str
        The stored fact.
    similarity : float
        Cosine between the new fact and the stored one.
    kind : "contradiction" or "duplicate"
    stored_words, new_words : tuple of str
        The differing span of each text (empty for duplicates).
    """

    id: int
    text: str
    similarity: float
    kind: Literal["contradiction", "duplicate"]
    stored_words: tuple[str, ...] = ()
    new_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConflictResult:
    """What :meth:`ContradictionDetector.check` found for ``new_fact``."""

    new_fact: str
    conflicts: tuple[Conflict, ...]

    @property
    def contradictions(self) -> tuple[Conflict, ...]:
        """The stored facts the new one contradicts."""
        return tuple(c for c in self.conflicts if c.kind == "contradiction")

    @property
    def duplicates(self) -> tuple[Conflict, ...]:
        """The stored facts that already say what the new one says."""
        return tuple(c for c in self.conflicts if c.kind == "duplicate")

    @property
    def has_conflict(self) -> bool:
        """True when a stored fact contradicts the new one."""
        return bool(self.contradictions)

    @property
    def conflicting_facts(self) -> list[tuple[str, float]]:
        """The documented form: ``[(stored fact, similarity), ...]`` for contradictions."""
        return [(c.text, c.similarity) for c in self.contradictions]

    @property
    def explanation(self) -> str:
        """One line per clash, for people reading a log."""
        if not self.conflicts:
            return f"{self.new_fact!r}: no contradiction or duplicate found"
        lines = [f"{self.new_fact!r}:"]
        for c in self.conflicts:
            if c.kind == "duplicate":
                lines.append(f"  duplicates #{c.id} {c.text!r} (similarity {c.similarity:.3f})")
            else:
                old, new = " ".join(c.stored_words), " ".join(c.new_words)
                lines.append(
                    f"  contradicts #{c.id} {c.text!r} (similarity {c.similarity:.3f}): "
                    f"{old!r} vs {new!r}"
                )
        return "\n".join(lines)


class ContradictionDetector:
    """Find stored facts that a new fact contradicts or duplicates.

    Parameters
    ----------
    similarity_threshold : float, optional
        Smallest similarity for a stored fact to be compared at all; default: the memory's
        ``policy.min_similarity`` (what the memory would call a match).
    duplicate_threshold : float
        Similarity from which a stored fact counts as a duplicate (default 0.95).
    top_k : int
        How many of the nearest stored facts are compared (default 5).
    max_differing_words : int
        Longest differing span, in words, that still counts as "same frame, other value".
    """

    def __init__(
        self,
        *,
        similarity_threshold: float | None = None,
        duplicate_threshold: float = 0.95,
        top_k: int = 5,
        max_differing_words: int = 3,
    ) -> None:
        if not 0.0 < duplicate_threshold <= 1.0:
            raise InvalidInputError(
                f"duplicate_threshold must be in (0, 1], got {duplicate_threshold}"
            )
        if top_k < 1 or max_differing_words < 1:
            raise InvalidInputError("top_k and max_differing_words must be >= 1")
        self.similarity_threshold = similarity_threshold
        self.duplicate_threshold = duplicate_threshold
        self.top_k = top_k
        self.max_differing_words = max_differing_words

    def check(self, memory: HopfieldMemory, new_fact: str) -> ConflictResult:
        """Compare ``new_fact`` with its nearest stored facts; the memory is not changed."""
        threshold = (
            memory.policy.min_similarity
            if self.similarity_threshold is None
            else self.similarity_threshold
        )
        new_words = tokenize(new_fact)
        conflicts = []
        for candidate in memory.recall(new_fact, top_k=self.top_k):
            old_words = tokenize(candidate.text)
            if old_words == new_words or candidate.similarity >= self.duplicate_threshold:
                conflicts.append(
                    Conflict(candidate.id, candidate.text, candidate.similarity, "duplicate")
                )
            elif candidate.similarity >= threshold:
                spans = self._differing_spans(old_words, new_words)
                if spans is not None:
                    conflicts.append(
                        Conflict(
                            candidate.id,
                            candidate.text,
                            candidate.similarity,
                            "contradiction",
                            *spans,
                        )
                    )
        return ConflictResult(new_fact, tuple(conflicts))

    def _differing_spans(
        self, old: list[str], new: list[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The differing middle of two word lists if they share a frame, else None."""
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while (
            suffix < min(len(old), len(new)) - prefix
            and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
        ):
            suffix += 1
        old_span = tuple(old[prefix : len(old) - suffix])
        new_span = tuple(new[prefix : len(new) - suffix])
        frame = old[:prefix] + old[len(old) - suffix :]
        content_in_frame = sum(word not in _FUNCTION_WORDS for word in frame)
        if (
            old_span
            and new_span
            and len(old_span) <= self.max_differing_words
            and len(new_span) <= self.max_differing_words
            and content_in_frame >= 2
            and set(old_span) != set(new_span)
        ):
            return old_span, new_span
        return None


def check_and_store(
    memory: HopfieldMemory,
    fact: str,
    detector: ContradictionDetector | None = None,
    auto_resolve: bool = False,
    metadata: Metadata | None = None,
) -> tuple[int | None, ConflictResult]:
    """Store ``fact`` unless it clashes with what the memory holds.

    Returns ``(id, result)``:

    * no clash: the fact is stored; ``id`` is its new id;
    * a duplicate: nothing is stored; ``id`` is the stored fact that already says it;
    * a contradiction and ``auto_resolve=False``: nothing is stored; ``id`` is None;
    * a contradiction and ``auto_resolve=True``: the most similar contradicted fact is
      replaced in place by ``fact`` (``update``: same id, new text, ``metadata`` if given), and
      ``id`` is that fact's id. Other contradicted facts stay and are listed in ``result``.
    """
    result = (detector or ContradictionDetector()).check(memory, fact)
    if result.duplicates:
        return result.duplicates[0].id, result
    if result.contradictions:
        if not auto_resolve:
            return None, result
        target = max(result.contradictions, key=lambda c: c.similarity)
        memory.update(target.id, fact, metadata)
        return target.id, result
    return memory.store(fact, metadata), result
