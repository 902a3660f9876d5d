"""The exact cold tier: brute-force search with :func:`kernel.similarities`; the test oracle."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernel
from .table import VectorTable, check_queries


class ExactColdTier:
    """Every cold vector in one float32 matrix; a search scores them all (one GEMV/GEMM).

    Exact, so recall is 1 by definition; it is the oracle the FAISS tiers are tested against and
    the tier that makes :class:`~hopfield_memory.tiered.TieredMemory` answer exactly like a flat
    :class:`~hopfield_memory.memory.HopfieldMemory`. Memory: 4 * dim bytes per vector + 8 per id.

    Parameters
    ----------
    dim : int
        Length of every vector.
    """

    kind = "exact"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._table = VectorTable(dim)

    def __repr__(self) -> str:
        return f"ExactColdTier(dim={self.dim}, n={len(self)})"

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._table

    def ids(self) -> np.ndarray:
        return self._table.ids.copy()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._table.add(ids, vectors)

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        queries = check_queries(self.dim, queries, k)
        out = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self) == 0:
            return out
        sims = kernel.similarities(self._table.matrix, queries).reshape(len(queries), -1)
        rows = kernel.top_indices(sims, min(k, len(self)))
        out[:, : rows.shape[1]] = self._table.ids[rows]
        return out

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._table.vectors(ids)

    def remove(self, ids: np.ndarray) -> None:
        self._table.remove(ids)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim}
