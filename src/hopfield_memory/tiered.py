"""``TieredMemory``: a hot Hopfield layer over a cold tier, answered by ONE softmax.

A cue is answered like this:

1. The hot layer (a :class:`~hopfield_memory.memory.HopfieldMemory` of at most ``max_hot``
   facts) scores every hot fact exactly.
2. Unless the hot layer alone is confident (its answer passes the gate and its raw similarity is
   at least ``hot_confidence``), the cold tier proposes ``cold_top_k`` candidates. FAISS only
   *chooses* them: their similarities are re-computed exactly from the stored float32 vectors.
3. Hot similarities, cold candidates' similarities and the sentinel's zero logit go into one
   :func:`kernel.readout <hopfield_memory.kernel.readout>`; the answer, its weight and the three
   abstention signals come from that one softmax and are gated by the same
   :class:`~hopfield_memory.gate.GatePolicy` as a flat memory, at every size.

The softmax denominator covers the hot facts plus the cold candidates considered, not every cold
fact. A cold fact that is not a candidate would have had a tiny weight anyway (it is not among the
``cold_top_k`` nearest), so weights and ``sentinel_weight`` are slightly larger than a flat
memory's would be; with the exact cold tier and ``cold_top_k`` at least the number of cold facts
they are the same, and the tests check that the answers equal a flat ``HopfieldMemory``'s.

Hot-set policy (LRFU: recency and frequency of use). Every fact in the hot layer, and every cold
fact that has won a cue, has a use score: each use (being stored, or being the matched answer of a
cue) adds 1, and the score halves every ``half_life`` cues. When the hot layer exceeds
``max_hot`` facts, the lowest scores move to the cold tier (ties: the older id first). A cold fact
whose score reaches ``promote_after`` (default 1.5: two wins within ``half_life`` cues) moves back
into the hot layer. Recording a use happens after the answer is computed, so it never changes that
answer; a move keeps the id, text, metadata and vector, and no fact is ever in both tiers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import kernel
from ._atomic import atomic_write, fsync_path, read_manifest
from .cold import ColdTier, load_cold_tier, make_cold_tier
from .cold._io import load_array, save_array, save_json
from .encoders.base import Encoder, as_unit_rows
from .errors import (
    InvalidInputError,
    InvalidTypeError,
    PersistenceFormatError,
    UnknownIdError,
)
from .gate import GatePolicy, decide
from .memory import (
    HopfieldMemory,
    PathLike,
    _check_metadata,
    build_reports,
    policy_for_call,
)
from .reads import ReadCalls
from .results import MatchReport, Recall
from .store import Metadata, StoredFact

logger = logging.getLogger(__name__)

TIERED_FORMAT = "hopfield-memory-tiered"
TIERED_FORMAT_VERSION = 1
MANIFEST = "tiered.json"


class TieredMemory(ReadCalls):
    """Hot exact Hopfield layer + cold tier, one shared softmax and gate.

    Parameters
    ----------
    encoder : Encoder, optional
        As for :class:`HopfieldMemory` (default: the hashing encoder of length ``dim``).
    dim : int, optional
        Vector length for the default encoder.
    beta : float
        Inverse temperature of the one softmax.
    sentinel : bool
        Add the zero "no match" pattern to the softmax.
    policy : GatePolicy, optional
        Abstention thresholds (default ``encoder.default_policy``).
    max_hot : int
        Most facts in the hot layer.
    cold : str or ColdTier
        ``"exact"`` (default), ``"faiss-flat"``, ``"faiss-ivf"``, or a tier instance.
    cold_options : dict, optional
        Keyword arguments for the cold tier's constructor (e.g. ``nlist``, ``nprobe``).
    cold_top_k : int
        Cold candidates re-scored and added to the softmax per cue.
    hot_confidence : float or None
        The cold tier is skipped for a cue whose hot answer passes the gate with a raw cosine of
        at least this (default 0.95: a near-duplicate). A similarity, not a weight: a hot weight
        near 1 only says one hot fact beats the other hot facts, nothing about cold facts, while
        a cold fact can only outrank a hot answer of cosine 0.95 by being even closer. None
        always searches the cold tier (answers then never depend on placement).
    promote_after : float
        Use score at which a cold fact moves to the hot layer.
    half_life : int, optional
        Cues after which a use counts half (default ``max_hot``).
    path : str or PathLike, optional
        Where :meth:`save` writes when called without a path. Nothing is written until then;
        without a path the memory lives in RAM only (never in a shared temp folder).
    cue_cache_size : int
        LRU cache of encoded cues (see :class:`HopfieldMemory`).
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        dim: int | None = None,
        beta: float = 20.0,
        sentinel: bool = True,
        policy: GatePolicy | None = None,
        max_hot: int = 10_000,
        cold: str | ColdTier = "exact",
        cold_options: dict[str, Any] | None = None,
        cold_top_k: int = 32,
        hot_confidence: float | None = 0.95,
        promote_after: float = 1.5,
        half_life: int | None = None,
        path: PathLike | None = None,
        cue_cache_size: int = 1024,
    ) -> None:
        self._hot = HopfieldMemory(
            encoder,
            dim=dim,
            beta=beta,
            sentinel=sentinel,
            num_steps=1,
            policy=policy,
            cue_cache_size=cue_cache_size,
        )
        for name, value in (("max_hot", max_hot), ("cold_top_k", cold_top_k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int >= 1, got {value!r}")
        if hot_confidence is not None and not -1.0 <= hot_confidence <= 1.0:
            raise InvalidInputError(f"hot_confidence must be in [-1, 1] or None: {hot_confidence}")
        if not promote_after > 0:
            raise InvalidInputError(f"promote_after must be > 0, got {promote_after!r}")
        if half_life is not None and (not isinstance(half_life, int) or half_life < 1):
            raise InvalidInputError(f"half_life must be an int >= 1, got {half_life!r}")
        if isinstance(cold, str):
            tier = make_cold_tier(cold, self._hot.dim, **(cold_options or {}))
        elif isinstance(cold, ColdTier):
            if cold_options:
                raise InvalidInputError("cold_options only apply when cold is a kind name")
            tier = cold
        else:
            raise InvalidTypeError(f"cold must be a kind name or a ColdTier, got {cold!r}")
        if tier.dim != self._hot.dim:
            raise InvalidInputError(f"cold tier dim {tier.dim} != encoder dim {self._hot.dim}")
        self._cold = tier
        self.max_hot = max_hot
        self.cold_top_k = cold_top_k
        self.hot_confidence = hot_confidence
        self.promote_after = float(promote_after)
        self.half_life = max_hot if half_life is None else half_life
        self.path = None if path is None else Path(path)
        self._cold_text: dict[int, str] = {}
        self._cold_meta: dict[int, Metadata] = {}
        self._score: dict[int, float] = {}
        self._last: dict[int, int] = {}
        self._clock = 0
        self._next_id = 0
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"TieredMemory(encoder={self.encoder!r}, hot={self.num_hot}, cold={self.num_cold}, "
            f"max_hot={self.max_hot}, cold_tier={self._cold!r})"
        )

    # ----------------------------------------------------------------------------- properties

    @property
    def encoder(self) -> Encoder:
        """The encoder shared by both tiers."""
        return self._hot.encoder

    @property
    def dim(self) -> int:
        """Length of every stored pattern."""
        return self._hot.dim

    @property
    def beta(self) -> float:
        """Inverse temperature of the one shared softmax."""
        return self._hot.beta

    @property
    def sentinel(self) -> bool:
        """Whether the zero "no match" pattern takes part in the softmax."""
        return self._hot.sentinel

    @property
    def policy(self) -> GatePolicy:
        """The abstention thresholds, the same at every size."""
        return self._hot.policy

    @policy.setter
    def policy(self, policy: GatePolicy) -> None:
        self._hot.policy = policy

    @property
    def cold_tier(self) -> ColdTier:
        """The cold tier (read it; write through this memory)."""
        return self._cold

    @property
    def num_hot(self) -> int:
        """Facts in the hot layer."""
        return len(self._hot)

    @property
    def num_cold(self) -> int:
        """Facts in the cold tier."""
        return len(self._cold)

    @property
    def num_facts(self) -> int:
        """Facts in both tiers."""
        return len(self)

    def __len__(self) -> int:
        return len(self._hot) + len(self._cold)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._hot or fact_id in self._cold_text

    def tier_of(self, fact_id: int) -> str:
        """``"hot"`` or ``"cold"``; raises :class:`UnknownIdError` for an unknown id."""
        if fact_id in self._hot:
            return "hot"
        if fact_id in self._cold_text:
            return "cold"
        raise UnknownIdError(f"no fact with id {fact_id!r} in this memory")

    def get(self, fact_id: int) -> StoredFact:
        """The fact with ``fact_id`` from whichever tier holds it."""
        with self._lock:
            if fact_id in self._hot:
                return self._hot.get(fact_id)
            if fact_id in self._cold_text:
                return StoredFact(fact_id, self._cold_text[fact_id], self._meta(fact_id))
            raise UnknownIdError(f"no fact with id {fact_id!r} in this memory")

    def __iter__(self) -> Iterator[StoredFact]:
        """Every fact, hot and cold, in id order."""
        with self._lock:
            ids = sorted([f.id for f in self._hot] + list(self._cold_text))
            return iter([self.get(i) for i in ids])

    def all_facts(self) -> list[str]:
        """Texts of all stored facts, in id order."""
        return [fact.text for fact in self]

    # ---------------------------------------------------------------------------------- writes

    def store(self, text: str, metadata: Metadata | None = None) -> int:
        """Store one fact (into the hot layer) and return its id."""
        return self.store_many([text], None if metadata is None else [metadata])[0]

    def store_many(
        self,
        texts: Sequence[str],
        metadata: Sequence[Metadata | None] | None = None,
        *,
        progress: bool | None = None,
    ) -> list[int]:
        """Store facts (batched encoding); the newest go hot, overflow moves cold by policy."""
        vectors = self._hot.encode_facts(texts, progress=progress)
        return self._add(vectors, list(texts), _check_metadata(metadata, len(vectors)))

    def store_vectors(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata | None] | None = None,
    ) -> list[int]:
        """Store facts whose vectors (n, dim) were computed elsewhere."""
        rows = as_unit_rows(np.atleast_2d(np.asarray(vectors)), dim=self.dim)
        items = list(texts)
        if len(rows) != len(items):
            raise InvalidInputError(f"got {len(rows)} vectors for {len(items)} texts")
        if any(not isinstance(t, str) or not t.strip() for t in items):
            raise InvalidInputError("every text must be a non-empty str")
        return self._add(rows, items, _check_metadata(metadata, len(items)))

    def _add(self, vectors: np.ndarray, texts: list[str], metas: list[Metadata]) -> list[int]:
        with self._lock:
            n = len(texts)
            ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
            now = self._clock
            # Rank current hot facts and the new ones by (score, id); keep the top max_hot hot.
            _, hot_ids = self._hot.pattern_view()
            hot_ids = hot_ids.copy()
            all_ids = np.concatenate([hot_ids, ids])
            scores = np.concatenate([self._scores(hot_ids), np.ones(n)])
            order = np.lexsort((all_ids, scores))  # ascending: first ones leave
            leaving = max(0, len(all_ids) - self.max_hot)
            out = all_ids[order[:leaving]]
            new_cold = np.isin(ids, out)
            old_cold = out[out < self._next_id]
            # 1. new facts that go straight to the cold tier
            if new_cold.any():
                sel = np.flatnonzero(new_cold)
                self._cold.add(ids[sel], vectors[sel])
                for i in sel.tolist():
                    self._register_cold(int(ids[i]), texts[i], metas[i])
            # 2. hot facts that move to the cold tier
            self._move_to_cold(old_cold)
            # 3. new facts that stay hot
            keep = np.flatnonzero(~new_cold)
            if len(keep):
                self._hot.store_vectors(
                    vectors[keep],
                    [texts[i] for i in keep.tolist()],
                    [metas[i] for i in keep.tolist()],
                    ids=ids[keep].tolist(),
                )
                for i in ids[keep].tolist():
                    self._score[i] = 1.0
                    self._last[i] = now
            self._next_id += n
            return ids.tolist()

    def forget(self, fact_id: int) -> StoredFact:
        """Delete one fact from whichever tier holds it."""
        with self._lock:
            fact = self.get(fact_id)
            if fact_id in self._hot:
                self._hot.forget(fact_id)
            else:
                self._cold.remove(np.array([fact_id], dtype=np.int64))
                del self._cold_text[fact_id]
                self._cold_meta.pop(fact_id, None)
            self._score.pop(fact_id, None)
            self._last.pop(fact_id, None)
            return fact

    def forget_many(self, fact_ids: Sequence[int]) -> list[StoredFact]:
        """Delete several facts from whichever tier holds them; all or nothing."""
        ids = list(fact_ids)
        with self._lock:
            for i in ids:
                self.get(i)
            if len(set(ids)) != len(ids):
                raise InvalidInputError("fact_ids contains the same id more than once")
            return [self.forget(i) for i in ids]

    def _move_to_cold(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        id_list = ids.tolist()
        vectors = self._hot.vectors(id_list)
        facts = [self._hot.get(i) for i in id_list]
        self._cold.add(ids, vectors)
        self._hot.forget_many(id_list)
        for fact in facts:
            self._register_cold(fact.id, fact.text, fact.metadata)
            self._score.pop(fact.id, None)
            self._last.pop(fact.id, None)

    def _promote(self, fact_id: int) -> None:
        """Move a cold fact into the hot layer; evict the lowest hot score if over max_hot."""
        vector = self._cold.vectors(np.array([fact_id], dtype=np.int64))
        text, meta = self._cold_text[fact_id], self._meta(fact_id)
        self._cold.remove(np.array([fact_id], dtype=np.int64))
        del self._cold_text[fact_id]
        self._cold_meta.pop(fact_id, None)
        self._hot.store_vectors(vector, [text], [meta], ids=[fact_id])
        if len(self._hot) > self.max_hot:
            _, hot_ids = self._hot.pattern_view()
            others = hot_ids[hot_ids != fact_id].copy()
            order = np.lexsort((others, self._scores(others)))
            self._move_to_cold(others[order[: len(self._hot) - self.max_hot]])

    def _register_cold(self, fact_id: int, text: str, meta: Metadata) -> None:
        self._cold_text[fact_id] = text
        if meta:
            self._cold_meta[fact_id] = meta

    def _meta(self, fact_id: int) -> Metadata:
        return self._cold_meta.get(fact_id, {})

    def _scores(self, ids: np.ndarray) -> np.ndarray:
        """Decayed use scores of ``ids`` now (0 for ids without a record)."""
        score = np.array([self._score.get(i, 0.0) for i in ids.tolist()], dtype=np.float64)
        last = np.array([self._last.get(i, self._clock) for i in ids.tolist()], dtype=np.float64)
        return score * np.exp2(-(self._clock - last) / self.half_life)

    def _record_use(self, fact_id: int) -> None:
        decayed = self._scores(np.array([fact_id]))[0]
        self._score[fact_id] = float(decayed) + 1.0
        self._last[fact_id] = self._clock
        if fact_id in self._cold_text and self._score[fact_id] >= self.promote_after:
            self._promote(fact_id)

    # ----------------------------------------------------------------------------------- reads

    def match_quality_many(
        self, cues: Sequence[str], *, top_k: int = 3, min_similarity: float | None = None
    ) -> list[MatchReport]:
        """:meth:`match_quality` for a batch of cues: one softmax per cue over the hot facts and
        the cold candidates."""
        if isinstance(cues, str):
            raise InvalidTypeError("cues must be a sequence of str, not one str")
        if len(cues) == 0:
            return []
        return self._answer(self._hot.encode_cues(cues), top_k, min_similarity)

    def match_quality_vectors(self, vectors: np.ndarray, *, top_k: int = 3) -> list[MatchReport]:
        """:meth:`match_quality` for cue vectors of shape (q, dim) or (dim,)."""
        return self._answer(as_unit_rows(np.atleast_2d(vectors), dim=self.dim), top_k, None)

    def _answer(
        self, cues: np.ndarray, top_k: int, min_similarity: float | None
    ) -> list[MatchReport]:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise InvalidInputError(f"top_k must be an int >= 1, got {top_k!r}")
        policy = policy_for_call(self.policy, min_similarity)
        beta, sentinel = self.beta, self.sentinel
        with self._lock:
            q = len(cues)
            if len(self) == 0:
                return [MatchReport.empty(policy, sentinel=self.sentinel) for _ in range(q)]
            hot_patterns, hot_ids = self._hot.pattern_view()
            n_hot = len(hot_ids)
            hot_sims = kernel.similarities(hot_patterns, cues[0] if q == 1 else cues)
            hot_sims = hot_sims.reshape(q, n_hot)
            k = min(self.cold_top_k, len(self._cold))
            cand_ids = np.full((q, k), -1, dtype=np.int64)
            cand_sims = np.full((q, k), -np.inf, dtype=np.float32)
            need = self._needs_cold(hot_sims, policy) if k else np.zeros(q, dtype=bool)
            if need.any():
                rows = np.flatnonzero(need)
                found = self._cold.search(cues[rows], k)
                valid = found >= 0
                unique, inverse = np.unique(found[valid], return_inverse=True)
                exact = kernel.similarities(self._cold.vectors(unique), cues[rows])
                exact = exact.reshape(len(rows), len(unique))
                which = np.zeros(found.shape, dtype=np.int64)
                which[valid] = inverse.reshape(-1)
                scored = np.take_along_axis(exact, which, axis=1)
                cand_ids[rows] = np.where(valid, found, -1)
                cand_sims[rows] = np.where(valid, scored, -np.inf)
            sims = np.concatenate([hot_sims, cand_sims], axis=1)
            max_similarity = sims.max(axis=1)
            out = kernel.readout(sims, beta, max(top_k, 2), sentinel=sentinel)
            candidates = [
                [
                    self._recall(int(hot_ids[j] if j < n_hot else cand_ids[i, j - n_hot]), w, s)
                    for j, w, s in zip(idx[:top_k], ws[:top_k], ss[:top_k], strict=True)
                    if s > -np.inf
                ]
                for i, (idx, ws, ss) in enumerate(
                    zip(
                        out.indices.tolist(),
                        out.weights.tolist(),
                        out.similarities.tolist(),
                        strict=True,
                    )
                )
            ]
            reports = build_reports(
                out, candidates, max_similarity, cues, policy, beta=beta, sentinel=sentinel
            )
            # Usage is recorded after every answer is final, so it never changes one.
            for report in reports:
                self._clock += 1
                if report.best is not None and report.best.id in self:
                    self._record_use(report.best.id)
            return reports

    def _needs_cold(self, hot_sims: np.ndarray, policy: GatePolicy) -> np.ndarray:
        """Per cue: does the cold tier have to be searched (hot layer not confident)?"""
        q, n_hot = hot_sims.shape
        if self.hot_confidence is None or n_hot == 0:
            return np.ones(q, dtype=bool)
        max_sim = hot_sims.max(axis=1)
        hot = kernel.readout(hot_sims.copy(), self.beta, 2, sentinel=self.sentinel)
        w = hot.weights
        gap = w[:, 0] - (w[:, 1] if w.shape[1] > 1 else 0.0)
        reasons = decide(policy, max_sim, gap, hot.sentinel_weight if self.sentinel else None)
        confident = np.array([r is None for r in reasons]) & (max_sim >= self.hot_confidence)
        return ~confident

    def _recall(self, fact_id: int, weight: float, similarity: float) -> Recall:
        fact = self.get(fact_id)
        return Recall(fact.id, fact.text, float(weight), float(similarity), fact.metadata)

    # ----------------------------------------------------------------------------- persistence

    def save(self, path: PathLike | None = None) -> None:
        """Write both tiers into the directory ``path`` (default: the ``path`` given at
        construction), atomically.

        Layout: ``path/tiered.json`` (the manifest, replaced atomically last) names a generation
        folder ``path/gen-<hex>/`` holding ``hot.sqlite`` (a :meth:`HopfieldMemory.save`
        snapshot), ``cold/`` (the cold tier's files), ``cold_facts.sqlite`` (cold texts and
        metadata) and ``usage_*.npy``. A crash before the manifest is replaced leaves the previous
        generation in force; older generations are removed after the switch.
        """
        target = self._target(path)
        with self._lock:
            target.mkdir(parents=True, exist_ok=True)
            generation = f"gen-{uuid.uuid4().hex[:12]}"
            folder = target / generation
            folder.mkdir()
            self._hot.save(folder / "hot.sqlite")
            self._cold.save(folder / "cold")
            self._save_cold_facts(folder / "cold_facts.sqlite")
            ids = np.array(sorted(self._score), dtype=np.int64)
            save_array(folder / "usage_ids.npy", ids)
            save_array(folder / "usage_score.npy", np.array([self._score[i] for i in ids.tolist()]))
            save_array(
                folder / "usage_last.npy",
                np.array([self._last[i] for i in ids.tolist()], dtype=np.int64),
            )
            fsync_path(folder / "cold")
            fsync_path(folder)
            save_json(target / MANIFEST, self._manifest(generation))
            for old in target.glob("gen-*"):
                if old.name != generation and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, path: PathLike, encoder: Encoder | None = None) -> TieredMemory:
        """Read a memory written by :meth:`save`; ``encoder`` as for HopfieldMemory.load."""
        target = Path(path)
        meta = read_manifest(
            target / MANIFEST,
            format_name=TIERED_FORMAT,
            max_version=TIERED_FORMAT_VERSION,
            what="TieredMemory",
        )
        folder = target / str(meta["generation"])
        hot = HopfieldMemory.load(folder / "hot.sqlite", encoder)
        cold = load_cold_tier(folder / "cold")
        p = meta["parameters"]
        memory = cls(
            hot.encoder,
            beta=hot.beta,
            sentinel=hot.sentinel,
            policy=hot.policy,
            max_hot=p["max_hot"],
            cold=cold,
            cold_top_k=p["cold_top_k"],
            hot_confidence=p["hot_confidence"],
            promote_after=p["promote_after"],
            half_life=p["half_life"],
            path=target,
        )
        memory._hot = hot
        memory._load_cold_facts(folder / "cold_facts.sqlite")
        ids = load_array(folder / "usage_ids.npy", np.int64)
        scores = load_array(folder / "usage_score.npy", np.float64)
        last = load_array(folder / "usage_last.npy", np.int64)
        memory._score = dict(zip(ids.tolist(), scores.tolist(), strict=True))
        memory._last = dict(zip(ids.tolist(), last.tolist(), strict=True))
        memory._clock = int(meta["clock"])
        memory._next_id = int(meta["next_id"])
        if set(memory._cold_text) != set(cold.ids().tolist()):
            raise PersistenceFormatError(f"{str(folder)!r}: cold texts and vectors disagree")
        return memory

    def _target(self, path: PathLike | None) -> Path:
        if path is not None:
            return Path(path)
        if self.path is None:
            raise InvalidInputError(
                "this TieredMemory has no path; call save(path) or build it with path=..."
            )
        return self.path

    def _manifest(self, generation: str) -> dict[str, Any]:
        return {
            "format": TIERED_FORMAT,
            "format_version": TIERED_FORMAT_VERSION,
            "generation": generation,
            "parameters": {
                "max_hot": self.max_hot,
                "cold_top_k": self.cold_top_k,
                "hot_confidence": self.hot_confidence,
                "promote_after": self.promote_after,
                "half_life": self.half_life,
            },
            "cold": self._cold.config(),
            "clock": self._clock,
            "next_id": self._next_id,
            "counts": {"hot": self.num_hot, "cold": self.num_cold},
        }

    def _save_cold_facts(self, target: Path) -> None:
        def write(tmp: Path) -> None:
            with contextlib.closing(sqlite3.connect(tmp)) as db:
                db.execute("CREATE TABLE facts (id INTEGER PRIMARY KEY, text TEXT, metadata TEXT)")
                db.executemany(
                    "INSERT INTO facts VALUES (?, ?, ?)",
                    (
                        (i, t, json.dumps(self._cold_meta.get(i, {})))
                        for i, t in self._cold_text.items()
                    ),
                )
                db.commit()

        atomic_write(target, write)

    def _load_cold_facts(self, source: Path) -> None:
        if not source.is_file():
            raise PersistenceFormatError(f"missing {str(source)!r}")
        uri = f"{source.resolve().as_uri()}?mode=ro"
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                for fact_id, text, meta in db.execute("SELECT id, text, metadata FROM facts"):
                    self._register_cold(int(fact_id), str(text), json.loads(meta))
        except sqlite3.DatabaseError as exc:
            raise PersistenceFormatError(f"{str(source)!r} is damaged: {exc}") from None
