"""The documented write calls, written once over rows that hold the facts and the durable layer.

:class:`~hopfield_memory.memory.HopfieldMemory` keeps its facts in one
:class:`~hopfield_memory.store.PatternStore`; :class:`~hopfield_memory.tiered.TieredMemory` places
them in a hot layer and a cold tier. Both hand their rows out as
:class:`~hopfield_memory.store.FactRows`, so every write an agent makes (store, forget, update,
negatives...) is the same sequence here: validate and encode first, then commit to the durable
file when there is one (which applies the change to the rows), else change the rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from .encoders.base import as_unit_rows, check_texts
from .errors import InvalidInputError, InvalidTypeError
from .store import FactRows, Metadata, StoredFact

if TYPE_CHECKING:
    from .durable import DurableStore

W = TypeVar("W", bound="WriteCalls")


class WriteCalls:
    """Mixin: the write API over ``_row_sinks``, ``_encode_facts`` and ``_durable``."""

    _lock: threading.RLock
    _durable: DurableStore | None

    # ------------------------------------------------------------ provided by the memory class

    @property
    def dim(self) -> int:
        """Length of every stored pattern; provided by the memory class."""
        raise NotImplementedError

    def _row_sinks(self) -> tuple[FactRows, FactRows]:
        """The rows of the facts and of the negatives; provided by the memory class."""
        raise NotImplementedError

    def _encode_facts(self, texts: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Checked texts to unit rows (n, dim); provided by the memory class."""
        raise NotImplementedError

    def _sync(self) -> None:
        """Call with the lock held: take in what other handles committed."""
        if self._durable is not None:
            self._durable.refresh()

    def require_repulsion(self, call: str) -> None:
        """Raise unless negatives are in use; provided by the memory class."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------- facts

    def store(self, text: str, metadata: Metadata | None = None) -> int:
        """Store one fact and return its id.

        ``metadata`` is an optional JSON-serialisable dict returned with the fact.
        """
        return self.store_many([text], None if metadata is None else [metadata])[0]

    def store_many(
        self,
        texts: Sequence[str],
        metadata: Sequence[Metadata | None] | None = None,
        *,
        progress: bool | None = None,
    ) -> list[int]:
        """Store many facts with batched encoding; returns their ids in order.

        Everything is validated and encoded before anything is stored: one bad text stores
        nothing. ``progress`` shows a bar (None: for 10,000+ texts when stderr is a terminal).
        """
        items = check_fact_texts(texts)
        metas = check_metadata(metadata, len(items))
        return self._store_texts(items, metas, progress)

    def _store_texts(
        self, texts: list[str], metas: list[Metadata], progress: bool | None
    ) -> list[int]:
        """Encode checked texts and commit them; a memory may encode straight into its rows."""
        return self._insert(self._encode_facts(texts, progress=progress), texts, metas)

    def store_vectors(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata | None] | None = None,
    ) -> list[int]:
        """Store facts whose vectors were computed elsewhere.

        vectors : array-like of shape (n, dim) or (dim,), finite; rows are scaled to unit norm.
        texts : the n texts the vectors stand for.
        """
        items = check_fact_texts(texts)
        rows = as_unit_rows(np.atleast_2d(np.asarray(vectors)), dim=self.dim)
        if len(rows) != len(items):
            raise InvalidInputError(f"got {len(rows)} vectors for {len(items)} texts")
        return self._insert(rows, items, check_metadata(metadata, len(items)))

    def _insert(self, vectors: np.ndarray, texts: list[str], metas: list[Metadata]) -> list[int]:
        """Commit checked rows (n, dim) with their texts and metadata; returns their ids."""
        with self._lock:
            if self._durable is not None:
                return self._durable.insert(vectors, texts, metas)
            return self._row_sinks()[0].append(vectors, texts, metas)

    def forget(self, fact_id: int) -> StoredFact:
        """Delete one fact; returns what was deleted. Unknown ids raise :class:`UnknownIdError`."""
        return self.forget_many([fact_id])[0]

    def forget_many(self, fact_ids: Sequence[int]) -> list[StoredFact]:
        """Delete several facts; if any id is unknown (or repeated), nothing is deleted."""
        ids = list(fact_ids)
        with self._lock:
            self._sync()
            facts = self._row_sinks()[0]
            for fact_id in ids:
                facts.get(fact_id)
            if len(set(ids)) != len(ids):
                raise InvalidInputError("fact_ids contains the same id more than once")
            if self._durable is not None:
                return self._durable.delete(ids)
            return [facts.remove(fact_id) for fact_id in ids]

    def update(self, fact_id: int, text: str, metadata: Metadata | None = None) -> None:
        """Replace the text (and metadata, when given) of a stored fact; the id is kept."""
        (item,) = check_fact_texts([text])
        new_meta = None if metadata is None else check_metadata([metadata], 1)[0]
        vector = self._encode_facts([item])[0]
        with self._lock:
            if self._durable is not None:
                self._durable.update(fact_id, vector, item, new_meta)
                return
            facts = self._row_sinks()[0]
            current = facts.get(fact_id)
            facts.replace(fact_id, vector, item, current.metadata if new_meta is None else new_meta)

    def clear(self) -> None:
        """Forget every fact."""
        with self._lock:
            if self._durable is not None:
                self._durable.clear()
            else:
                self._row_sinks()[0].clear()

    # ------------------------------------------------------------------------------ negatives

    @property
    def num_negatives(self) -> int:
        """How many negative patterns are declared."""
        return len(self.negatives())

    def negatives(self) -> list[StoredFact]:
        """The declared negative patterns (ids are their own, separate from fact ids)."""
        with self._lock:
            self._sync()
            return list(self._row_sinks()[1])  # type: ignore[call-overload]  # a PatternStore

    def store_negative(self, text: str, metadata: Metadata | None = None) -> int:
        """Declare ``text`` a negative pattern ("never answer this") and return its id.

        A cue that lands on it abstains with ``AbstainReason.NEGATIVE_MATCH``, and multi-step
        answers are pushed away from it. Raises :class:`RepulsionDisabledError` unless the memory
        was built with ``repulsive=True``.
        """
        return self.store_negative_many([text], None if metadata is None else [metadata])[0]

    def store_negative_many(
        self, texts: Sequence[str], metadata: Sequence[Metadata | None] | None = None
    ) -> list[int]:
        """:meth:`store_negative` for many texts; one bad text stores nothing."""
        self.require_repulsion("store_negative_many")
        items = check_fact_texts(texts)
        metas = check_metadata(metadata, len(items))
        vectors = self._encode_facts(items)
        with self._lock:
            if self._durable is not None:
                return self._durable.insert(vectors, items, metas, negative=True)
            return self._row_sinks()[1].append(vectors, items, metas)

    def forget_negative(self, negative_id: int) -> StoredFact:
        """Delete one negative pattern; unknown ids raise :class:`UnknownIdError`."""
        self.require_repulsion("forget_negative")
        with self._lock:
            if self._durable is not None:
                return self._durable.delete([negative_id], negative=True)[0]
            return self._row_sinks()[1].remove(negative_id)

    # ---------------------------------------------------------------------------- the file

    @property
    def path(self) -> str | None:
        """The durable file this memory is bound to, or None for an in-RAM memory."""
        return None if self._durable is None else str(self._durable.path)

    def close(self) -> None:
        """Release the durable file (no-op for an in-RAM memory). Later calls raise
        :class:`~hopfield_memory.errors.MemoryClosedError`."""
        with self._lock:
            if self._durable is not None:
                self._durable.close()

    def __enter__(self: W) -> W:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def refresh(self) -> None:
        """Pick up what other processes committed to the durable file (reads do this anyway)."""
        with self._lock:
            self._sync()


def check_fact_texts(texts: Sequence[str]) -> list[str]:
    """Texts to store: str, not empty, not whitespace only."""
    items = check_texts(texts)
    if not all(items) or any(map(str.isspace, items)):
        i = next(i for i, text in enumerate(items) if not text.strip())
        raise InvalidInputError(f"texts[{i}] is empty or whitespace; a fact needs text")
    return items


def check_metadata(metadata: Sequence[Metadata | None] | None, n: int) -> list[Metadata]:
    """One JSON-serialisable dict per fact (copied, so later changes by the caller don't leak)."""
    if metadata is None:
        return [{} for _ in range(n)]
    if isinstance(metadata, dict):
        raise InvalidTypeError("metadata must be a sequence of dicts, one per text")
    items = list(metadata)
    if len(items) != n:
        raise InvalidInputError(f"got {len(items)} metadata entries for {n} texts")
    out: list[Metadata] = []
    for i, meta in enumerate(items):
        if meta is None:
            out.append({})
            continue
        if not isinstance(meta, dict) or not all(isinstance(k, str) for k in meta):
            raise InvalidTypeError(f"metadata[{i}] must be a dict with str keys")
        try:
            out.append(json.loads(json.dumps(meta, allow_nan=False)))
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"metadata[{i}] is not JSON-serialisable: {exc}") from None
    return out
