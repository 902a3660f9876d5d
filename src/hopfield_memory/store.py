"""The pattern store: stored patterns as rows of one preallocated float32 matrix.

Rows ``0 .. n-1`` of the matrix are the live patterns, always contiguous, so a query reads exactly
``n`` rows and never a mask. Appending writes into spare capacity, which doubles when full
(amortised O(dim) per fact, no rebuild). Deleting moves the last row into the hole: O(dim). Every
fact has a stable integer id that survives other facts' deletes; ids are never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .errors import UnknownIdError

Metadata = dict[str, Any]

_MIN_CAPACITY = 64


@dataclass(frozen=True)
class StoredFact:
    """One fact as the store holds it."""

    id: int
    text: str
    metadata: Metadata


class FactRows(Protocol):
    """What the file layers (:mod:`.durable`, :mod:`.persistence`) change facts through.

    :class:`PatternStore` is one; :class:`~hopfield_memory.tiered.TieredMemory` offers another
    that places each fact in its hot layer or its cold tier.
    """

    next_id: int

    def __len__(self) -> int: ...
    def __contains__(self, fact_id: object) -> bool: ...
    def get(self, fact_id: int) -> StoredFact: ...
    def append(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata],
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]: ...
    def replace(self, fact_id: int, vector: np.ndarray, text: str, metadata: Metadata) -> None: ...
    def remove(self, fact_id: int) -> StoredFact: ...
    def clear(self) -> None: ...
    def reserve(self, rows: int) -> None: ...


class PatternStore:
    """Patterns, texts, ids and metadata kept in step, row for row.

    Parameters
    ----------
    dim : int
        Length of every pattern.
    capacity : int
        Rows to preallocate; grows geometrically (x4) when exceeded. Rows never written take
        no memory (the matrix starts as zero pages).
    """

    def __init__(self, dim: int, *, capacity: int = _MIN_CAPACITY) -> None:
        self.dim = dim
        self._matrix = np.zeros((max(capacity, _MIN_CAPACITY), dim), dtype=np.float32)
        self._ids = np.zeros(len(self._matrix), dtype=np.int64)
        self._texts: list[str] = []
        self._metadata: list[Metadata] = []
        self._row_of: dict[int, int] = {}
        self.next_id = 0

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._row_of

    @property
    def patterns(self) -> np.ndarray:
        """The live patterns, a C-contiguous view of shape (n, dim). Do not write to it."""
        return self._matrix[: len(self._texts)]

    @property
    def ids(self) -> np.ndarray:
        """Fact id of every live row, int64 of shape (n,)."""
        return self._ids[: len(self._texts)]

    @property
    def capacity(self) -> int:
        """Rows allocated, live or spare."""
        return len(self._matrix)

    def row(self, fact_id: int) -> int:
        """Row of ``fact_id``; raises :class:`UnknownIdError` if it is not stored."""
        try:
            return self._row_of[fact_id]
        except (KeyError, TypeError):
            raise UnknownIdError(f"no fact with id {fact_id!r} in this memory") from None

    def text_at(self, row: int) -> str:
        return self._texts[row]

    def metadata_at(self, row: int) -> Metadata:
        return self._metadata[row]

    def fact_at(self, row: int) -> StoredFact:
        return StoredFact(int(self._ids[row]), self._texts[row], self._metadata[row])

    def get(self, fact_id: int) -> StoredFact:
        return self.fact_at(self.row(fact_id))

    def vector(self, fact_id: int) -> np.ndarray:
        """A copy of the pattern of ``fact_id``, shape (dim,)."""
        return self._matrix[self.row(fact_id)].copy()

    def __iter__(self) -> Iterator[StoredFact]:
        """Facts in id order (the order they were stored)."""
        for row in np.argsort(self.ids, kind="stable").tolist():
            yield self.fact_at(row)

    def append(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata],
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """Add rows; ``vectors`` (k, dim) float32 already checked by the caller.

        ``ids`` restores facts with known ids (loading a snapshot); new facts get fresh ones.
        Returns the ids of the new facts.
        """

        def copy(rows: np.ndarray) -> None:
            rows[...] = vectors

        return self.append_encoded(copy, texts, metadata, ids=ids)

    def append_encoded(
        self,
        encode: Callable[[np.ndarray], object],
        texts: Sequence[str],
        metadata: Sequence[Metadata],
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """Add rows that ``encode(rows)`` writes in place into the (k, dim) block of spare rows
        they go to, so nothing is copied. If ``encode`` raises, the block is zeroed again (spare
        rows are always zeros) and nothing is added."""
        k = len(texts)
        start = len(self._texts)
        if start + k > len(self._matrix):
            self._reserve(start + k)
        rows = self._matrix[start : start + k]
        try:
            encode(rows)
        except BaseException:
            rows[...] = 0.0
            raise
        if ids is None:
            new_ids = list(range(self.next_id, self.next_id + k))
            self.next_id += k
        else:
            new_ids = list(ids)
            self.next_id = max(self.next_id, max(new_ids, default=-1) + 1)
        self._ids[start : start + k] = new_ids
        self._texts += texts
        self._metadata += metadata
        self._row_of.update(zip(new_ids, range(start, start + k), strict=True))
        return new_ids

    def replace(self, fact_id: int, vector: np.ndarray, text: str, metadata: Metadata) -> None:
        """Overwrite the pattern, text and metadata of ``fact_id`` in place, id unchanged."""
        row = self.row(fact_id)
        self._matrix[row] = vector
        self._texts[row] = text
        self._metadata[row] = metadata

    def remove(self, fact_id: int) -> StoredFact:
        """Delete ``fact_id`` by moving the last row into its place: O(dim)."""
        row = self.row(fact_id)
        removed = self.fact_at(row)
        last = len(self._texts) - 1
        if row != last:
            self._matrix[row] = self._matrix[last]
            moved_id = int(self._ids[last])
            self._ids[row] = moved_id
            self._texts[row] = self._texts[last]
            self._metadata[row] = self._metadata[last]
            self._row_of[moved_id] = row
        self._matrix[last] = 0.0
        self._texts.pop()
        self._metadata.pop()
        del self._row_of[fact_id]
        return removed

    def clear(self) -> None:
        """Remove every fact; ids keep counting up from where they were."""
        self._matrix[: len(self._texts)] = 0.0
        self._texts.clear()
        self._metadata.clear()
        self._row_of.clear()

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows in total (e.g. before appending a known number)."""
        self._reserve(rows)

    def _reserve(self, rows: int) -> None:
        """Grow the matrix geometrically so that it holds at least ``rows`` rows."""
        if rows <= len(self._matrix):
            return
        capacity = len(self._matrix)
        while capacity < rows:
            capacity *= 4
        matrix = np.zeros((capacity, self.dim), dtype=np.float32)
        live = len(self._texts)
        matrix[:live] = self._matrix[:live]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[:live] = self._ids[:live]
        self._matrix, self._ids = matrix, ids
