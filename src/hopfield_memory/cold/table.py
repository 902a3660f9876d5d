"""Exact float32 vectors keyed by fact id: the storage under the exact and IVF cold tiers.

Rows ``0 .. n-1`` of a preallocated matrix are live (capacity doubles when full); a delete moves
the last row into the hole, O(dim). The id -> row map is an int64 array indexed by id (-1 for
absent), 8 bytes per id ever issued instead of ~100 for a dict entry: fact ids are dense.
"""

from __future__ import annotations

import numpy as np

from ..errors import DimensionMismatchError, InvalidInputError, UnknownIdError

_MIN_CAPACITY = 64


class VectorTable:
    """Vectors (n, dim) float32 with stable non-negative int64 ids."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._matrix = np.zeros((_MIN_CAPACITY, dim), dtype=np.float32)
        self._ids = np.zeros(_MIN_CAPACITY, dtype=np.int64)
        self._row_of = np.full(_MIN_CAPACITY, -1, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __contains__(self, fact_id: object) -> bool:
        if isinstance(fact_id, bool) or not isinstance(fact_id, (int, np.integer)):
            return False
        return bool(0 <= fact_id < len(self._row_of) and self._row_of[fact_id] >= 0)

    @property
    def matrix(self) -> np.ndarray:
        """Live vectors, a C-contiguous view (n, dim). Do not write to it."""
        return self._matrix[: self._n]

    @property
    def ids(self) -> np.ndarray:
        """Id of every live row, int64 (n,) view."""
        return self._ids[: self._n]

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of ``ids``; raises :class:`UnknownIdError` for an id not held."""
        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(self._row_of))
        rows = np.full(ids.shape, -1, dtype=np.int64)
        rows[inside] = self._row_of[ids[inside]]
        if (rows < 0).any():
            missing = ids[rows < 0][:5].tolist()
            raise UnknownIdError(f"ids {missing} are not in this cold tier")
        return rows

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_add(self.dim, ids, vectors)
        if len(ids) == 0:
            return
        top = int(ids.max())
        if top >= len(self._row_of):
            grown = np.full(max(top + 1, 2 * len(self._row_of)), -1, dtype=np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        if (self._row_of[ids] >= 0).any():
            raise InvalidInputError(f"ids {ids[self._row_of[ids] >= 0][:5].tolist()} already held")
        start, stop = self._n, self._n + len(ids)
        if stop > len(self._matrix):
            capacity = len(self._matrix)
            while capacity < stop:
                capacity *= 2
            matrix = np.zeros((capacity, self.dim), dtype=np.float32)
            matrix[:start] = self._matrix[:start]
            id_rows = np.zeros(capacity, dtype=np.int64)
            id_rows[:start] = self._ids[:start]
            self._matrix, self._ids = matrix, id_rows
        self._matrix[start:stop] = vectors
        self._ids[start:stop] = ids
        self._row_of[ids] = np.arange(start, stop)
        self._n = stop

    def remove(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError("ids to remove contain duplicates")
        self.rows(ids)  # all known, or nothing changes
        for fact_id in ids.tolist():
            row = int(self._row_of[fact_id])
            last = self._n - 1
            if row != last:
                moved = int(self._ids[last])
                self._matrix[row] = self._matrix[last]
                self._ids[row] = moved
                self._row_of[moved] = row
            self._matrix[last] = 0.0
            self._row_of[fact_id] = -1
            self._n = last

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._matrix[self.rows(ids)]


def check_add(dim: int, ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` as int64 (k,), non-negative and unique; ``vectors`` as float32 (k, dim)."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise DimensionMismatchError(f"vectors must have shape (k, {dim}), got {vectors.shape}")
    if len(vectors) != len(ids):
        raise InvalidInputError(f"got {len(vectors)} vectors for {len(ids)} ids")
    if len(ids) and ids.min() < 0:
        raise InvalidInputError("ids must be non-negative")
    if len(np.unique(ids)) != len(ids):
        raise InvalidInputError("ids contain duplicates")
    return ids, vectors


def check_queries(dim: int, queries: np.ndarray, k: int) -> np.ndarray:
    """``queries`` as float32 (q, dim); ``k`` must be a positive int."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError(f"k must be an int >= 1, got {k!r}")
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if queries.ndim != 2 or queries.shape[1] != dim:
        raise DimensionMismatchError(f"queries must have shape (q, {dim}), got {queries.shape}")
    return queries
