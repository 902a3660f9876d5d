"""``HopfieldMemory``: store facts, answer cues with the Hopfield update, abstain when unsure.

The facade composes the layers below it: an encoder turns text into unit vectors, the
:class:`~hopfield_memory.store.PatternStore` keeps them as rows of one float32 matrix, the
:mod:`~hopfield_memory.kernel` answers a cue with one softmax (or several update steps), and the
:mod:`~hopfield_memory.gate` policy decides from that same softmax whether to answer at all.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import kernel
from .encoders.base import Encoder, as_unit_rows, check_texts
from .encoders.hashing import RandomIndexEncoder
from .errors import (
    HopfieldMemoryError,
    InvalidInputError,
    InvalidTypeError,
)
from .gate import AbstainReason, GatePolicy, decide
from .results import MatchReport, Recall
from .store import Metadata, PatternStore, StoredFact

if TYPE_CHECKING:
    from .durable import DurableStore

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Cues = Sequence[str]


class EmptyMemoryError(HopfieldMemoryError, LookupError):
    """A call that must return a fact was made on a memory that holds none."""


class HopfieldMemory:
    """Associative memory over text facts, answered by the Modern Hopfield update.

    Parameters
    ----------
    encoder : Encoder, optional
        Turns text into unit vectors. Default: :class:`RandomIndexEncoder` (hashing, numpy only,
        deterministic, offline) of length ``dim``.
    dim : int, optional
        Vector length for the default encoder (512 when omitted). Must match ``encoder.dim`` if
        both are given.
    beta : float
        Inverse temperature of the softmax (default 20). Larger is sharper.
    sentinel : bool
        Add the zero "no match" pattern to every softmax (default True).
    num_steps : int or None
        Update steps per cue: 1 (default) reads the answer off one softmax; ``k > 1`` runs k
        steps; None runs until the state moves less than ``tol`` or ``max_steps`` is reached.
    max_steps, tol : int, float
        The cap and tolerance used when ``num_steps`` is None.
    policy : GatePolicy, optional
        Abstention thresholds; default ``encoder.default_policy``.

    Examples
    --------
    >>> mem = HopfieldMemory()
    >>> fact_id = mem.store("The Eiffel Tower is in Paris")
    >>> mem.query_or_none("Eiffel Tower Paris")
    'The Eiffel Tower is in Paris'
    >>> mem.query_or_none("quantum chromodynamics") is None
    True
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        dim: int | None = None,
        beta: float = 20.0,
        sentinel: bool = True,
        num_steps: int | None = 1,
        max_steps: int = 100,
        tol: float = 1e-5,
        policy: GatePolicy | None = None,
    ) -> None:
        if encoder is None:
            encoder = RandomIndexEncoder(dim=512 if dim is None else dim)
        elif not isinstance(encoder, Encoder):
            raise InvalidTypeError(
                f"encoder must follow the Encoder protocol (dim, spec, encode, encode_batch, "
                f"default_policy), got {type(encoder).__name__}"
            )
        elif dim is not None and dim != encoder.dim:
            raise InvalidInputError(f"dim={dim} does not match encoder.dim={encoder.dim}")
        _check_positive_number("beta", beta)
        if num_steps is not None:
            _check_positive_int("num_steps", num_steps)
        _check_positive_int("max_steps", max_steps)
        _check_positive_number("tol", tol)
        if policy is not None and not isinstance(policy, GatePolicy):
            raise InvalidTypeError(f"policy must be a GatePolicy, got {type(policy).__name__}")
        self.encoder = encoder
        self.beta = float(beta)
        self.sentinel = bool(sentinel)
        self.num_steps = num_steps
        self.max_steps = max_steps
        self.tol = float(tol)
        self._policy = policy if policy is not None else encoder.default_policy
        self._store = PatternStore(encoder.dim)
        self._negatives = PatternStore(encoder.dim)
        self._lock = threading.RLock()
        self.namespace = "default"
        self._durable: DurableStore | None = None

    def __repr__(self) -> str:
        where = ""
        if self._durable is not None:
            where = f", path={str(self._durable.path)!r}, namespace={self.namespace!r}"
            if self._durable.closed:
                where += ", closed"
        return (
            f"HopfieldMemory(encoder={self.encoder!r}, facts={len(self._store)}, "
            f"beta={self.beta}, sentinel={self.sentinel}, num_steps={self.num_steps}{where})"
        )

    # ------------------------------------------------------------------------- durable store

    @classmethod
    def open(
        cls,
        path: PathLike,
        *,
        encoder: Encoder | None = None,
        namespace: str = "default",
        create: bool = True,
        durability: str = "full",
        timeout: float = 60.0,
        **params: Any,
    ) -> HopfieldMemory:
        """Open a memory bound to the SQLite file at ``path`` (created if missing).

        Every ``store``/``store_many``/``store_vectors``/``forget``/``update``/``clear`` and
        policy change is committed to the file before the call returns (only the new rows are
        written), and every read first picks up what other handles or processes committed.
        Several processes may open the same path; ``namespace`` selects one of several isolated
        memories in the file (each with its own facts, encoder, gate policy and parameters).

        Parameters
        ----------
        path : str or PathLike
            The database file (``-wal``/``-shm`` files appear beside it while it is open).
        encoder : Encoder, optional
            For a new namespace, as in the constructor. For an existing one it must have the
            stored fingerprint; when omitted the stored hashing encoder is rebuilt.
        namespace : str
            Which memory in the file ("default").
        create : bool
            Create the file and/or the namespace when missing (default True).
        durability : {"full", "normal"}
            "full" (default): SQLite ``synchronous=FULL``, an acknowledged write survives a
            killed process and a power cut. "normal": survives a killed process; a power cut
            may lose the last commits, but each commit skips an fsync.
        timeout : float
            Seconds to keep retrying while another process holds the write lock, before
            :class:`~hopfield_memory.errors.StoreBusyError`.
        **params
            Constructor keywords (``dim``, ``beta``, ``policy``...) for a new namespace. For an
            existing namespace the stored values are used; a different value raises.

        Use it as a context manager, or call :meth:`close`.
        """
        from .durable import open_memory

        return open_memory(
            cls,
            path,
            encoder=encoder,
            namespace=namespace,
            create=create,
            durability=durability,
            timeout=timeout,
            params=params,
        )

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

    def __enter__(self) -> HopfieldMemory:
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

    def _sync(self) -> None:
        """Call with the lock held: bring RAM up to date with the durable file, if any."""
        if self._durable is not None:
            self._durable.refresh()

    # ----------------------------------------------------------------------------- properties

    @property
    def dim(self) -> int:
        """Length of every stored pattern."""
        return self._store.dim

    @property
    def policy(self) -> GatePolicy:
        """The abstention thresholds in force."""
        with self._lock:
            self._sync()
            return self._policy

    @policy.setter
    def policy(self, policy: GatePolicy) -> None:
        if not isinstance(policy, GatePolicy):
            raise InvalidTypeError(f"policy must be a GatePolicy, got {type(policy).__name__}")
        with self._lock:
            if self._durable is not None:
                self._durable.set_policy(policy)
            self._policy = policy

    def _set_policy_local(self, policy: GatePolicy) -> None:
        self._policy = policy

    @property
    def num_facts(self) -> int:
        """How many facts are stored."""
        return len(self)

    def __len__(self) -> int:
        with self._lock:
            self._sync()
            return len(self._store)

    def __iter__(self) -> Iterator[StoredFact]:
        """Stored facts in the order they were stored."""
        with self._lock:
            self._sync()
            return iter(list(self._store))

    def __contains__(self, fact_id: object) -> bool:
        with self._lock:
            self._sync()
            return fact_id in self._store

    def all_facts(self) -> list[str]:
        """Texts of all stored facts, in the order they were stored."""
        return [fact.text for fact in self]

    def get(self, fact_id: int) -> StoredFact:
        """The fact with ``fact_id``; raises :class:`UnknownIdError` if there is none."""
        with self._lock:
            self._sync()
            return self._store.get(fact_id)

    # ---------------------------------------------------------------------------------- writes

    def store(self, text: str, metadata: Metadata | None = None) -> int:
        """Store one fact and return its id.

        ``metadata`` is an optional JSON-serialisable dict returned with the fact.
        """
        return self.store_many([text], None if metadata is None else [metadata])[0]

    def store_many(
        self, texts: Sequence[str], metadata: Sequence[Metadata | None] | None = None
    ) -> list[int]:
        """Store many facts with one batched encode; returns their ids in order.

        Validation happens before anything is stored: one bad text stores nothing.
        """
        items = _check_fact_texts(texts)
        metas = _check_metadata(metadata, len(items))
        vectors = self.encoder.encode_batch(items) if items else np.empty((0, self.dim))
        return self._append(vectors, items, metas)

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
        items = _check_fact_texts(texts)
        rows = as_unit_rows(np.atleast_2d(np.asarray(vectors)), dim=self.dim)
        if len(rows) != len(items):
            raise InvalidInputError(f"got {len(rows)} vectors for {len(items)} texts")
        return self._append(rows, items, _check_metadata(metadata, len(items)))

    def _store_exact(
        self, vectors: np.ndarray, texts: Sequence[str], metadata: Sequence[Metadata | None]
    ) -> list[int]:
        """Store rows bit for bit (unit rows from an export of this encoder): no re-scaling."""
        items = _check_fact_texts(texts)
        metas = _check_metadata(metadata, len(items))
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if rows.shape != (len(items), self.dim):
            raise InvalidInputError(f"vectors must have shape ({len(items)}, {self.dim})")
        norms = np.linalg.norm(rows, axis=1)
        if not np.isfinite(rows).all() or not np.all((np.abs(norms - 1) < 1e-3) | (norms == 0)):
            raise InvalidInputError("vectors must be finite unit (or zero) rows")
        return self._append(rows, items, metas)

    def forget(self, fact_id: int) -> StoredFact:
        """Delete one fact; returns what was deleted. Unknown ids raise :class:`UnknownIdError`."""
        return self.forget_many([fact_id])[0]

    def forget_many(self, fact_ids: Sequence[int]) -> list[StoredFact]:
        """Delete several facts; if any id is unknown (or repeated), nothing is deleted."""
        ids = list(fact_ids)
        with self._lock:
            self._sync()
            for fact_id in ids:
                self._store.row(fact_id)
            if len(set(ids)) != len(ids):
                raise InvalidInputError("fact_ids contains the same id more than once")
            if self._durable is not None:
                return self._durable.delete(ids)
            return [self._store.remove(fact_id) for fact_id in ids]

    def update(self, fact_id: int, text: str, metadata: Metadata | None = None) -> None:
        """Replace the text (and metadata, when given) of a stored fact; the id is kept."""
        (item,) = _check_fact_texts([text])
        new_meta = None if metadata is None else _check_metadata([metadata], 1)[0]
        vector = self.encoder.encode_batch([item])[0]
        with self._lock:
            if self._durable is not None:
                self._durable.update(fact_id, vector, item, new_meta)
                return
            current = self._store.get(fact_id)
            self._store.replace(
                fact_id, vector, item, current.metadata if new_meta is None else new_meta
            )

    def clear(self) -> None:
        """Forget every fact."""
        with self._lock:
            if self._durable is not None:
                self._durable.clear()
                return
            self._store.clear()

    def _append(self, vectors: np.ndarray, texts: list[str], metadata: list[Metadata]) -> list[int]:
        with self._lock:
            if self._durable is not None:
                return self._durable.insert(vectors, texts, metadata)
            return self._store.append(vectors, texts, metadata)

    def _append_negatives(self, vectors: np.ndarray, texts: list[str]) -> list[int]:
        """Add negative (repulsive) patterns, written through to the durable file if bound."""
        metadata: list[Metadata] = [{} for _ in texts]
        with self._lock:
            if self._durable is not None:
                return self._durable.insert(vectors, texts, metadata, negative=True)
            return self._negatives.append(vectors, texts, metadata)

    # ----------------------------------------------------------------------------------- reads

    def match_quality_many(
        self, cues: Cues, *, top_k: int = 3, min_similarity: float | None = None
    ) -> list[MatchReport]:
        """:meth:`match_quality` for a batch of cues, with one matrix product for all."""
        items = _check_cues(cues)
        if not items:
            return []
        return self._answer(self.encoder.encode_batch(items), top_k, min_similarity)

    def match_quality(
        self, cue: str, *, top_k: int = 3, min_similarity: float | None = None
    ) -> MatchReport:
        """How well ``cue`` matches, from one softmax: the three signals, the decision, the
        reason for abstaining (if any) and the ``top_k`` best candidates.

        ``min_similarity`` overrides the policy's threshold for this call only.
        """
        return self.match_quality_many([cue], top_k=top_k, min_similarity=min_similarity)[0]

    def match_quality_vectors(self, vectors: np.ndarray, *, top_k: int = 3) -> list[MatchReport]:
        """:meth:`match_quality` for cue vectors of shape (q, dim) or (dim,)."""
        return self._answer(as_unit_rows(np.atleast_2d(vectors), dim=self.dim), top_k, None)

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
        self, cues: Cues, min_similarity: float | None = None
    ) -> list[str | None]:
        """:meth:`query_or_none` for many cues at once."""
        reports = self.match_quality_many(cues, top_k=1, min_similarity=min_similarity)
        return [None if r.best is None else r.best.text for r in reports]

    def recall_many(self, cues: Cues, top_k: int = 3) -> list[list[Recall]]:
        """The ``top_k`` best facts for each cue, best first, without abstaining."""
        return [list(r.candidates) for r in self.match_quality_many(cues, top_k=top_k)]

    def recall(self, cue: str, top_k: int = 3) -> list[Recall]:
        """The ``top_k`` best facts for ``cue`` as :class:`Recall` results, best first."""
        return self.recall_many([cue], top_k)[0]

    def recall_vectors(self, vectors: np.ndarray, top_k: int = 3) -> list[list[Recall]]:
        """The ``top_k`` best facts for cue vectors of shape (q, dim) or (dim,)."""
        return [list(r.candidates) for r in self.match_quality_vectors(vectors, top_k=top_k)]

    def retrieve(self, cue: str, top_k: int = 3) -> list[tuple[str, float]]:
        """The documented form: ``[(fact, weight), ...]`` best first; [] when empty."""
        return [r.as_tuple() for r in self.recall(cue, top_k)]

    def retrieve_many(self, cues: Cues, top_k: int = 3) -> list[list[tuple[str, float]]]:
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

    def _answer(
        self, cues: np.ndarray, top_k: int, min_similarity: float | None
    ) -> list[MatchReport]:
        """One readout for cue vectors (q, dim): candidates, signals and decisions."""
        _check_positive_int("top_k", top_k)
        policy = self._policy
        if min_similarity is not None:
            _check_number("min_similarity", min_similarity)
            policy = GatePolicy(
                min_similarity=min_similarity,
                min_gap=policy.min_gap,
                max_sentinel_weight=policy.max_sentinel_weight,
                source=policy.source + "+override",
            )
        with self._lock:
            self._sync()
            if len(self._store) == 0:
                return [self._empty_report(policy) for _ in range(len(cues))]
            patterns = self._store.patterns
            sims = kernel.similarities(patterns, cues[0] if len(cues) == 1 else cues)
            sims = sims.reshape(len(cues), -1)
            max_similarity = sims.max(axis=1)
            states = cues
            if self.num_steps != 1:
                relaxed = kernel.relax(
                    patterns,
                    cues,
                    self.beta,
                    max_steps=self.num_steps or self.max_steps,
                    tol=self.tol if self.num_steps is None else 0.0,
                    sentinel=self.sentinel,
                )
                states = relaxed.states
                sims = kernel.similarities(patterns, states)
            out = kernel.readout(sims, self.beta, max(top_k, 2), sentinel=self.sentinel)
            candidates = [
                [
                    Recall(
                        id=int(self._store.ids[row]),
                        text=self._store.text_at(row),
                        weight=float(w),
                        similarity=float(s),
                        metadata=self._store.metadata_at(row),
                    )
                    for row, w, s in zip(idx[:top_k], ws[:top_k], ss[:top_k], strict=True)
                ]
                for idx, ws, ss in zip(
                    out.indices.tolist(),
                    out.weights.tolist(),
                    out.similarities.tolist(),
                    strict=True,
                )
            ]
        weights = out.weights
        gap = weights[:, 0] - (weights[:, 1] if weights.shape[1] > 1 else 0.0)
        sentinel_weight = out.sentinel_weight if self.sentinel else None
        reasons = decide(policy, max_similarity, gap, sentinel_weight)
        energies = -out.lse / kernel.as_f32(self.beta) + 0.5 * np.einsum("qd,qd->q", states, states)
        return [
            MatchReport(
                max_similarity=float(max_similarity[i]),
                gap=float(gap[i]),
                sentinel_weight=float(out.sentinel_weight[i]),
                top_confidence=float(weights[i, 0]),
                energy=float(energies[i]),
                is_match=reasons[i] is None,
                reason=reasons[i],
                candidates=tuple(candidates[i]),
                policy=policy,
            )
            for i in range(len(candidates))
        ]

    def _empty_report(self, policy: GatePolicy) -> MatchReport:
        return MatchReport(
            max_similarity=0.0,
            gap=0.0,
            sentinel_weight=1.0 if self.sentinel else 0.0,
            top_confidence=0.0,
            energy=0.0,
            is_match=False,
            reason=AbstainReason.EMPTY_MEMORY,
            candidates=(),
            policy=policy,
        )

    # ----------------------------------------------------------------------------- persistence

    def save(self, path: PathLike) -> None:
        """Write a snapshot of the memory to ``path`` atomically (see :mod:`.persistence`).

        The snapshot is a compacted file in the durable format holding this memory's namespace:
        :meth:`load` reads it into RAM, :meth:`open` binds to it.
        """
        from .persistence import save_snapshot

        with self._lock:
            self._sync()
            if self._durable is not None and _same_file(path, self._durable.path):
                raise InvalidInputError(
                    f"{str(path)!r} is the durable file this memory is bound to; it is always "
                    f"up to date. Save the snapshot to another path."
                )
            save_snapshot(self, path)

    @classmethod
    def load(
        cls, path: PathLike, encoder: Encoder | None = None, *, namespace: str | None = None
    ) -> HopfieldMemory:
        """Read a memory file into RAM (the result is not bound to the file).

        ``path`` may be a snapshot written by :meth:`save`, a durable file of :meth:`open` (read
        as it is now) or a JSON file written by mhn-ai-agent-memory 1.0 (imported: see
        :func:`~hopfield_memory.persistence.load_legacy_json` for what carries over).
        ``encoder`` must have the fingerprint the memory was saved with; when omitted, the
        saved encoder is rebuilt if it is the built-in hashing encoder. ``namespace`` picks one
        memory of a file with several (default: "default", or the only one).
        """
        from .persistence import load_snapshot

        return load_snapshot(cls, path, encoder, namespace)

    def export_jsonl(self, path: PathLike, *, vectors: bool = False) -> int:
        """Write facts (text, metadata, and vectors if asked) as JSON Lines; returns the count.

        See :func:`~hopfield_memory.persistence.export_jsonl`.
        """
        from .persistence import export_jsonl

        with self._lock:
            return export_jsonl(self, path, vectors=vectors)

    def import_jsonl(self, path: PathLike, *, use_vectors: bool | None = None) -> list[int]:
        """Store the facts of a JSON Lines export; returns their new ids.

        Vectors in the file are reused only when its encoder fingerprint matches (or
        ``use_vectors=True``); otherwise the texts are encoded again.
        See :func:`~hopfield_memory.persistence.import_jsonl`.
        """
        from .persistence import import_jsonl

        return import_jsonl(self, path, use_vectors=use_vectors)

    def _parameters(self) -> dict[str, Any]:
        """Constructor parameters as JSON-ready data (for snapshots)."""
        return {
            "beta": self.beta,
            "sentinel": self.sentinel,
            "num_steps": self.num_steps,
            "max_steps": self.max_steps,
            "tol": self.tol,
        }


# --------------------------------------------------------------------------------- validation


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return float(value)


def _check_positive_number(name: str, value: object) -> None:
    if _check_number(name, value) <= 0:
        raise InvalidInputError(f"{name} must be > 0, got {value!r}")


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise InvalidInputError(f"{name} must be >= 1, got {value}")


def _check_fact_texts(texts: Sequence[str]) -> list[str]:
    """Texts to store: str, not empty, not whitespace only."""
    items = check_texts(texts)
    for i, text in enumerate(items):
        if not text.strip():
            raise InvalidInputError(f"texts[{i}] is empty or whitespace; a fact needs text")
    return items


def _check_cues(cues: Cues) -> list[str]:
    items = check_texts(cues, what="cues")
    for i, text in enumerate(items):
        if not text.strip():
            raise InvalidInputError(f"cues[{i}] is empty or whitespace; a cue needs text")
    return items


def _check_metadata(metadata: Sequence[Metadata | None] | None, n: int) -> list[Metadata]:
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
