"""``HopfieldMemory``: store facts, answer cues with the Hopfield update, abstain when unsure.

The facade composes the layers below it: an encoder turns text into unit vectors, the
:class:`~hopfield_memory.store.PatternStore` keeps them as rows of one float32 matrix, the
:mod:`~hopfield_memory.kernel` answers a cue with one softmax (or several update steps), and the
:mod:`~hopfield_memory.gate` policy decides from that same softmax whether to answer at all.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from . import kernel
from .encoders.base import Encoder, as_unit_rows, check_texts
from .encoders.hashing import RandomIndexEncoder
from .errors import (
    DimensionMismatchError,
    InvalidInputError,
    InvalidTypeError,
    RepulsionDisabledError,
)
from .gate import GatePolicy, decide
from .progress import progress as progress_bar
from .reads import ReadCalls
from .results import Diagnosis, MatchReport, Recall, Recommendation
from .store import FactRows, Metadata, PatternStore, StoredFact
from .writes import WriteCalls, check_fact_texts, check_metadata

if TYPE_CHECKING:
    from .durable import DurableStore
    from .persistence import NamespaceRecord

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Cues = Sequence[str]

# Texts handed to the encoder at once by store_many and reencode (progress advances per batch).
ENCODE_BATCH = 4096


class HopfieldMemory(ReadCalls, WriteCalls):
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
        Encoded cues kept in an LRU cache (by text, emptied when the encoder changes), so a
        repeated cue is not encoded again (default 1024; 0 disables it).
    repulsive : bool
        Allow negative patterns (:meth:`store_negative`), default False. Negatives make a cue
        that lands on them abstain (``AbstainReason.NEGATIVE_MATCH``), and multi-step answers
        (``num_steps != 1``) use the repulsive update
        ``xi_new = clamp(X^T softmax(beta X xi) - neg_strength * Y^T softmax(beta_neg Y xi))``.
    beta_neg : float
        Inverse temperature of the repulsive softmax over the negatives (default 6).
    neg_strength : float
        Weight of the repulsive term (default 0.1). The seed design's update is
        ``neg_strength=1``; ``benchmarks/bench_repulsive.py`` measured it to destroy retrieval in
        most regimes (the repulsive softmax always has mass 1, so a negative pushes as hard as a
        whole fact however far away it is), while 0.1 never lowered accuracy there.
    clamp_radius : float or None
        The repulsive update scales states back to at most this L2 norm (default 1.5); None
        disables the clamp.

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
        repulsive: bool = False,
        beta_neg: float = 6.0,
        clamp_radius: float | None = 1.5,
        neg_strength: float = 0.1,
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
        if not isinstance(repulsive, (bool, np.bool_)):
            raise InvalidTypeError(f"repulsive must be a bool, got {type(repulsive).__name__}")
        _check_positive_number("beta_neg", beta_neg)
        _check_positive_number("neg_strength", neg_strength)
        if clamp_radius is not None:
            _check_positive_number("clamp_radius", clamp_radius)
        self.encoder = encoder
        self.beta = float(beta)
        self.sentinel = bool(sentinel)
        self.num_steps = num_steps
        self.max_steps = max_steps
        self.tol = float(tol)
        self.repulsive = bool(repulsive)
        self.beta_neg = float(beta_neg)
        self.neg_strength = float(neg_strength)
        self.clamp_radius = None if clamp_radius is None else float(clamp_radius)
        self._policy = policy if policy is not None else encoder.default_policy
        self._store = PatternStore(encoder.dim)
        self._negatives = PatternStore(encoder.dim)
        self._lock = threading.RLock()
        self.cue_cache_size = cue_cache_size
        # cue text -> vector; emptied whenever the encoder changes, so in effect keyed by text and
        # encoder fingerprint without hashing the fingerprint on every query
        self._cue_cache: OrderedDict[str, np.ndarray] = OrderedDict()
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
            f"beta={self.beta}, sentinel={self.sentinel}, num_steps={self.num_steps}, "
            f"repulsive={self.repulsive}, negatives={len(self._negatives)}{where})"
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

    @property
    def fact_rows(self) -> PatternStore:
        """The rows of the stored facts (vectors, ids, texts, metadata), for layers built on
        this memory (:class:`~hopfield_memory.tiered.TieredMemory` keeps its hot facts here).
        Read it freely; a change made here skips validation and the durable file."""
        return self._store

    @property
    def negative_rows(self) -> PatternStore:
        """The rows of the negative patterns, as :attr:`fact_rows` is for the facts."""
        return self._negatives

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
        return self._encode_facts(check_fact_texts(texts), progress=progress)

    def encode_cues(self, cues: Cues) -> np.ndarray:
        """Validate cues and encode them through the LRU cue cache: float32 (q, dim)."""
        return self._encode_cues(_check_cues(cues))

    def _store_exact(
        self, vectors: np.ndarray, texts: Sequence[str], metadata: Sequence[Metadata | None]
    ) -> list[int]:
        """Store rows bit for bit (unit rows from an export of this encoder): no re-scaling."""
        items = check_fact_texts(texts)
        metas = check_metadata(metadata, len(items))
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if rows.shape != (len(items), self.dim):
            raise InvalidInputError(f"vectors must have shape ({len(items)}, {self.dim})")
        norms = np.linalg.norm(rows, axis=1)
        if not np.isfinite(rows).all() or not np.all((np.abs(norms - 1) < 1e-3) | (norms == 0)):
            raise InvalidInputError("vectors must be finite unit (or zero) rows")
        return self._insert(rows, items, metas)

    def reencode(self, encoder: Encoder, *, progress: bool | None = None) -> None:
        """Switch to ``encoder``: every stored text is encoded again, in batches.

        The policy becomes ``encoder.default_policy`` (similarity scales differ between
        encoders; call :meth:`calibrate` afterwards to fit it). Ids and metadata are kept. If
        encoding fails, the memory is left as it was.
        """
        if not isinstance(encoder, Encoder):
            raise InvalidTypeError(f"encoder must follow the Encoder protocol, got {encoder!r}")
        if self._durable is not None:
            raise InvalidInputError(
                "reencode() changes an in-RAM memory; a durable namespace keeps the encoder it "
                "was created with. Move it instead: export_jsonl(path), then import_jsonl(path) "
                "into a namespace opened with the new encoder."
            )
        with self._lock:
            facts = reencoded(self._store, encoder, progress)
            negatives = reencoded(self._negatives, encoder, progress)
            self.encoder, self._store, self._negatives = encoder, facts, negatives
            self._policy = encoder.default_policy
            self._cue_cache.clear()

    def _encode_facts(self, texts: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Encode checked texts with this memory's encoder (see :func:`encode_in_batches`)."""
        return encode_in_batches(self.encoder, texts, progress=progress)

    def _store_texts(
        self, texts: list[str], metas: list[Metadata], progress: bool | None
    ) -> list[int]:
        """The built-in encoder of an in-RAM memory writes straight into the pattern matrix
        (under the lock: it is fast); others encode first, then commit."""
        if self._durable is not None or type(self.encoder) is not RandomIndexEncoder:
            return super()._store_texts(texts, metas, progress)

        def encode(rows: np.ndarray) -> None:
            encode_in_batches(self.encoder, texts, progress=progress, out=rows)

        with self._lock:
            return self._store.append_encoded(encode, texts, metas)

    def _encode_cues(self, cues: list[str]) -> np.ndarray:
        """Encode cues through the LRU cache: float32 (q, dim)."""
        if self.cue_cache_size == 0:
            return self._encode_facts(cues)
        cache = self._cue_cache
        out = np.empty((len(cues), self.encoder.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, cue in enumerate(cues):
            hit = cache.get(cue)
            if hit is None:
                missing.setdefault(cue, []).append(i)
            else:
                cache.move_to_end(cue)
                out[i] = hit
        if missing:
            fresh = self._encode_facts(list(missing))
            for vector, (cue, rows) in zip(fresh, missing.items(), strict=True):
                out[rows] = vector
                cache[cue] = vector
            while len(cache) > self.cue_cache_size:
                cache.popitem(last=False)
        return out

    # ------------------------------------------------------------------------------- negatives

    def require_repulsion(self, call: str) -> None:
        """Raise :class:`RepulsionDisabledError` naming ``call`` unless ``repulsive=True``."""
        if not self.repulsive:
            raise RepulsionDisabledError(
                f"{call}() needs negative patterns, which this memory does not use: it was built "
                "with repulsive=False. Build it with HopfieldMemory(..., repulsive=True)."
            )

    def negative_patterns(self) -> np.ndarray | None:
        """The negatives (m, dim) when repulsion is on and any are declared, else None."""
        if not self.repulsive or len(self._negatives) == 0:
            return None
        return self._negatives.patterns

    def relax(
        self,
        cues: np.ndarray,
        max_steps: int,
        tol: float,
        *,
        negatives: bool = True,
        patterns: np.ndarray | None = None,
    ) -> kernel.Relaxation:
        """kernel.relax with this memory's configuration (the repulsive update when on), over
        ``patterns`` (default: every stored fact)."""
        return kernel.relax(
            self._store.patterns if patterns is None else patterns,
            cues,
            self.beta,
            max_steps=max_steps,
            tol=tol,
            sentinel=self.sentinel,
            negatives=self.negative_patterns() if negatives else None,
            beta_neg=self.beta_neg,
            clamp_radius=self.clamp_radius if (self.repulsive and negatives) else None,
            neg_strength=self.neg_strength,
        )

    # ----------------------------------------------------------------------------------- reads

    def match_quality_many(
        self,
        cues: Cues,
        *,
        top_k: int = 3,
        min_similarity: float | None = None,
        exclude: Collection[int] = (),
    ) -> list[MatchReport]:
        """:meth:`match_quality` for a batch of cues, with one matrix product for all."""
        items = _check_cues(cues)
        if not items:
            return []
        return self._answer(self._encode_cues(items), top_k, min_similarity, exclude)

    def match_quality(
        self,
        cue: str,
        *,
        top_k: int = 3,
        min_similarity: float | None = None,
        exclude: Collection[int] = (),
    ) -> MatchReport:
        """How well ``cue`` matches, from one softmax: the three signals, the decision, the
        reason for abstaining (if any) and the ``top_k`` best candidates.

        ``min_similarity`` overrides the policy's threshold for this call only. ``exclude``
        names fact ids to leave out of this answer entirely (as if not stored), e.g. facts a
        multi-hop chain has already used; it costs one copy of the remaining patterns.
        """
        return self.match_quality_many(
            [cue], top_k=top_k, min_similarity=min_similarity, exclude=exclude
        )[0]

    def match_quality_vectors(self, vectors: np.ndarray, *, top_k: int = 3) -> list[MatchReport]:
        """:meth:`match_quality` for cue vectors of shape (q, dim) or (dim,)."""
        return self._answer(as_unit_rows(np.atleast_2d(vectors), dim=self.dim), top_k, None)

    def recall_vectors(self, vectors: np.ndarray, top_k: int = 3) -> list[list[Recall]]:
        """The ``top_k`` best facts for cue vectors of shape (q, dim) or (dim,)."""
        return [list(r.candidates) for r in self.match_quality_vectors(vectors, top_k=top_k)]

    def _answer(
        self,
        cues: np.ndarray,
        top_k: int,
        min_similarity: float | None,
        exclude: Collection[int] = (),
    ) -> list[MatchReport]:
        """One readout for cue vectors (q, dim): candidates, signals and decisions."""
        _check_positive_int("top_k", top_k)
        policy = policy_for_call(self._policy, min_similarity)
        with self._lock:
            self._sync()
            patterns, rows = self._store.patterns, None
            if exclude:
                keep = np.ones(len(patterns), dtype=bool)
                keep[[self._store.row(fact_id) for fact_id in exclude]] = False
                patterns, rows = patterns[keep], np.flatnonzero(keep)
            if len(patterns) == 0:
                return [MatchReport.empty(policy, sentinel=self.sentinel) for _ in range(len(cues))]
            sims = kernel.similarities(patterns, cues[0] if len(cues) == 1 else cues)
            sims = sims.reshape(len(cues), -1)
            # one step: the readout's best similarity is the maximum; no extra pass over sims
            max_similarity = None if self.num_steps == 1 else sims.max(axis=1)
            negatives = self.negative_patterns()
            negative_similarity = (
                None if negatives is None else kernel.similarities(negatives, cues).max(axis=1)
            )
            states = cues
            if self.num_steps != 1:
                relaxed = self.relax(
                    cues,
                    self.num_steps or self.max_steps,
                    self.tol if self.num_steps is None else 0.0,
                    patterns=patterns,
                )
                states = relaxed.states
                sims = kernel.similarities(patterns, states)
            out = kernel.readout(sims, self.beta, max(top_k, 2), sentinel=self.sentinel)
            if max_similarity is None:
                max_similarity = out.similarities[:, 0]
            indices = out.indices if rows is None else rows[out.indices]
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
                    indices.tolist(),
                    out.weights.tolist(),
                    out.similarities.tolist(),
                    strict=True,
                )
            ]
        return build_reports(
            out,
            candidates,
            max_similarity,
            states,
            policy,
            beta=self.beta,
            sentinel=self.sentinel,
            negative_similarity=negative_similarity,
        )

    # ------------------------------------------------------------------------------- diagnosis

    def diagnose(
        self, cue: str, *, max_steps: int | None = None, tol: float | None = None, top_k: int = 3
    ) -> Diagnosis:
        """How the update dynamics behave for ``cue``: steps to converge, converged or not, the
        energy trajectory and its terms, the final weights' top entries, and a
        :class:`Recommendation` an agent can act on.

        The numbers are those of :func:`hopfield_memory.kernel.relax` run from the encoded cue
        with this memory's beta, sentinel and (when ``repulsive=True``) negatives, ``beta_neg``
        and ``clamp_radius``; ``max_steps`` and ``tol`` default to the memory's own.
        """
        return self.diagnose_many([cue], max_steps=max_steps, tol=tol, top_k=top_k)[0]

    def diagnose_many(
        self,
        cues: Cues,
        *,
        max_steps: int | None = None,
        tol: float | None = None,
        top_k: int = 3,
    ) -> list[Diagnosis]:
        """:meth:`diagnose` for a batch of cues, relaxed together (one matrix product a step)."""
        items = _check_cues(cues)
        if not items:
            return []
        return self._diagnose(self._encode_cues(items), max_steps, tol, top_k)

    def diagnose_vectors(
        self,
        vectors: np.ndarray,
        *,
        max_steps: int | None = None,
        tol: float | None = None,
        top_k: int = 3,
    ) -> list[Diagnosis]:
        """:meth:`diagnose` for cue vectors of shape (q, dim) or (dim,); rows are scaled to unit
        norm."""
        cues = as_unit_rows(np.atleast_2d(vectors), dim=self.dim)
        return self._diagnose(cues, max_steps, tol, top_k)

    def _diagnose(
        self, cues: np.ndarray, max_steps: int | None, tol: float | None, top_k: int
    ) -> list[Diagnosis]:
        """Diagnoses for encoded cues (q, dim), unit rows (or zeros for empty text)."""
        steps_cap = self.max_steps if max_steps is None else max_steps
        _check_positive_int("max_steps", steps_cap)
        tolerance = self.tol if tol is None else tol
        if _check_number("tol", tolerance) < 0:
            raise InvalidInputError(f"tol must be >= 0, got {tolerance!r}")
        _check_positive_int("top_k", top_k)
        with self._lock:
            self._sync()
            if len(self._store) == 0:
                return [_empty_diagnosis() for _ in range(len(cues))]
            relaxed = self.relax(cues, steps_cap, float(tolerance))
            negatives = self.negative_patterns()
            repulsive = negatives is not None
            baseline = (
                self.relax(cues, steps_cap, float(tolerance), negatives=False)
                if repulsive
                else relaxed
            )
            cue_sims = kernel.similarities(self._store.patterns, cues)
            negative_similarity = (
                None if negatives is None else kernel.similarities(negatives, cues).max(axis=1)
            )
            k = min(top_k, len(self._store))
            order = np.argsort(-relaxed.weights, axis=1, kind="stable")[:, :k]
            baseline_best = baseline.weights.argmax(axis=1)
            out = []
            for i in range(len(cues)):
                top = tuple(
                    Recall(
                        id=int(self._store.ids[row]),
                        text=self._store.text_at(row),
                        weight=float(relaxed.weights[i, row]),
                        similarity=float(cue_sims[i, row]),
                        metadata=self._store.metadata_at(row),
                    )
                    for row in order[i].tolist()
                )
                # trajectory up to (and including) the step at which this cue settled
                length = int(relaxed.steps[i]) + 1
                energies = relaxed.energies[:length, i].astype(np.float64)
                rises = np.diff(energies) > 1e-5 * (1.0 + np.abs(energies[:-1]))
                terms = relaxed.terms
                out.append(
                    _diagnosis(
                        steps=int(relaxed.steps[i]),
                        converged=bool(relaxed.converged[i]),
                        final_confidence=float(relaxed.weights[i].max()),
                        repulsive=repulsive,
                        energies=tuple(energies.tolist()),
                        attractive_energy=tuple(terms.attractive[:length, i].tolist()),
                        repulsive_energy=tuple(terms.repulsive[:length, i].tolist()),
                        quadratic_energy=tuple(terms.quadratic[:length, i].tolist()),
                        energy_rises=int(rises.sum()),
                        top=top,
                        baseline_steps=int(baseline.steps[i]),
                        baseline_converged=bool(baseline.converged[i]),
                        baseline_top_id=int(self._store.ids[baseline_best[i]]),
                        max_similarity=float(cue_sims[i].max()),
                        negative_similarity=(
                            None if negative_similarity is None else float(negative_similarity[i])
                        ),
                        memory_repulsive=self.repulsive,
                        max_steps=steps_cap,
                    )
                )
            return out

    # ----------------------------------------------------------------------------- calibration

    def calibrate(
        self,
        examples: Sequence[tuple[str, int | str | None]] | None = None,
        *,
        target_precision: float | None = None,
        quantile: float = 0.9,
    ) -> GatePolicy:
        """Fit the gate to this memory, make it the policy in force, and return it.

        Without ``examples``: from the stored facts alone (each fact's similarity to its nearest
        other fact; see :func:`~hopfield_memory.calibration.calibrate_from_patterns`). With
        ``examples``, a sequence of ``(cue, expected)`` where ``expected`` is the id or text of
        the fact that should answer the cue, or None when nothing should: thresholds that reach
        ``target_precision`` with the most right answers, or the best joint accuracy when no
        target is given (:func:`~hopfield_memory.calibration.calibrate_from_examples`).
        The fitted policy is saved with the memory.
        """
        from .calibration import fit_policy

        def patterns() -> np.ndarray:
            with self._lock:
                return self._store.patterns.copy()

        policy = fit_policy(
            self,
            examples,
            patterns=patterns,
            target_precision=target_precision,
            quantile=quantile,
        )
        self.policy = policy
        logger.info("gate calibrated: %s", policy)
        return policy

    # ----------------------------------------------------------------------------- persistence

    def save(self, path: PathLike) -> None:
        """Write a snapshot of the memory to ``path`` atomically (see :mod:`.persistence`).

        The snapshot is a compacted file in the durable format holding this memory's namespace:
        :meth:`load` reads it into RAM, :meth:`open` binds to it.
        """
        from .persistence import namespace_record, save_snapshot, store_rows

        with self._lock:
            self._sync()
            refuse_own_file(path, self._durable)
            store, negatives = self._store, self._negatives
            record = namespace_record(
                self,
                next_id=max(store.next_id, negatives.next_id),
                n_facts=len(store),
                n_negatives=len(negatives),
            )
            save_snapshot(path, record, store_rows(store), store_rows(negatives))

    @classmethod
    def load(
        cls,
        path: PathLike,
        encoder: Encoder | None = None,
        *,
        namespace: str | None = None,
        reencode: bool = False,
        progress: bool | None = None,
    ) -> HopfieldMemory:
        """Read a memory file into RAM (the result is not bound to the file).

        ``path`` may be a snapshot written by :meth:`save`, a durable file of :meth:`open` (read
        as it is now) or a JSON file written by mhn-ai-agent-memory 1.0 (imported: see
        :func:`~hopfield_memory.persistence.load_legacy_json` for what carries over).
        ``encoder`` must have the fingerprint the memory was saved with; when omitted, the
        saved encoder is rebuilt if it is the built-in hashing encoder. With ``reencode=True``
        an ``encoder`` of another fingerprint is accepted (and, without one, a file of an older
        version of the built-in encoder): every stored text is encoded again (in batches,
        ``progress`` as in :meth:`store_many`) and the policy becomes the new encoder's default
        (call :meth:`calibrate` next). ``namespace`` picks one memory of a file with several
        (default: "default", or the only one).
        """
        from .persistence import load_snapshot

        return load_snapshot(cls, path, encoder, namespace, reencode=reencode, progress=progress)

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
    ) -> HopfieldMemory:
        """A memory from a file's namespace ``record`` and rows (``layout`` only matters to
        tiers); ``options`` are constructor keywords the file does not hold."""
        from .persistence import build_memory, fill_stores

        memory = build_memory(cls, record, encoder, options)
        fill_stores(memory, facts, negatives)
        return memory

    @classmethod
    def _restore_legacy(
        cls, source: Path, encoder: Encoder | None, options: dict[str, Any]
    ) -> HopfieldMemory:
        """A memory from a JSON file of mhn-ai-agent-memory 1.0 (no ``options`` apply)."""
        from .persistence import load_legacy_json

        return load_legacy_json(cls, source, encoder)

    def _row_sinks(self) -> tuple[FactRows, FactRows]:
        """Where the durable layer applies fact and negative changes."""
        return self._store, self._negatives

    def export_jsonl(self, path: PathLike | TextIO, *, vectors: bool = False) -> int:
        """Write facts (text, metadata, and vectors if asked) as JSON Lines; returns the count.

        ``path`` is a file path (written atomically) or an open text stream such as
        ``sys.stdout`` (written as is). See :func:`~hopfield_memory.persistence.export_jsonl`.
        """
        from .persistence import export_jsonl, write_jsonl

        with self._lock:
            self._sync()
            if isinstance(path, (str, os.PathLike)):
                return export_jsonl(self, path, vectors=vectors)
            return write_jsonl(self, path, vectors=vectors)

    def import_jsonl(
        self, path: PathLike, *, use_vectors: bool | None = None, progress: bool | None = None
    ) -> list[int]:
        """Store the facts of a JSON Lines export; returns their new ids.

        Vectors in the file are reused only when its encoder fingerprint matches (or
        ``use_vectors=True``); otherwise the texts are encoded again. ``progress`` shows a bar
        (None: for 10,000+ facts when stderr is a terminal).
        See :func:`~hopfield_memory.persistence.import_jsonl`.
        """
        from .persistence import import_jsonl

        return import_jsonl(self, path, use_vectors=use_vectors, progress=progress)

    def parameters(self) -> dict[str, Any]:
        """Constructor parameters as JSON-ready data (for snapshots)."""
        return {
            "beta": self.beta,
            "sentinel": self.sentinel,
            "num_steps": self.num_steps,
            "max_steps": self.max_steps,
            "tol": self.tol,
            "repulsive": self.repulsive,
            "beta_neg": self.beta_neg,
            "clamp_radius": self.clamp_radius,
            "neg_strength": self.neg_strength,
        }


