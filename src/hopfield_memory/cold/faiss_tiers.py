"""FAISS cold tiers (``pip install 'mhn-ai-agent-memory[scale]'``); faiss is imported lazily.

* :class:`FaissFlatColdTier` : ``IndexIDMap2(IndexFlatIP)``, exact inner-product search, the
  vectors stored once, inside FAISS. For ``large_memory``.
* :class:`FaissIVFColdTier` : an inverted-file index with 8-bit scalar-quantised codes
  (``IndexIVFScalarQuantizer``) for choosing candidates, over an exact float32
  :class:`~hopfield_memory.cold.table.VectorTable` that re-scores them. For ``massive_memory``.
  Deletes are real: ``IndexIVF.remove_ids`` drops the codes from their inverted lists and the
  table drops the vector, so no tombstone or compaction is needed.

Why IVF and not HNSW (measured by benchmarks/choose_cold_index.py, 1,000,000 x 384, one thread,
see the report in benchmarks/results/): IVF-SQ8 reached recall@1 1.0 at under 1 ms per cue and
builds in about a minute; HNSW builds many times slower on two cores, needs about 0.2x the raw
size more RAM for its graph, and cannot delete (it would need tombstones and rebuilds).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..errors import InvalidInputError, PersistenceFormatError, UnknownIdError, missing_extra
from .exact import ExactColdTier
from .table import check_add, check_queries

logger = logging.getLogger(__name__)


def import_faiss() -> Any:
    """The faiss module, or :class:`MissingExtraError` naming the ``[scale]`` extra."""
    try:
        import faiss
    except ImportError:
        raise missing_extra("faiss-cpu", "scale") from None
    return faiss


class FaissFlatColdTier:
    """Exact inner-product search by FAISS (``IndexIDMap2`` over ``IndexFlatIP``).

    Memory: 4 * dim bytes per vector (held once, in FAISS) + 16 bytes per id.

    Parameters
    ----------
    dim : int
        Length of every vector.
    """

    kind = "faiss-flat"

    def __init__(self, dim: int) -> None:
        faiss = import_faiss()
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._present = np.zeros(0, dtype=bool)

    def __repr__(self) -> str:
        return f"FaissFlatColdTier(dim={self.dim}, n={len(self)})"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, fact_id: object) -> bool:
        if isinstance(fact_id, bool) or not isinstance(fact_id, (int, np.integer)):
            return False
        return bool(0 <= fact_id < len(self._present) and self._present[fact_id])

    def ids(self) -> np.ndarray:
        return np.flatnonzero(self._present).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_add(self.dim, ids, vectors)
        if len(ids) == 0:
            return
        if any(int(i) in self for i in ids.tolist()):
            raise InvalidInputError("some ids are already held")
        self._index.add_with_ids(vectors, ids)
        self._mark(ids, True)

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        queries = check_queries(self.dim, queries, k)
        if len(self) == 0:
            return np.full((len(queries), k), -1, dtype=np.int64)
        _, ids = self._index.search(queries, k)
        return np.asarray(ids, dtype=np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = self._known(ids)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for i, fact_id in enumerate(ids.tolist()):
            out[i] = self._index.reconstruct(fact_id)
        return out

    def remove(self, ids: np.ndarray) -> None:
        ids = self._known(ids)
        self._index.remove_ids(ids)
        self._mark(ids, False)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim}

    def _mark(self, ids: np.ndarray, value: bool) -> None:
        if len(ids) and ids.max() >= len(self._present):
            grown = np.zeros(max(int(ids.max()) + 1, 2 * len(self._present)), dtype=bool)
            grown[: len(self._present)] = self._present
            self._present = grown
        self._present[ids] = value

    def _known(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        missing = [i for i in ids.tolist() if i not in self]
        if missing:
            raise UnknownIdError(f"ids {missing[:5]} are not in this cold tier")
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError("ids contain duplicates")
        return ids


class FaissIVFColdTier(ExactColdTier):
    """Approximate search: an IVF index with 8-bit codes chooses candidates from ``nprobe`` of
    ``nlist`` inverted lists; the exact float32 vectors are kept beside it for re-scoring.

    Until it holds ``train_size`` vectors the tier searches its exact vectors (it is then exactly
    :class:`ExactColdTier`); at that size it trains the coarse quantiser (k-means, ``niter``
    iterations, seeded) on a seeded sample of ``train_size`` held vectors and indexes everything.
    The lists are not retrained as data drifts later; :meth:`retrain` does it on demand.

    Memory: 4 * dim (exact vectors) + dim (codes) + 8 (list id) + 8 (id map) bytes per vector,
    about 1.27x the raw float32 size at dim 384, plus 4 * dim * nlist for the centroids.

    Parameters
    ----------
    dim : int
        Length of every vector.
    nlist : int
        Inverted lists (k-means centroids); about 4 * sqrt(n) for n expected vectors.
    nprobe : int
        Lists scanned per cue; more is slower and finds more true neighbours.
    train_size : int, optional
        Vectors held when the index is trained (default ``40 * nlist``, at least ``nlist``).
    niter : int
        k-means iterations for training.
    seed : int
        Seed of the training sample and of k-means.
    """

    kind = "faiss-ivf"

    def __init__(
        self,
        dim: int,
        *,
        nlist: int = 4096,
        nprobe: int = 32,
        train_size: int | None = None,
        niter: int = 10,
        seed: int = 0,
    ) -> None:
        import_faiss()
        for name, value in (("nlist", nlist), ("nprobe", nprobe), ("niter", niter)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int >= 1, got {value!r}")
        if train_size is not None and (not isinstance(train_size, int) or train_size < nlist):
            raise InvalidInputError(f"train_size must be an int >= nlist={nlist}")
        super().__init__(dim)
        self.nlist = nlist
        self.nprobe = nprobe
        self.train_size = 40 * nlist if train_size is None else train_size
        self.niter = niter
        self.seed = seed
        self._index: Any = None

    def __repr__(self) -> str:
        return (
            f"FaissIVFColdTier(dim={self.dim}, n={len(self)}, nlist={self.nlist}, "
            f"nprobe={self.nprobe}, trained={self.is_trained})"
        )

    @property
    def is_trained(self) -> bool:
        """Whether the IVF index exists (before that, searches are exact)."""
        return self._index is not None

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_add(self.dim, ids, vectors)
        self._table.add(ids, vectors)
        if self._index is not None:
            self._index.add_with_ids(vectors, ids)
        elif len(self) >= self.train_size:
            self.retrain()

    def retrain(self) -> None:
        """Train the coarse quantiser on a seeded sample of held vectors and index them all."""
        faiss = import_faiss()
        if len(self) < self.nlist:
            raise InvalidInputError(f"need at least nlist={self.nlist} vectors to train")
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, self.nlist, faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )  # fmt: skip
        index.cp.niter = self.niter
        index.cp.seed = self.seed
        rng = np.random.default_rng(self.seed)
        sample = rng.choice(len(self), size=min(len(self), self.train_size), replace=False)
        logger.info("training IVF index: %d lists on %d vectors", self.nlist, len(sample))
        index.train(self._table.matrix[np.sort(sample)])
        index.add_with_ids(self._table.matrix, self._table.ids)
        index.nprobe = self.nprobe
        self._quantizer = quantizer  # the index does not own it: keep it alive beside the index
        self._index = index

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        if self._index is None:
            return super().search(queries, k)
        queries = check_queries(self.dim, queries, k)
        self._index.nprobe = self.nprobe
        _, ids = self._index.search(queries, k)
        return np.asarray(ids, dtype=np.int64)

    def remove(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        self._table.remove(ids)  # checks every id first; nothing changes on error
        if self._index is not None:
            removed = self._index.remove_ids(ids)
            if removed != len(ids):
                raise PersistenceFormatError(
                    f"IVF index removed {removed} of {len(ids)} ids; index and table disagree"
                )

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dim": self.dim,
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "train_size": self.train_size,
            "niter": self.niter,
            "seed": self.seed,
        }
