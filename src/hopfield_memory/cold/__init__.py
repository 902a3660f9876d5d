"""Cold tiers: where facts live when they are not in the hot Hopfield layer.

Every tier follows one protocol, :class:`ColdTier`: add vectors with ids, search the top k ids for
cues, fetch the exact stored vectors of ids, remove ids, count, save to and load from a directory.
A search only *chooses candidates*: :class:`~hopfield_memory.tiered.TieredMemory` re-scores them
exactly from :meth:`ColdTier.vectors`, so an approximate index never sets a softmax weight.

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
(never a silent fallback to another tier). The pgvector tier keeps its facts in the database:
its ``save`` writes only a manifest to reconnect by, and it takes the connection string as the
option ``dsn`` (``make_cold_tier("pgvector", 384, dsn="postgresql://...")``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._atomic import read_manifest
from ..errors import InvalidInputError, PersistenceFormatError
from ._io import MANIFEST_NAME

PathLike = str | os.PathLike[str]

COLD_FORMAT = "hopfield-memory-cold"
COLD_FORMAT_VERSION = 1


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

    def save(self, directory: PathLike) -> None:
        """Write the tier into ``directory`` (created if needed), each file atomically."""
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


def load_cold_tier(directory: PathLike, *, dsn: str | None = None) -> ColdTier:
    """Read a tier written by :meth:`ColdTier.save`; the manifest names its kind.

    A ``"pgvector"`` tier reconnects to its database: to ``dsn`` when given, else to the saved
    connection string, which has no password (libpq then reads ``PGPASSWORD`` or ``~/.pgpass``).
    """
    folder = Path(directory)
    meta = read_manifest(
        folder / MANIFEST_NAME,
        format_name=COLD_FORMAT,
        max_version=COLD_FORMAT_VERSION,
        what="cold tier",
    )
    config = dict(meta["config"])
    kind = config.pop("kind")
    if kind == "exact":
        from .exact import ExactColdTier

        return ExactColdTier.load(folder, config)
    if kind == "faiss-flat":
        from .faiss_tiers import FaissFlatColdTier

        return FaissFlatColdTier.load(folder, config)
    if kind == "faiss-ivf":
        from .faiss_tiers import FaissIVFColdTier

        return FaissIVFColdTier.load(folder, config)
    if kind == "pgvector":
        from .postgres import PgVectorColdTier

        return PgVectorColdTier.load(folder, config, dsn=dsn)
    manifest = folder / MANIFEST_NAME
    raise PersistenceFormatError(f"{str(manifest)!r} names unknown cold tier kind {kind!r}")


__all__ = ["COLD_FORMAT", "COLD_FORMAT_VERSION", "ColdTier", "load_cold_tier", "make_cold_tier"]