# --------------------------------------------------------------------------------- helpers


def policy_for_call(policy: GatePolicy, min_similarity: float | None) -> GatePolicy:
    """``policy`` with ``min_similarity`` overridden for one call (unchanged when None)."""
    if min_similarity is None:
        return policy
    _check_number("min_similarity", min_similarity)
    return dataclasses.replace(
        policy, min_similarity=min_similarity, source=policy.source + "+override"
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
    negative_similarity: np.ndarray | None = None,
) -> list[MatchReport]:
    """The gate's decision and report for every cue of one readout.

    out : the readout of one softmax for q cues (at least two candidates per cue when there are).
    candidates : per cue, the facts of ``out`` to report, best first.
    max_similarity : (q,) the largest raw cosine per cue; states : (q, dim) final state patterns.
    negative_similarity : (q,) the largest cosine to a declared negative, or None.
    Shared by :class:`HopfieldMemory` and :class:`~hopfield_memory.tiered.TieredMemory`, so that
    both gate the same signals in the same way.
    """
    weights = out.weights
    gap = weights[:, 0] - (weights[:, 1] if weights.shape[1] > 1 else 0.0)
    sentinel_weight = out.sentinel_weight if sentinel else None
    reasons = decide(policy, max_similarity, gap, sentinel_weight, negative_similarity)
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
            negative_similarity=(
                None if negative_similarity is None else float(negative_similarity[i])
            ),
        )
        for i in range(len(candidates))
    ]


