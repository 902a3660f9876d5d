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
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import kernel
from .encoders.base import Encoder, as_unit_rows, check_texts
from .encoders.hashing import RandomIndexEncoder
from .errors import (
    DimensionMismatchError,
    HopfieldMemoryError,
    InvalidInputError,
    InvalidTypeError,
)
from .gate import AbstainReason, GatePolicy, decide
from .progress import progress as progress_bar
from .results import MatchReport, Recall
from .store import Metadata, PatternStore, StoredFact

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Cues = Sequence[str]

# Texts handed to the encoder at once by store_many and reencode (progress advances per batch).
ENCODE_BATCH = 4096


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
    cue_cache_size : int
        Encoded cues kept in an LRU cache keyed by (encoder fingerprint, text), so a repeated
        cue is not encoded again (default 1024; 0 disables it).

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
        cue_cache_size: int = 1024,
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
        if isinstance(cue_cache_size, bool) or not isinstance(cue_cache_size, int):
            raise InvalidTypeError("cue_cache_size must be an int")
        if cue_cache_size < 0:
            raise InvalidInputError(f"cue_cache_size must be >= 0, got {cue_cache_size}")
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
        self.cue_cache_size = cue_cache_size
        self._cue_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"HopfieldMemory(encoder={self.encoder!r}, facts={len(self)}, beta={self.beta}, "
            f"sentinel={self.sentinel}, num_steps={self.num_steps})"
        )

    # ----------------------------------------------------------------------------- properties

    @property
    def dim(self) -> int:
        """Length of every stored pattern."""
        return self._store.dim

    @property
    def policy(self) -> GatePolicy:
        """The abstention thresholds in force."""
        return self._policy

    @policy.setter
    def policy(self, policy: GatePolicy) -> None:
        if not isinstance(policy, GatePolicy):
            raise InvalidTypeError(f"policy must be a GatePolicy, got {type(policy).__name__}")
        self._policy = policy

    @property
    def num_facts(self) -> int:
        """How many facts are stored."""
        return len(self._store)

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self) -> Iterator[StoredFact]:
        """Stored facts in the order they were stored."""
        with self._lock:
            return iter(list(self._store))

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._store

    def all_facts(self) -> list[str]:
        """Texts of all stored facts, in the order they were stored."""
        return [fact.text for fact in self]

    def get(self, fact_id: int) -> StoredFact:
        """The fact with ``fact_id``; raises :class:`UnknownIdError` if there is none."""
        with self._lock:
            return self._store.get(fact_id)

    # ---------------------------------------------------------------------------------- writes

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
        items = _check_fact_texts(texts)
        metas = _check_metadata(metadata, len(items))
        return self._append(self._encode(items, progress=progress), items, metas)

    def store_vectors(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata | None] | None = None,
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """Store facts whose vectors were computed elsewhere.

        vectors : array-like of shape (n, dim) or (dim,), finite; rows are scaled to unit norm.
        texts : the n texts the vectors stand for.
        ids : optional ids for the facts (non-negative, unique, not held), for facts that move
            here from elsewhere with their id (a tier of :class:`TieredMemory`); new facts get
            fresh ids, which keep counting up past every id ever held.
        """
        items = _check_fact_texts(texts)
        rows = as_unit_rows(np.atleast_2d(np.asarray(vectors)), dim=self.dim)
        if len(rows) != len(items):
            raise InvalidInputError(f"got {len(rows)} vectors for {len(items)} texts")
        metas = _check_metadata(metadata, len(items))
        if ids is None:
            return self._append(rows, items, metas)
        given = [int(i) for i in ids]
        if len(given) != len(items) or len(set(given)) != len(given) or min(given, default=0) < 0:
            raise InvalidInputError("ids must be one unique non-negative int per text")
        with self._lock:
            held = [i for i in given if i in self._store]
            if held:
                raise InvalidInputError(f"ids {held[:5]} are already stored")
            return self._store.append(rows, items, metas, ids=given)

    def pattern_view(self) -> tuple[np.ndarray, np.ndarray]:
        """Read-only views ``(patterns (n, dim) float32, ids (n,) int64)`` of the stored facts,
        row for row; valid until the next write. For layers built on this one (tiers)."""
        patterns, ids = self._store.patterns.view(), self._store.ids.view()
        patterns.flags.writeable = False
        ids.flags.writeable = False
        return patterns, ids

    def vectors(self, fact_ids: Sequence[int]) -> np.ndarray:
        """Copies of the stored patterns of ``fact_ids``, shape (k, dim) float32."""
        with self._lock:
            rows = [self._store.row(int(i)) for i in fact_ids]
            return self._store.patterns[rows].copy()

    def encode_facts(self, texts: Sequence[str], *, progress: bool | None = None) -> np.ndarray:
        """Validate fact texts (not empty) and encode them in batches: float32 (n, dim)."""
        return self._encode(_check_fact_texts(texts), progress=progress)

    def encode_cues(self, cues: Cues) -> np.ndarray:
        """Validate cues and encode them through the LRU cue cache: float32 (q, dim)."""
        return self._encode_cues(_check_cues(cues))

    def forget(self, fact_id: int) -> StoredFact:
        """Delete one fact; returns what was deleted. Unknown ids raise :class:`UnknownIdError`."""
        with self._lock:
            return self._store.remove(fact_id)

    def forget_many(self, fact_ids: Sequence[int]) -> list[StoredFact]:
        """Delete several facts; if any id is unknown (or repeated), nothing is deleted."""
        ids = list(fact_ids)
        with self._lock:
            for fact_id in ids:
                self._store.row(fact_id)
            if len(set(ids)) != len(ids):
                raise InvalidInputError("fact_ids contains the same id more than once")
            return [self._store.remove(fact_id) for fact_id in ids]

    def update(self, fact_id: int, text: str, metadata: Metadata | None = None) -> None:
        """Replace the text (and metadata, when given) of a stored fact; the id is kept."""
        (item,) = _check_fact_texts([text])
        new_meta = None if metadata is None else _check_metadata([metadata], 1)[0]
        vector = self._encode([item])[0]
        with self._lock:
            current = self._store.get(fact_id)
            self._store.replace(
                fact_id, vector, item, current.metadata if new_meta is None else new_meta
            )

    def clear(self) -> None:
        """Forget every fact."""
        with self._lock:
            self._store.clear()

    def reencode(self, encoder: Encoder, *, progress: bool | None = None) -> None:
        """Switch to ``encoder``: every stored text is encoded again, in batches.

        The policy becomes ``encoder.default_policy`` (similarity scales differ between
        encoders; call :meth:`calibrate` afterwards to fit it). Ids and metadata are kept. If
        encoding fails, the memory is left as it was.
        """
        if not isinstance(encoder, Encoder):
            raise InvalidTypeError(f"encoder must follow the Encoder protocol, got {encoder!r}")
        with self._lock:
            facts = _reencoded(self._store, encoder, self._encode, progress)
            negatives = _reencoded(self._negatives, encoder, self._encode, progress)
            self.encoder, self._store, self._negatives = encoder, facts, negatives
            self._policy = encoder.default_policy
            self._cue_cache.clear()

    def _encode(
        self,
        texts: list[str],
        *,
        encoder: Encoder | None = None,
        progress: bool | None = None,
    ) -> np.ndarray:
        """Encode validated texts in batches (with ``encoder``, default the memory's own):
        float32 (n, dim), checked before use."""
        enc = self.encoder if encoder is None else encoder
        n = len(texts)
        if n <= ENCODE_BATCH:
            vectors = enc.encode_batch(texts) if n else np.empty((0, enc.dim), np.float32)
            return _checked(enc, vectors, n)
        out = np.empty((n, enc.dim), dtype=np.float32)
        with progress_bar(n, "encoding", progress) as advance:
            for start in range(0, n, ENCODE_BATCH):
                chunk = texts[start : start + ENCODE_BATCH]
                out[start : start + len(chunk)] = _checked(enc, enc.encode_batch(chunk), len(chunk))
                advance(len(chunk))
        return out

    def _encode_cues(self, cues: list[str]) -> np.ndarray:
        """Encode cues through the LRU cache: float32 (q, dim)."""
        if self.cue_cache_size == 0:
            return self._encode(cues)
        cache, fingerprint = self._cue_cache, self.encoder.spec.fingerprint
        out = np.empty((len(cues), self.encoder.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, cue in enumerate(cues):
            hit = cache.get((fingerprint, cue))
            if hit is None:
                missing.setdefault(cue, []).append(i)
            else:
                cache.move_to_end((fingerprint, cue))
                out[i] = hit
        if missing:
            fresh = self._encode(list(missing))
            for vector, (cue, rows) in zip(fresh, missing.items(), strict=True):
                out[rows] = vector
                cache[(fingerprint, cue)] = vector
            while len(cache) > self.cue_cache_size:
                cache.popitem(last=False)
        return out

    def _append(self, vectors: np.ndarray, texts: list[str], metadata: list[Metadata]) -> list[int]:
        with self._lock:
            return self._store.append(vectors, texts, metadata)

    # ----------------------------------------------------------------------------------- reads

    def match_quality_many(
        self, cues: Cues, *, top_k: int = 3, min_similarity: float | None = None
    ) -> list[MatchReport]:
        """:meth:`match_quality` for a batch of cues, with one matrix product for all."""
        items = _check_cues(cues)
        if not items:
            return []
        return self._answer(self._encode_cues(items), top_k, min_similarity)

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
        policy = policy_for_call(self._policy, min_similarity)
        with self._lock:
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
            store = self._store
            candidates = [
                [
                    Recall(
                        id=int(store.ids[row]),
                        text=store.text_at(row),
                        weight=float(w),
                        similarity=float(s),
                        metadata=store.metadata_at(row),
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
        return build_reports(
            out, candidates, max_similarity, states, policy, beta=self.beta, sentinel=self.sentinel
        )

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
        """Write a snapshot of the memory to ``path`` atomically (see :mod:`.persistence`)."""
        from .persistence import save_snapshot

        with self._lock:
            save_snapshot(self, path)

    @classmethod
    def load(cls, path: PathLike, encoder: Encoder | None = None) -> HopfieldMemory:
        """Read a snapshot written by :meth:`save`.

        ``encoder`` must have the fingerprint the memory was saved with; when omitted, the
        saved encoder is rebuilt if it is the built-in hashing encoder.
        """
        from .persistence import load_snapshot

        return load_snapshot(cls, path, encoder)

    def _parameters(self) -> dict[str, Any]:
        """Constructor parameters as JSON-ready data (for snapshots)."""
        return {
            "beta": self.beta,
            "sentinel": self.sentinel,
            "num_steps": self.num_steps,
            "max_steps": self.max_steps,
            "tol": self.tol,
        }


# --------------------------------------------------------------------------------- helpers


def policy_for_call(policy: GatePolicy, min_similarity: float | None) -> GatePolicy:
    """``policy`` with ``min_similarity`` overridden for one call (unchanged when None)."""
    if min_similarity is None:
        return policy
    _check_number("min_similarity", min_similarity)
    return GatePolicy(
        min_similarity=min_similarity,
        min_gap=policy.min_gap,
        max_sentinel_weight=policy.max_sentinel_weight,
        source=policy.source + "+override",
    )


def build_reports(
    out: kernel.Readout,
    candidates: list[list[Recall]],
    max_similarity: np.ndarray,
    states: np.ndarray,
    policy: GatePolicy,
    *,
    beta: float,
    sentinel: bool,
) -> list[MatchReport]:
    """The gate's decision and report for every cue of one readout.

    out : the readout of one softmax for q cues (at least two candidates per cue when there are).
    candidates : per cue, the facts of ``out`` to report, best first.
    max_similarity : (q,) the largest raw cosine per cue; states : (q, dim) final state patterns.
    Shared by :class:`HopfieldMemory` and :class:`~hopfield_memory.tiered.TieredMemory`, so that
    both gate the same signals in the same way.
    """
    weights = out.weights
    gap = weights[:, 0] - (weights[:, 1] if weights.shape[1] > 1 else 0.0)
    sentinel_weight = out.sentinel_weight if sentinel else None
    reasons = decide(policy, max_similarity, gap, sentinel_weight)
    energies = -out.lse / kernel.as_f32(beta) + 0.5 * np.einsum("qd,qd->q", states, states)
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


def _reencoded(
    store: PatternStore, encoder: Encoder, encode: Any, progress: bool | None
) -> PatternStore:
    """A copy of ``store`` (same ids, texts, metadata) with every text encoded by ``encoder``."""
    facts = list(store)
    vectors = encode([f.text for f in facts], encoder=encoder, progress=progress)
    fresh = PatternStore(encoder.dim, capacity=len(facts))
    fresh.append(
        vectors, [f.text for f in facts], [f.metadata for f in facts], ids=[f.id for f in facts]
    )
    fresh.next_id = store.next_id
    return fresh


def _checked(encoder: Encoder, vectors: np.ndarray, n: int) -> np.ndarray:
    """An encoder's output as float32 (n, dim), or a clear error if it broke its contract."""
    if vectors.shape != (n, encoder.dim):
        raise DimensionMismatchError(
            f"encoder {encoder!r} returned shape {vectors.shape}, expected {(n, encoder.dim)}"
        )
    vectors = np.asarray(vectors, dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise InvalidInputError(f"encoder {encoder!r} returned NaN or infinity")
    return vectors


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
