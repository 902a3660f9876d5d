"""Cold tiers: where facts live when they are not in the hot Hopfield layer.

Every tier follows one protocol, :class:`ColdTier`: add vectors with ids, search the top k ids for
cues, fetch the exact stored vectors of ids, remove ids, count. An in-process tier keeps no files
of its own: :class:`~hopfield_memory.tiered.TieredMemory` saves every fact in the memory file
format and rebuilds the tier from the stored vectors when it reads a file. A shared tier
(:class:`SharedColdTier`, the database one) is itself the store of record. A search only
*chooses candidates*: :class:`~hopfield_memory.tiered.TieredMemory` re-scores them exactly from
:meth:`ColdTier.vectors`, so an approximate index never sets a softmax weight.

========================  ==================================  =============================
kind                      class                               tested in
========================  ==================================  =============================
``"exact"``               :class:`.exact.ExactColdTier`       tests/test_cold.py (the oracle)
``"faiss-flat"``          :class:`.faiss_tiers.FaissFlatColdTier`   tests/test_cold.py
``"faiss-ivf"``           :class:`.faiss_tiers.FaissIVFColdTier`    tests/test_cold.py
``"pgvector"``            :class:`.postgres.PgVectorColdTier`       tests/test_cold_pgvector.py
========================  ==================================  =============================

The FAISS tiers need ``pip install 'mhn-ai-agent-memory[scale]'``, the pgvector tier
``pip install 'mhn-ai-agent-memory[postgres]'`` and a PostgreSQL server with the pgvector
extension; without the package they raise :class:`~hopfield_memory.errors.MissingExtraError`
(never a silent fallback to another tier). The pgvector tier takes the connection string as the
option ``dsn`` (``make_cold_tier("pgvector", 384, dsn="postgresql://...")``), or
``TieredMemory(cold="postgresql://...")`` builds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidInputError


@runtime_checkable
class ColdTier(Protocol):
    """What every cold tier offers. Ids are non-negative int64 fact ids, unique in the tier."""

    kind: str
    dim: int

    def __len__(self) -> int:
        """How many vectors the tier holds."""
        ...

    def __contains__(self, fact_id: object) -> bool: ...

    def ids(self) -> np.ndarray:
        """Every id held, int64 of shape (n,), in no particular order."""
        ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` (k, dim) float32 unit rows under new ``ids`` (k,)."""
        ...

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Candidate ids (q, k) for ``queries`` (q, dim), best first as the index ranks them;
        -1 fills rows when fewer than k are found."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored float32 vectors of ``ids`` (k,), shape (k, dim), exactly as added."""
        ...

    def remove(self, ids: np.ndarray) -> None:
        """Delete ``ids``; afterwards no search returns them. Unknown ids raise."""
        ...

    def config(self) -> dict[str, Any]:
        """Constructor parameters as JSON-ready data (``kind`` included)."""
        ...


@runtime_checkable
class SharedColdTier(ColdTier, Protocol):
    """A cold tier that is also the system of record of facts several memories share (a
    database): it allocates ids, holds texts and metadata, and reports what others changed.

    :class:`~hopfield_memory.tiered.TieredMemory` writes every fact into such a tier and keeps
    only copies of its hot facts in the hot layer (see
    :class:`~hopfield_memory.tiered.SharedTiers`).
    """

    def version(self) -> int:
        """The namespace's current change number (what :meth:`changes_since` takes)."""
        ...

    def insert(
        self, vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict[str, Any] | None]
    ) -> np.ndarray:
        """Commit new facts (vectors (n, dim)); returns their new int64 ids (n,), in order."""
        ...

    def facts(self, ids: np.ndarray) -> list[tuple[str, dict[str, Any]]]:
        """``(text, metadata)`` of each of ``ids`` (k,), in order; unknown ids raise."""
        ...

    def update(
        self, fact_id: int, vector: np.ndarray, text: str, metadata: dict[str, Any] | None
    ) -> None:
        """Commit a new vector (dim,), text and metadata (None: keep) for ``fact_id``."""
        ...

    def changes_since(self, seq: int) -> tuple[int, np.ndarray, np.ndarray]:
        """``(head, added_or_updated_ids, removed_ids)`` after version ``seq`` (0: all)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def make_cold_tier(kind: str, dim: int, **options: Any) -> ColdTier:
    """Build a tier of ``kind`` (``"exact"``, ``"faiss-flat"``, ``"faiss-ivf"`` or ``"pgvector"``,
    which needs the option ``dsn`` and opens whatever its namespace already holds)."""
    if kind == "exact":
        from .exact import ExactColdTier

        return ExactColdTier(dim, **options)
    if kind == "faiss-flat":
        from .faiss_tiers import FaissFlatColdTier

        return FaissFlatColdTier(dim, **options)
    if kind == "faiss-ivf":
        from .faiss_tiers import FaissIVFColdTier

        return FaissIVFColdTier(dim, **options)
    if kind == "pgvector":
        from .postgres import PgVectorColdTier

        if "dsn" not in options:
            raise InvalidInputError(
                "the pgvector cold tier needs the option dsn='postgresql://...'"
            )
        return PgVectorColdTier(options.pop("dsn"), dim, **options)
    raise InvalidInputError(
        f"unknown cold tier kind {kind!r}; "
        "expected 'exact', 'faiss-flat', 'faiss-ivf' or 'pgvector'"
    )


__all__ = ["ColdTier", "SharedColdTier", "make_cold_tier"]