def encode_in_batches(
    encoder: Encoder,
    texts: list[str],
    *,
    progress: bool | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Encode validated texts in batches of ``ENCODE_BATCH`` (a bar when ``progress``):
    float32 (n, dim), checked before use, written into ``out`` when given."""
    n = len(texts)
    if n <= ENCODE_BATCH:
        if out is None:
            vectors = encoder.encode_batch(texts) if n else np.empty((0, encoder.dim), np.float32)
            return _checked(encoder, vectors, n)
        _encode_into(encoder, texts, out)
        return out
    if out is None:
        out = np.empty((n, encoder.dim), dtype=np.float32)
    with progress_bar(n, "encoding", progress) as advance:
        for start in range(0, n, ENCODE_BATCH):
            chunk = texts[start : start + ENCODE_BATCH]
            _encode_into(encoder, chunk, out[start : start + len(chunk)])
            advance(len(chunk))
    return out


def _encode_into(encoder: Encoder, texts: list[str], rows: np.ndarray) -> None:
    """Encode texts into ``rows`` (n, dim): the built-in encoder writes there directly."""
    if type(encoder) is RandomIndexEncoder:
        encoder.encode_into(texts, rows)
    else:
        rows[...] = _checked(encoder, encoder.encode_batch(texts), len(texts))


def reencoded(store: PatternStore, encoder: Encoder, progress: bool | None) -> PatternStore:
    """A copy of ``store`` (same ids, texts, metadata, id counter) with every text encoded by
    ``encoder``."""
    facts = list(store)
    vectors = encode_in_batches(encoder, [f.text for f in facts], progress=progress)
    fresh = PatternStore(encoder.dim, capacity=len(facts))
    fresh.append(
        vectors, [f.text for f in facts], [f.metadata for f in facts], ids=[f.id for f in facts]
    )
    fresh.next_id = store.next_id
    return fresh


def _checked(encoder: Encoder, vectors: np.ndarray, n: int) -> np.ndarray:
    """An encoder's output as float32 (n, dim), or a clear error if it broke its contract."""
    dim = encoder.dim
    if vectors.shape != (n, dim):
        raise DimensionMismatchError(
            f"encoder {encoder!r} returned shape {vectors.shape}, expected {(n, dim)}"
        )
    if vectors.dtype != np.float32:
        vectors = vectors.astype(np.float32)
    if type(encoder) is RandomIndexEncoder:  # sums of finite weights, scaled: always finite
        return vectors
    # one reduction; the sum of unit rows is finite unless an entry is NaN or infinite
    if not math.isfinite(vectors.sum()) and not np.isfinite(vectors).all():
        raise InvalidInputError(f"encoder {encoder!r} returned NaN or infinity")
    return vectors


# ---------------------------------------------------------------------------------- diagnosis

# A state that needs more steps than this is "slow" for the recommendation. Plain retrieval of a
# well-separated fact settles in 2-3 steps at the default beta (see benchmarks/bench_repulsive.py).
_SLOW_STEPS = 5
# Below this final weight the state is a mixture of facts (a metastable state), not one fact.
_CONFIDENT = 0.9


def _diagnosis(*, memory_repulsive: bool, max_steps: int, **fields: Any) -> Diagnosis:
    """Fill in the recommendation from the measured numbers."""
    steps, converged = fields["steps"], fields["converged"]
    confidence, top = fields["final_confidence"], fields["top"]
    base_steps = fields["baseline_steps"]
    runner_up = top[1].text if len(top) > 1 else None
    numbers = f"steps={steps}/{max_steps}, converged={converged}, top weight={confidence:.3f}"
    slow = (not converged) or steps > _SLOW_STEPS
    mixed = confidence < _CONFIDENT
    if fields["repulsive"]:
        changed = fields["baseline_top_id"] != top[0].id
        versus = f"{steps} steps with negatives vs {base_steps} without"
        if not converged and fields["baseline_converged"]:
            rec = Recommendation.DISABLE_REPULSION
            advice = f"repulsion keeps the state from settling ({versus}); {numbers}"
        elif steps < base_steps or changed:
            rec = Recommendation.KEEP_REPULSION
            what = "changes the winner" if changed else "converges faster"
            advice = f"repulsion {what} for this cue ({versus}); {numbers}"
        elif steps > base_steps:
            rec = Recommendation.DISABLE_REPULSION
            advice = f"repulsion costs steps and changes nothing here ({versus}); {numbers}"
        else:
            rec = Recommendation.NONE
            advice = f"repulsion neither helps nor hurts here ({versus}); {numbers}"
        return Diagnosis(recommendation=rec, advice=advice, **fields)
    if not slow and not mixed:
        return Diagnosis(
            recommendation=Recommendation.NONE,
            advice=f"the cue settles quickly on one fact; {numbers}",
            **fields,
        )
    if not converged and not mixed:
        return Diagnosis(
            recommendation=Recommendation.RAISE_MAX_STEPS,
            advice=f"the state is still moving toward one fact; raise max_steps; {numbers}",
            **fields,
        )
    # Measured (benchmarks/bench_repulsive.py): repulsion helped only when the negative sits next
    # to the *wrong* fact, and then that fact can no longer be retrieved; negatives at the
    # confusion point itself never helped. Say both, and offer the one-step answer.
    target = f" next to {runner_up!r}" if runner_up else ""
    cost = "; that fact then stops answering its own cues. Or answer with num_steps=1"
    if memory_repulsive:
        rec = Recommendation.STORE_NEGATIVE
        advice = (
            f"the state is slow or split between facts; if the runner-up is never the answer, "
            f"store_negative a text{target}{cost}"
        )
    else:
        rec = Recommendation.ENABLE_REPULSION
        advice = (
            "the state is slow or split between facts; if the runner-up is never the answer, "
            f"build the memory with repulsive=True and store_negative a text{target}{cost}"
        )
    return Diagnosis(recommendation=rec, advice=f"{advice}; {numbers}", **fields)


def _empty_diagnosis() -> Diagnosis:
    return Diagnosis(
        steps=0,
        converged=False,
        final_confidence=0.0,
        repulsive=False,
        recommendation=Recommendation.STORE_FACTS,
        advice="the memory holds no facts; store some before diagnosing cues",
        energies=(),
        attractive_energy=(),
        repulsive_energy=(),
        quadratic_energy=(),
        energy_rises=0,
        top=(),
        baseline_steps=0,
        baseline_converged=False,
        baseline_top_id=None,
        max_similarity=0.0,
        negative_similarity=None,
    )


# --------------------------------------------------------------------------------- validation


def refuse_own_file(path: PathLike, durable: DurableStore | None) -> None:
    """Refuse to write a snapshot over the durable file a memory is bound to."""
    if durable is not None and _same_file(path, durable.path):
        raise InvalidInputError(
            f"{str(path)!r} is the durable file this memory is bound to; it is always "
            f"up to date. Save the snapshot to another path."
        )


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


def _check_cues(cues: Cues) -> list[str]:
    items = check_texts(cues, what="cues")
    for i, text in enumerate(items):
        if not text.strip():
            raise InvalidInputError(f"cues[{i}] is empty or whitespace; a cue needs text")
    return items
