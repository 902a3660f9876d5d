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
   :class:`~hopfield_memory.gate.GatePolicy` as a flat memory, at every size. With
   ``num_steps != 1`` each cue first relaxes over its hot facts and cold candidates (and is
   pushed away from the negatives when ``repulsive=True``), as a flat memory relaxes over all.

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

Files. Both tiers live in the one file format of :mod:`.persistence`: every fact, hot or cold, is
a row of ``facts``, so a tiered file is also a flat memory file (``HopfieldMemory.load`` reads it
whole) and ``TieredMemory.load`` reads any memory file. Where the facts sat and their use scores
(the *layout*, a cache: losing it changes placement, never an answer's facts) are the meta key
``layout:<namespace>``. :meth:`TieredMemory.save` writes a snapshot atomically;
:meth:`TieredMemory.open` binds to a durable file exactly as ``HopfieldMemory.open`` does (every
write committed before the call returns, several processes, namespaces); moves between tiers
write nothing. The cold index is rebuilt from the stored vectors when a file is read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import kernel
from .cold import ColdTier, SharedColdTier, make_cold_tier
from .encoders.base import Encoder, as_unit_rows
from .errors import InvalidInputError, InvalidTypeError, PersistenceFormatError
from .gate import GatePolicy, decide
from .memory import (
    HopfieldMemory,
    PathLike,
    build_reports,
    encode_in_batches,
    policy_for_call,
    refuse_own_file,
)
from .persistence import FactRow, fill_stores, namespace_record, save_snapshot, store_rows
from .reads import ReadCalls
from .results import MatchReport, Recall
from .store import FactRows, Metadata, PatternStore, StoredFact
from .writes import WriteCalls

if TYPE_CHECKING:
    from .durable import DurableStore
    from .persistence import NamespaceRecord

logger = logging.getLogger(__name__)

LAYOUT_VERSION = 1
_ROW_CHUNK = 8192  # cold rows fetched at once when writing a snapshot


class Tiers:
    """Where each fact lives, the hot layer or the cold tier, and the use scores that decide it.

    It is the :class:`~hopfield_memory.store.FactRows` of a :class:`TieredMemory`: the durable
    layer and file loading apply every change through it. Not thread-safe on its own (the memory
    calls it under its lock).

    Parameters
    ----------
    hot : HopfieldMemory
        The hot layer (in RAM; never bound to a file itself).
    cold : ColdTier
        The cold tier.
    max_hot, promote_after, half_life
        See :class:`TieredMemory`.
    """

    cold_holds_hot = False  # the cold tier never holds a hot fact

    def __init__(
        self,
        hot: HopfieldMemory,
        cold: ColdTier,
        *,
        max_hot: int,
        promote_after: float,
        half_life: int,
    ) -> None:
        self.hot = hot
        self.cold = cold
        self.max_hot = max_hot
        self.promote_after = promote_after
        self.half_life = half_life
        self.next_id = 0
        self.clock = 0  # cues answered; the time unit of use scores
        self._cold_text: dict[int, str] = {}
        self._cold_meta: dict[int, Metadata] = {}
        self._score: dict[int, float] = {}
        self._last: dict[int, int] = {}

    # ------------------------------------------------------------------------- FactRows

    def __len__(self) -> int:
        return len(self.hot.fact_rows) + len(self._cold_text)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self.hot.fact_rows or fact_id in self._cold_text

    def get(self, fact_id: int) -> StoredFact:
        """The fact with ``fact_id`` from whichever tier holds it."""
        if fact_id in self._cold_text:
            return StoredFact(fact_id, self._cold_text[fact_id], self._cold_meta.get(fact_id, {}))
        return self.hot.fact_rows.get(fact_id)  # raises UnknownIdError when in neither

    def append(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata],
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """Place new facts (unit rows (k, dim)): they go hot with a use of 1, and the lowest
        scores of the hot layer then overflow to the cold tier. Returns their ids."""
        k = len(texts)
        new = np.arange(self.next_id, self.next_id + k) if ids is None else np.asarray(ids)
        new = new.astype(np.int64)
        if k == 0:
            return []
        # Rank current hot facts and the new ones by (score, id); the top max_hot stay hot.
        hot_ids = self.hot.fact_rows.ids.copy()
        all_ids = np.concatenate([hot_ids, new])
        scores = np.concatenate([self._scores(hot_ids), np.ones(k)])
        leaving = all_ids[np.lexsort((all_ids, scores))[: max(0, len(all_ids) - self.max_hot)]]
        straight_to_cold = np.isin(new, leaving)
        self._add_cold(
            new[straight_to_cold],
            vectors[straight_to_cold],
            [(texts[i], metadata[i]) for i in np.flatnonzero(straight_to_cold).tolist()],
        )
        self._move_to_cold(leaving[np.isin(leaving, hot_ids)])
        stay = np.flatnonzero(~straight_to_cold).tolist()
        self.hot.fact_rows.append(
            vectors[stay],
            [texts[i] for i in stay],
            [metadata[i] for i in stay],
            ids=new[stay].tolist(),
        )
        for fact_id in new[stay].tolist():
            self._score[fact_id], self._last[fact_id] = 1.0, self.clock
        self.next_id = max(self.next_id, int(new.max()) + 1)
        return new.tolist()

    def replace(self, fact_id: int, vector: np.ndarray, text: str, metadata: Metadata) -> None:
        """New vector (dim,), text and metadata for ``fact_id``, in the tier that holds it."""
        if fact_id in self._cold_text:
            one = np.array([fact_id], dtype=np.int64)
            self.cold.remove(one)
            self._add_cold(one, vector[None, :], [(text, metadata)])
        else:
            self.hot.fact_rows.replace(fact_id, vector, text, metadata)

    def remove(self, fact_id: int) -> StoredFact:
        """Delete ``fact_id`` from whichever tier holds it; returns what was deleted."""
        fact = self.get(fact_id)
        if fact_id in self._cold_text:
            self.cold.remove(np.array([fact_id], dtype=np.int64))
            del self._cold_text[fact_id]
            self._cold_meta.pop(fact_id, None)
        else:
            self.hot.fact_rows.remove(fact_id)
        self._score.pop(fact_id, None)
        self._last.pop(fact_id, None)
        return fact

    def clear(self) -> None:
        """Remove every fact from both tiers; ids keep counting up."""
        self.hot.fact_rows.clear()
        if len(self.cold):
            self.cold.remove(self.cold.ids())
        self._cold_text.clear()
        self._cold_meta.clear()
        self._score.clear()
        self._last.clear()

    def reserve(self, rows: int) -> None:
        """Nothing to prepare: each tier grows on its own."""

    # ------------------------------------------------------------------------ placement

    @property
    def num_cold(self) -> int:
        """Facts held only by the cold tier."""
        return len(self._cold_text)

    def in_cold(self, fact_id: int) -> bool:
        """Whether ``fact_id`` is a cold fact (not in the hot layer)."""
        return fact_id in self._cold_text

    def ids(self) -> list[int]:
        """Every fact id, in id order."""
        return sorted([*self.hot.fact_rows.ids.tolist(), *self._cold_text])

    def get_many(self, ids: Sequence[int]) -> dict[int, StoredFact]:
        """The facts of ``ids`` by id."""
        return {fact_id: self.get(fact_id) for fact_id in ids}

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, hot then cold: float32 (n, dim), a copy."""
        cold = self.cold
        return np.concatenate([self.hot.fact_rows.patterns, cold.vectors(cold.ids())])

    def sync(self) -> None:
        """Take in what other memories changed (nothing to do: this memory owns its tiers)."""

    def record_use(self, fact_id: int) -> None:
        """Count one win for ``fact_id`` now; promote it when a cold fact's score is high."""
        self._score[fact_id] = float(self._scores(np.array([fact_id]))[0]) + 1.0
        self._last[fact_id] = self.clock
        if self.in_cold(fact_id) and self._score[fact_id] >= self.promote_after:
            self._promote(fact_id)

    def _scores(self, ids: np.ndarray) -> np.ndarray:
        """Decayed use scores of ``ids`` now (0 for ids without a record)."""
        score = np.array([self._score.get(i, 0.0) for i in ids.tolist()], dtype=np.float64)
        last = np.array([self._last.get(i, self.clock) for i in ids.tolist()], dtype=np.float64)
        return score * np.exp2(-(self.clock - last) / self.half_life)

    def _add_cold(
        self, ids: np.ndarray, vectors: np.ndarray, facts: list[tuple[str, Metadata]]
    ) -> None:
        if len(ids) == 0:
            return
        self.cold.add(ids, vectors)
        for fact_id, (text, meta) in zip(ids.tolist(), facts, strict=True):
            self._cold_text[fact_id] = text
            if meta:
                self._cold_meta[fact_id] = meta

    def _move_to_cold(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        store = self.hot.fact_rows
        rows = [store.row(i) for i in ids.tolist()]
        facts = [(store.text_at(r), store.metadata_at(r)) for r in rows]
        self._add_cold(ids, store.patterns[rows], facts)
        for fact_id in ids.tolist():
            store.remove(fact_id)
            self._score.pop(fact_id, None)
            self._last.pop(fact_id, None)

    def _promote(self, fact_id: int) -> None:
        """Move a cold fact into the hot layer; evict the lowest hot score if over max_hot."""
        vector, text, meta = self._take_from_cold(fact_id)
        self.hot.fact_rows.append(vector, [text], [meta], ids=[fact_id])
        excess = len(self.hot.fact_rows) - self.max_hot
        if excess > 0:
            hot_ids = self.hot.fact_rows.ids
            others = hot_ids[hot_ids != fact_id].copy()
            self._move_to_cold(others[np.lexsort((others, self._scores(others)))[:excess]])

    def _take_from_cold(self, fact_id: int) -> tuple[np.ndarray, str, Metadata]:
        """Vector (1, dim), text and metadata of a cold fact, which leaves the cold tier."""
        one = np.array([fact_id], dtype=np.int64)
        vector = self.cold.vectors(one)
        text, meta = self._cold_text.pop(fact_id), self._cold_meta.pop(fact_id, {})
        self.cold.remove(one)
        return vector, text, meta

    # --------------------------------------------------------------------------- files

    def layout(self) -> dict[str, Any]:
        """Where the facts are and their use scores, as JSON-ready data."""
        return {
            "version": LAYOUT_VERSION,
            "hot": sorted(self.hot.fact_rows.ids.tolist()),
            "clock": self.clock,
            "usage": [[i, self._score[i], self._last[i]] for i in sorted(self._score)],
        }

    def fill(self, facts: PatternStore, layout: dict[str, Any] | None, source: str) -> None:
        """Place the facts read from a file: the layout's hot facts hot (when it has one, else
        the newest ``max_hot``), the rest cold, with the layout's use scores."""
        ids = facts.ids
        if layout is None:
            hot = np.sort(ids)[-self.max_hot :] if len(ids) else ids
            usage: list[list[Any]] = []
        else:
            try:
                if layout["version"] > LAYOUT_VERSION:
                    raise PersistenceFormatError(
                        f"{source} has a tier layout of version {layout['version']}; upgrade"
                    )
                hot = np.array(layout["hot"], dtype=np.int64)
                usage, self.clock = list(layout["usage"]), int(layout["clock"])
            except (KeyError, TypeError, ValueError) as exc:
                raise PersistenceFormatError(f"{source} has a damaged tier layout: {exc}") from None
        is_hot = np.isin(ids, hot)
        hot_rows, cold_rows = np.flatnonzero(is_hot), np.flatnonzero(~is_hot)
        self.hot.fact_rows.append(
            facts.patterns[hot_rows],
            [facts.text_at(r) for r in hot_rows.tolist()],
            [facts.metadata_at(r) for r in hot_rows.tolist()],
            ids=ids[hot_rows].tolist(),
        )
        self._add_cold(
            ids[cold_rows],
            facts.patterns[cold_rows],
            [(facts.text_at(r), facts.metadata_at(r)) for r in cold_rows.tolist()],
        )
        for fact_id, score, last in usage:
            if fact_id in self:
                self._score[int(fact_id)], self._last[int(fact_id)] = float(score), int(last)
        self.next_id = max(self.next_id, facts.next_id)
        excess = len(self.hot.fact_rows) - self.max_hot
        if excess > 0:  # a smaller max_hot than the file was saved with
            hot_ids = self.hot.fact_rows.ids.copy()
            self._move_to_cold(hot_ids[np.lexsort((hot_ids, self._scores(hot_ids)))[:excess]])

    def rows(self) -> Iterator[FactRow]:
        """``(id, text, metadata, vector)`` of every fact: hot rows, then cold ones."""
        yield from store_rows(self.hot.fact_rows)
        cold_ids = sorted(self._cold_text)
        for start in range(0, len(cold_ids), _ROW_CHUNK):
            chunk = np.array(cold_ids[start : start + _ROW_CHUNK], dtype=np.int64)
            for fact_id, vector in zip(chunk.tolist(), self.cold.vectors(chunk), strict=True):
                yield fact_id, self._cold_text[fact_id], self._cold_meta.get(fact_id, {}), vector


class SharedTiers(Tiers):
    """:class:`Tiers` over a :class:`~hopfield_memory.cold.SharedColdTier` (a database that
    several memories, processes or machines share).

    The shared tier is the system of record: every fact is written there first (it allocates the
    ids) and stays there; the hot layer keeps *copies* of this memory's hot facts. Evicting drops
    a copy, promoting makes one, so moves write nothing. :meth:`sync` (run before every read)
    applies the tier's change feed: copies of facts that another memory removed or updated are
    dropped or refreshed. Cold candidates that are also hot are left out of the cold list (the hot
    layer already scores them), so no fact enters the softmax twice.
    """

    cold: SharedColdTier
    cold_holds_hot = True  # every fact stays in the shared tier; the hot layer holds copies

    def __init__(
        self,
        hot: HopfieldMemory,
        cold: SharedColdTier,
        *,
        max_hot: int,
        promote_after: float,
        half_life: int,
    ) -> None:
        super().__init__(
            hot, cold, max_hot=max_hot, promote_after=promote_after, half_life=half_life
        )
        self._seen = cold.version()

    def __len__(self) -> int:
        return len(self.cold)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self.hot.fact_rows or fact_id in self.cold

    def get(self, fact_id: int) -> StoredFact:
        if fact_id in self.hot.fact_rows:
            return self.hot.fact_rows.get(fact_id)
        return self.get_many([fact_id])[fact_id]

    def get_many(self, ids: Sequence[int]) -> dict[int, StoredFact]:
        store = self.hot.fact_rows
        found = {i: store.get(i) for i in ids if i in store}
        rest = [i for i in ids if i not in found]
        if rest:
            facts = self.cold.facts(np.array(rest, dtype=np.int64))  # unknown ids raise
            for fact_id, (text, meta) in zip(rest, facts, strict=True):
                found[fact_id] = StoredFact(fact_id, text, meta)
        return found

    def append(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadata: Sequence[Metadata],
        *,
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """Commit new facts to the shared tier, then keep hot copies as :class:`Tiers` would
        place them. Facts with ids of their own (from a file) cannot join a shared tier."""
        if ids is not None:
            raise InvalidInputError(
                "a shared cold tier allocates ids itself; store the facts with store_many "
                "(or import_jsonl) instead of loading them with their ids"
            )
        if len(texts) == 0:
            return []
        new = self.cold.insert(vectors, texts, metadata)
        return super().append(vectors, texts, metadata, ids=new.tolist())

    def replace(self, fact_id: int, vector: np.ndarray, text: str, metadata: Metadata) -> None:
        self.cold.update(fact_id, vector, text, metadata)
        if fact_id in self.hot.fact_rows:
            self.hot.fact_rows.replace(fact_id, vector, text, metadata)

    def remove(self, fact_id: int) -> StoredFact:
        fact = self.get(fact_id)
        self.cold.remove(np.array([fact_id], dtype=np.int64))
        self._drop_copies(np.array([fact_id], dtype=np.int64))
        return fact

    def clear(self) -> None:
        held = self.cold.ids()
        if len(held):
            self.cold.remove(held)
        self.hot.fact_rows.clear()
        self._score.clear()
        self._last.clear()

    @property
    def num_cold(self) -> int:
        return len(self.cold) - len(self.hot.fact_rows)

    def in_cold(self, fact_id: int) -> bool:
        return fact_id not in self.hot.fact_rows  # callers only ask about facts that exist

    def ids(self) -> list[int]:
        return sorted(self.cold.ids().tolist())

    def all_vectors(self) -> np.ndarray:
        return self.cold.vectors(self.cold.ids())

    def sync(self) -> None:
        """Drop or refresh hot copies of facts another memory removed or updated."""
        head, changed, removed = self.cold.changes_since(self._seen)
        self._drop_copies(removed[np.isin(removed, self.hot.fact_rows.ids)])
        stale = changed[np.isin(changed, self.hot.fact_rows.ids)]
        if len(stale):
            vectors = self.cold.vectors(stale)
            facts = self.cold.facts(stale)
            for fact_id, vector, (text, meta) in zip(stale.tolist(), vectors, facts, strict=True):
                self.hot.fact_rows.replace(fact_id, vector, text, meta)
        self._seen = head

    def _add_cold(
        self, ids: np.ndarray, vectors: np.ndarray, facts: list[tuple[str, Metadata]]
    ) -> None:
        """Nothing to write: the shared tier holds every fact already."""

    def _move_to_cold(self, ids: np.ndarray) -> None:
        self._drop_copies(ids)

    def _drop_copies(self, ids: np.ndarray) -> None:
        for fact_id in ids.tolist():
            if fact_id in self.hot.fact_rows:
                self.hot.fact_rows.remove(fact_id)
            self._score.pop(fact_id, None)
            self._last.pop(fact_id, None)

    def _take_from_cold(self, fact_id: int) -> tuple[np.ndarray, str, Metadata]:
        """Vector (1, dim), text and metadata of a cold fact, which stays in the shared tier."""
        one = np.array([fact_id], dtype=np.int64)
        (text, meta), vector = self.cold.facts(one)[0], self.cold.vectors(one)
        return vector, text, meta

    def fill(self, facts: PatternStore, layout: dict[str, Any] | None, source: str) -> None:
        raise InvalidInputError(
            f"{source}: a memory on a shared cold tier reads its facts from the tier; to copy a "
            f"file's facts into it, load the file and store_many its facts"
        )

    def rows(self) -> Iterator[FactRow]:
        held = np.sort(self.cold.ids())
        for start in range(0, len(held), _ROW_CHUNK):
            chunk = held[start : start + _ROW_CHUNK]
            facts = self.cold.facts(chunk)
            for fact_id, vector, (text, meta) in zip(
                chunk.tolist(), self.cold.vectors(chunk), facts, strict=True
            ):
                yield fact_id, text, meta, vector


class TieredMemory(ReadCalls, WriteCalls):
    """Hot exact Hopfield layer + cold tier, one shared softmax and gate.

    Parameters
    ----------
    encoder : Encoder, optional
        As for :class:`HopfieldMemory` (default: the hashing encoder of length ``dim``).
    dim : int, optional
        Vector length for the default encoder.
    beta, sentinel, num_steps, max_steps, tol, policy, repulsive, beta_neg, clamp_radius,
    neg_strength, cue_cache_size
        As for :class:`HopfieldMemory`; they apply to the one softmax over hot facts and cold
        candidates (negatives live with the hot layer).
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

    Without :meth:`open` the memory lives in RAM only (never in a shared temp folder);
    :meth:`save` writes a snapshot where you say.
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
        repulsive: bool = False,
        beta_neg: float = 6.0,
        clamp_radius: float | None = 1.5,
        neg_strength: float = 0.1,
        max_hot: int = 10_000,
        cold: str | ColdTier = "exact",
        cold_options: dict[str, Any] | None = None,
        cold_top_k: int = 32,
        hot_confidence: float | None = 0.95,
        promote_after: float = 1.5,
        half_life: int | None = None,
        cue_cache_size: int = 1024,
    ) -> None:
        hot = HopfieldMemory(
            encoder,
            dim=dim,
            beta=beta,
            sentinel=sentinel,
            num_steps=num_steps,
            max_steps=max_steps,
            tol=tol,
            policy=policy,
            repulsive=repulsive,
            beta_neg=beta_neg,
            clamp_radius=clamp_radius,
            neg_strength=neg_strength,
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
        self._owns_cold = isinstance(cold, str)
        if _is_database_url(cold):
            tier = make_cold_tier("pgvector", hot.dim, dsn=cold, **(cold_options or {}))
        elif isinstance(cold, str):
            tier = make_cold_tier(cold, hot.dim, **(cold_options or {}))
        elif isinstance(cold, ColdTier):
            if cold_options:
                raise InvalidInputError("cold_options only apply when cold is a kind name")
            tier = cold
        else:
            raise InvalidTypeError(f"cold must be a kind name or a ColdTier, got {cold!r}")
        if tier.dim != hot.dim:
            raise InvalidInputError(f"cold tier dim {tier.dim} != encoder dim {hot.dim}")
        self._hot = hot
        placement = SharedTiers if isinstance(tier, SharedColdTier) else Tiers
        self._tiers = placement(
            hot,
            tier,  # type: ignore[arg-type]  # SharedTiers only ever gets a SharedColdTier
            max_hot=max_hot,
            promote_after=float(promote_after),
            half_life=max_hot if half_life is None else half_life,
        )
        self.cold_top_k = cold_top_k
        self.hot_confidence = hot_confidence
        self.namespace = "default"
        self._durable: DurableStore | None = None
        self._layout_read = False  # whether a saved layout placed the facts
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        where = "" if self._durable is None else f", path={self.path!r}"
        return (
            f"TieredMemory(encoder={self.encoder!r}, hot={self.num_hot}, cold={self.num_cold}, "
            f"max_hot={self.max_hot}, cold_tier={self.cold_tier!r}{where})"
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
    def num_steps(self) -> int | None:
        """Update steps per cue (1: one softmax; None: until converged)."""
        return self._hot.num_steps

    @property
    def repulsive(self) -> bool:
        """Whether negative patterns are in use."""
        return self._hot.repulsive

    @property
    def policy(self) -> GatePolicy:
        """The abstention thresholds, the same at every size."""
        return self._hot.policy

    @policy.setter
    def policy(self, policy: GatePolicy) -> None:
        if not isinstance(policy, GatePolicy):
            raise InvalidTypeError(f"policy must be a GatePolicy, got {type(policy).__name__}")
        with self._lock:
            if self._durable is not None:
                self._durable.set_policy(policy)  # commits, then calls _set_policy_local
            else:
                self._set_policy_local(policy)

    def _set_policy_local(self, policy: GatePolicy) -> None:
        self._hot.policy = policy

    @property
    def max_hot(self) -> int:
        """Most facts in the hot layer."""
        return self._tiers.max_hot

    @property
    def promote_after(self) -> float:
        """Use score at which a cold fact moves to the hot layer."""
        return self._tiers.promote_after

    @property
    def half_life(self) -> int:
        """Cues after which a use counts half."""
        return self._tiers.half_life

    @property
    def cold_tier(self) -> ColdTier:
        """The cold tier (read it; write through this memory)."""
        return self._tiers.cold

    @property
    def num_hot(self) -> int:
        """Facts in the hot layer."""
        return len(self._hot.fact_rows)

    @property
    def num_cold(self) -> int:
        """Facts in the cold tier."""
        return self._tiers.num_cold

    @property
    def num_facts(self) -> int:
        """Facts in both tiers."""
        return len(self)

    def __len__(self) -> int:
        with self._lock:
            self._sync()
            return len(self._tiers)

    def __contains__(self, fact_id: object) -> bool:
        with self._lock:
            self._sync()
            return fact_id in self._tiers

    def tier_of(self, fact_id: int) -> str:
        """``"hot"`` or ``"cold"``; raises :class:`UnknownIdError` for an unknown id."""
        with self._lock:
            self._sync()
            self._tiers.get(fact_id)
            return "cold" if self._tiers.in_cold(fact_id) else "hot"

    def get(self, fact_id: int) -> StoredFact:
        """The fact with ``fact_id`` from whichever tier holds it."""
        with self._lock:
            self._sync()
            return self._tiers.get(fact_id)

    def __iter__(self) -> Iterator[StoredFact]:
        """Every fact, hot and cold, in id order."""
        with self._lock:
            self._sync()
            facts = self._tiers.get_many(self._tiers.ids())
            return iter(facts.values())

    def all_facts(self) -> list[str]:
        """Texts of all stored facts, in id order."""
        return [fact.text for fact in self]

    # ---------------------------------------------------------------------------------- writes

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

    def recall_vectors(self, vectors: np.ndarray, top_k: int = 3) -> list[list[Recall]]:
        """The ``top_k`` best facts for cue vectors of shape (q, dim) or (dim,)."""
        return [list(r.candidates) for r in self.match_quality_vectors(vectors, top_k=top_k)]

    def _answer(
        self, cues: np.ndarray, top_k: int, min_similarity: float | None
    ) -> list[MatchReport]:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise InvalidInputError(f"top_k must be an int >= 1, got {top_k!r}")
        policy = policy_for_call(self.policy, min_similarity)
        hot, tiers = self._hot, self._tiers
        with self._lock:
            self._sync()
            q = len(cues)
            if len(tiers) == 0:
                return [MatchReport.empty(policy, sentinel=self.sentinel) for _ in range(q)]
            hot_patterns, hot_ids = hot.pattern_view()
            n_hot = len(hot_ids)
            hot_sims = kernel.similarities(hot_patterns, cues[0] if q == 1 else cues)
            hot_sims = hot_sims.reshape(q, n_hot)
            cand_ids, cand_sims = self._cold_candidates(cues, hot_ids, hot_sims, policy)
            sims = np.concatenate([hot_sims, cand_sims], axis=1)
            max_similarity = sims.max(axis=1)
            negatives = hot.negative_patterns()
            negative_similarity = (
                None if negatives is None else kernel.similarities(negatives, cues).max(axis=1)
            )
            states = cues
            if self.num_steps != 1:
                states, sims = self._relaxed(cues, hot_patterns, cand_ids)
            out = kernel.readout(sims, self.beta, max(top_k, 2), sentinel=self.sentinel)
            all_ids = np.concatenate([np.broadcast_to(hot_ids, (q, n_hot)), cand_ids], axis=1)
            picked = [
                [
                    (int(all_ids[i, j]), w, s)
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
            facts = tiers.get_many(list({i for row in picked for i, _, _ in row}))
            candidates = [
                [Recall(i, facts[i].text, w, s, facts[i].metadata) for i, w, s in row]
                for row in picked
            ]
            reports = build_reports(
                out,
                candidates,
                max_similarity,
                states,
                policy,
                beta=self.beta,
                sentinel=self.sentinel,
                negative_similarity=negative_similarity,
            )
            # Usage is recorded after every answer is final, so it never changes one.
            for report in reports:
                tiers.clock += 1
                if report.best is not None:
                    tiers.record_use(report.best.id)
            return reports

    def _cold_candidates(
        self, cues: np.ndarray, hot_ids: np.ndarray, hot_sims: np.ndarray, policy: GatePolicy
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cold candidate ids (q, k), -1 where none, and their exact similarities (q, k),
        -inf where none; k = min(cold_top_k, cold facts)."""
        q = len(cues)
        cold = self._tiers.cold
        k = min(self.cold_top_k, self._tiers.num_cold)
        cand_ids = np.full((q, k), -1, dtype=np.int64)
        cand_sims = np.full((q, k), -np.inf, dtype=np.float32)
        need = self._needs_cold(hot_sims, policy) if k else np.zeros(q, dtype=bool)
        if need.any():
            rows = np.flatnonzero(need)
            found = cold.search(cues[rows], k)
            if self._tiers.cold_holds_hot:  # the hot layer scores those already
                found[np.isin(found, hot_ids)] = -1
            valid = found >= 0
            cand_ids[rows] = np.where(valid, found, -1)
            if len(rows) == 1:  # one cue: its candidates are distinct already
                exact = kernel.similarities(cold.vectors(found[valid]), cues[rows[0]])
                cand_sims[rows[0], valid[0]] = exact
                return cand_ids, cand_sims
            unique, inverse = np.unique(found[valid], return_inverse=True)
            exact = kernel.similarities(cold.vectors(unique), cues[rows])
            exact = exact.reshape(len(rows), len(unique))
            which = np.zeros(found.shape, dtype=np.int64)
            which[valid] = inverse.reshape(-1)
            scored = np.take_along_axis(exact, which, axis=1)
            cand_sims[rows] = np.where(valid, scored, -np.inf)
        return cand_ids, cand_sims

    def _needs_cold(self, hot_sims: np.ndarray, policy: GatePolicy) -> np.ndarray:
        """Per cue: does the cold tier have to be searched (hot layer not confident)?"""
        q, n_hot = hot_sims.shape
        if self.hot_confidence is None or n_hot == 0:
            return np.ones(q, dtype=bool)
        max_sim = hot_sims.max(axis=1)
        close = max_sim >= self.hot_confidence
        if not close.any():  # the usual case: no hot fact is a near-duplicate of any cue
            return np.ones(q, dtype=bool)
        hot = kernel.readout(hot_sims.copy(), self.beta, 2, sentinel=self.sentinel)
        w = hot.weights
        gap = w[:, 0] - (w[:, 1] if w.shape[1] > 1 else 0.0)
        reasons = decide(policy, max_sim, gap, hot.sentinel_weight if self.sentinel else None)
        confident = np.array([r is None for r in reasons]) & close
        return ~confident

    def _relaxed(
        self, cues: np.ndarray, hot_patterns: np.ndarray, cand_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Multi-step answers: each cue (q, dim) relaxes over the hot facts plus its own cold
        candidates; returns the final states (q, dim) and their similarities (q, n_hot + k),
        -inf where a cue has no candidate."""
        hot = self._hot
        steps = hot.num_steps or hot.max_steps
        tol = hot.tol if hot.num_steps is None else 0.0
        n_hot = len(hot_patterns)
        states = np.empty_like(cues)
        sims = np.full((len(cues), n_hot + cand_ids.shape[1]), -np.inf, dtype=np.float32)
        for i, ids in enumerate(cand_ids):
            cols = np.flatnonzero(ids >= 0)
            patterns = np.concatenate([hot_patterns, self._tiers.cold.vectors(ids[cols])])
            states[i] = hot.relax(cues[i : i + 1], steps, tol, patterns=patterns).states[0]
            cue_sims = kernel.similarities(patterns, states[i])
            sims[i, :n_hot] = cue_sims[:n_hot]
            sims[i, n_hot + cols] = cue_sims[n_hot:]
        return states, sims

    def calibrate(
        self,
        examples: Sequence[tuple[str, int | str | None]] | None = None,
        *,
        target_precision: float | None = None,
        quantile: float = 0.9,
    ) -> GatePolicy:
        """Fit the gate to this memory, make it the policy in force, and return it; see
        :meth:`HopfieldMemory.calibrate`. Without ``examples`` it reads every stored vector,
        hot and cold (one float32 copy of them all)."""
        from .calibration import fit_policy

        def patterns() -> np.ndarray:
            with self._lock:
                self._sync()
                return self._tiers.all_vectors()

        policy = fit_policy(
            self, examples, patterns=patterns, target_precision=target_precision, quantile=quantile
        )
        self.policy = policy
        logger.info("gate calibrated: %s", policy)
        return policy

    # ----------------------------------------------------------------------------- persistence

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
    ) -> TieredMemory:
        """Open a tiered memory bound to the SQLite file at ``path``, as
        :meth:`HopfieldMemory.open` does: every write is committed before the call returns,
        reads pick up what other processes committed, ``namespace`` picks one memory of the file.

        Every fact, hot or cold, is a row of the file; moving between tiers writes nothing. On
        opening, facts are placed as the layout saved by the last :meth:`close` (or
        :meth:`save`) says, else the newest ``max_hot`` hot; the cold index is rebuilt from the
        stored vectors. ``**params`` are constructor keywords: the Hopfield ones (``beta``...)
        are stored with a new namespace and must match an existing one; the tier ones
        (``max_hot``, ``cold``...) apply to this handle.
        """
        from .durable import open_memory

        cold = params.get("cold")
        if isinstance(cold, SharedColdTier) or _is_database_url(cold):
            raise InvalidInputError(
                "a memory on a shared cold tier keeps its facts in that tier's database; build "
                "it with TieredMemory(cold=...) instead of opening a file"
            )
        memory = open_memory(
            cls,
            path,
            encoder=encoder,
            namespace=namespace,
            create=create,
            durability=durability,
            timeout=timeout,
            params=params,
        )
        if memory._durable is not None and not memory._layout_read:
            memory._durable.write_layout(memory._layout())  # other handles see the tier options
        return memory

    def close(self) -> None:
        """Record the tier layout in the durable file and release it; close the connection of a
        shared tier this memory opened from a connection string (no-op otherwise). Later calls
        on a durable memory raise :class:`~hopfield_memory.errors.MemoryClosedError`."""
        with self._lock:
            if self._durable is not None and not self._durable.closed:
                self._durable.write_layout(self._layout())
            super().close()
            if self._owns_cold and isinstance(self._tiers, SharedTiers):
                self._tiers.cold.close()

    def _sync(self) -> None:
        """Call with the lock held: take in what other handles committed (file or shared tier)."""
        if self._durable is not None:
            self._durable.refresh()
        self._tiers.sync()

    def save(self, path: PathLike) -> None:
        """Write both tiers to ``path`` atomically, as one snapshot in the memory file format.

        Every fact is a row (``HopfieldMemory.load`` reads the file as a flat memory); the tier
        layout and use scores are saved beside them, so :meth:`load` places the facts as they
        are now.
        """
        with self._lock:
            self._sync()
            refuse_own_file(path, self._durable)
            negatives = self._hot.negative_rows
            record = namespace_record(
                self,
                next_id=max(self._tiers.next_id, negatives.next_id),
                n_facts=len(self._tiers),
                n_negatives=len(negatives),
            )
            rows = self._tiers.rows()
            save_snapshot(path, record, rows, store_rows(negatives), layout=self._layout())

    @classmethod
    def load(
        cls,
        path: PathLike,
        encoder: Encoder | None = None,
        *,
        namespace: str | None = None,
        **options: Any,
    ) -> TieredMemory:
        """Read a memory file into RAM as a tiered memory (not bound to the file).

        ``path`` may be a file of :meth:`save` or :meth:`open`, or any flat memory file or 1.0
        JSON file that ``HopfieldMemory.load`` reads (its newest ``max_hot`` facts go hot).
        ``encoder`` and ``namespace`` as for :meth:`HopfieldMemory.load`; ``**options`` are the
        tier keywords (``max_hot``, ``cold``, ``cold_options``, ``cold_top_k``...) to use instead
        of the saved ones (a tier instance such as a database tier must be passed here again).
        """
        from .persistence import load_snapshot

        return load_snapshot(cls, path, encoder, namespace, options=options)

    @classmethod
    def _restore(
        cls,
        record: NamespaceRecord,
        encoder: Encoder,
        facts: PatternStore,
        negatives: PatternStore,
        *,
        layout: dict[str, Any] | None,
        options: dict[str, Any],
    ) -> TieredMemory:
        """A tiered memory from a file's namespace ``record``, rows and ``layout``; tier
        ``options`` given override the layout's."""
        source = f"namespace {record.name!r}"
        saved = {} if layout is None else dict(layout.get("options", {}))
        if "cold" in options:  # a tier given now replaces the saved one and its options
            saved.pop("cold_options", None)
        saved_cold = saved.pop("cold", None)
        if saved_cold is not None and "cold" not in options:
            saved["cold"], saved["cold_options"] = _cold_from_config(saved_cold, source)
        try:
            memory = cls(encoder, policy=record.policy, **record.parameters, **{**saved, **options})
        except TypeError as exc:
            raise PersistenceFormatError(
                f"{source} has parameters this version does not know: {exc}"
            ) from None
        memory.namespace = record.name
        fill_stores(memory._hot, memory._hot.fact_rows, negatives)  # negatives stay hot
        try:
            memory._tiers.fill(facts, layout, source)
        except BaseException:
            memory.close()
            raise
        memory._layout_read = layout is not None
        return memory

    @classmethod
    def _restore_legacy(
        cls, source: Path, encoder: Encoder | None, options: dict[str, Any]
    ) -> TieredMemory:
        """A tiered memory from a JSON file of mhn-ai-agent-memory 1.0."""
        from .persistence import load_legacy_json

        flat = load_legacy_json(HopfieldMemory, source, encoder)
        facts, negatives = flat.fact_rows, flat.negative_rows
        record = namespace_record(
            flat, next_id=facts.next_id, n_facts=len(facts), n_negatives=len(negatives)
        )
        return cls._restore(
            record, flat.encoder, flat.fact_rows, flat.negative_rows, layout=None, options=options
        )

    def _encode_facts(self, texts: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Encode checked texts with the shared encoder, in batches: float32 (n, dim)."""
        return encode_in_batches(self.encoder, texts, progress=progress)

    def require_repulsion(self, call: str) -> None:
        """Raise :class:`RepulsionDisabledError` naming ``call`` unless ``repulsive=True``."""
        self._hot.require_repulsion(call)

    def _row_sinks(self) -> tuple[FactRows, FactRows]:
        """Where the durable layer applies fact and negative changes."""
        return self._tiers, self._hot.negative_rows

    def parameters(self) -> dict[str, Any]:
        """The Hopfield constructor parameters as JSON-ready data (for the namespace record)."""
        return self._hot.parameters()

    def _layout(self) -> dict[str, Any]:
        """The tier layout plus the tier options, as saved in the file."""
        options: dict[str, Any] = {
            "max_hot": self.max_hot,
            "cold_top_k": self.cold_top_k,
            "hot_confidence": self.hot_confidence,
            "promote_after": self.promote_after,
            "half_life": self.half_life,
        }
        if not isinstance(self._tiers, SharedTiers):  # a file never reconnects to a database
            options["cold"] = self._tiers.cold.config()
        return {**self._tiers.layout(), "options": options}


def _is_database_url(cold: object) -> bool:
    """Whether ``cold`` names a PostgreSQL database (the shared pgvector tier)."""
    return isinstance(cold, str) and cold.startswith(("postgresql://", "postgres://"))


def _cold_from_config(config: Any, source: str) -> tuple[str, dict[str, Any]]:
    """The kind and constructor options of a saved cold tier ``config()``."""
    if not isinstance(config, dict) or not isinstance(config.get("kind"), str):
        raise PersistenceFormatError(f"{source} has a damaged cold tier config: {config!r}")
    options = {k: v for k, v in config.items() if k not in ("kind", "dim")}
    return config["kind"], options
