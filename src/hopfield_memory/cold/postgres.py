"""A cold tier in PostgreSQL + pgvector (``pip install 'mhn-ai-agent-memory[postgres]'``).

Many memories, processes and machines share one database; each memory is a *namespace* in it.
Tables (``table`` is a name prefix, default ``hopfield_facts``):

* ``{table}_{dim}``: one row per fact, ``(namespace, id, vec vector(dim), text, meta jsonb)``,
  primary key ``(namespace, id)``, and one HNSW index on ``vec vector_ip_ops`` shared by every
  namespace. pgvector fixes a column's dimension, and an HNSW index needs it, so each dim gets
  its own table; memories of different dims in one database simply use different tables.
* ``{table}_namespaces``: one row per namespace: its dim, its fact count (``len`` reads one row)
  and its version ``seq``.
* ``{table}_changes``: the change feed, one row per write: ``(namespace, seq, added, removed)``.
* ``{table}_ids``: the sequence that allocates ids in :meth:`PgVectorColdTier.insert`, so
  processes that insert at the same time never collide.

Searching one namespace is ``WHERE namespace = ... ORDER BY vec <#> cue LIMIT k`` on the shared
HNSW index. A filter applied after the graph walk can leave fewer than k rows; pgvector >= 0.8's
iterative scan (``hnsw.iterative_scan = strict_order``) keeps walking until k rows pass. Should a
search still come back short (a tiny namespace beside huge ones, older pgvector), it is repeated
exactly, without the index.

Change feed: every write transaction locks its namespace's row, raises ``seq`` by one and logs its
ids under that ``seq``. Writers of one namespace therefore commit in ``seq`` order, so a reader
that has seen ``seq`` s misses nothing when it asks for the changes after s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import (
    ColdTierUnavailableError,
    DimensionMismatchError,
    InvalidInputError,
    InvalidTypeError,
    UnknownIdError,
    missing_extra,
)
from .table import check_add, check_queries

_TABLE_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,39}")
_MAX_DIM = 2000  # pgvector's HNSW limit for the vector type
_DEFAULT_CONNECT_TIMEOUT = "10"  # seconds; libpq waits for the OS (minutes) without it


def import_psycopg() -> tuple[Any, Any]:
    """The psycopg module and pgvector's ``register_vector``, or :class:`MissingExtraError`."""
    try:
        import psycopg
        import psycopg.conninfo
        import psycopg.sql
        import psycopg.types.json
        from pgvector.psycopg import register_vector
    except ImportError:
        raise missing_extra("psycopg or pgvector", "postgres") from None
    return psycopg, register_vector


def redact_dsn(dsn: str) -> str:
    """``dsn`` in ``key=value`` form without its password, for messages and configs."""
    return _parse_dsn(dsn)[1]


def _parse_dsn(dsn: str) -> tuple[dict[str, str], str]:
    psycopg, _ = import_psycopg()
    if not isinstance(dsn, str):
        raise InvalidTypeError(f"dsn must be a connection string, got {type(dsn).__name__}")
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        # libpq's message may quote the password; do not repeat it
        raise InvalidInputError(
            "the connection string cannot be parsed; expected 'postgresql://user@host:port/db' "
            "or 'host=... port=... dbname=...'"
        ) from None
    safe = {k: v for k, v in params.items() if k != "password"}
    return params, psycopg.conninfo.make_conninfo(**safe)


class PgVectorColdTier:
    """Facts in a shared PostgreSQL table, candidates chosen by pgvector's HNSW index.

    Unlike the in-process tiers this one is a *system of record*: several memories (processes,
    machines) may open the same ``namespace`` and see each other's facts. Besides the
    :class:`~hopfield_memory.cold.ColdTier` protocol (caller-chosen ids) it offers
    :meth:`insert` (database-allocated ids, with text and metadata), :meth:`facts`,
    :meth:`update` and a change feed, :meth:`changes_since`. Vectors are stored as pgvector's
    float32 ``vector`` and read back bit for bit.

    The constructor connects, and creates the extension, tables and index when missing; the
    HNSW parameters ``hnsw_m`` and ``ef_construction`` only take effect when it creates the index.

    Parameters
    ----------
    dsn : str
        libpq connection string (``postgresql://user@host:port/db`` or ``key=value`` form). The
        password never appears in messages or :meth:`config`; give it in the string, or by
        ``PGPASSWORD`` / ``~/.pgpass``.
    dim : int
        Length of every vector (at most 2000, pgvector's HNSW limit).
    namespace : str
        The memory inside the shared tables; other namespaces are invisible to this tier.
    table : str
        Prefix of the tables' names (lower-case letters, digits, ``_``).
    hnsw_m : int
        Graph degree of the HNSW index (pgvector's ``m``).
    ef_construction : int
        Candidate list size while building the index (at least ``2 * hnsw_m``).
    ef_search : int
        Candidate list size while searching (``hnsw.ef_search``), raised to k when k is larger.
    """

    kind = "pgvector"

    def __init__(
        self,
        dsn: str,
        dim: int,
        *,
        namespace: str = "default",
        table: str = "hopfield_facts",
        hnsw_m: int = 16,
        ef_construction: int = 64,
        ef_search: int = 100,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= _MAX_DIM:
            raise InvalidInputError(f"dim must be an int in [1, {_MAX_DIM}], got {dim!r}")
        if not isinstance(namespace, str) or not namespace or "\x00" in namespace:
            raise InvalidInputError(f"namespace must be a non-empty string, got {namespace!r}")
        if not isinstance(table, str) or not _TABLE_PREFIX.fullmatch(table):
            raise InvalidInputError(
                f"table must match {_TABLE_PREFIX.pattern} (a safe SQL name), got {table!r}"
            )
        for name, value, low, high in (
            ("hnsw_m", hnsw_m, 2, 100),
            ("ef_construction", ef_construction, 2 * hnsw_m, 1000),
            ("ef_search", ef_search, 1, 1000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInputError(f"{name} must be an int in [{low}, {high}], got {value!r}")
        params, self._safe_dsn = _parse_dsn(dsn)
        self._password = params.get("password", "")
        self.dim = dim
        self.namespace = namespace
        self.table = table
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self._pg, register_vector = import_psycopg()
        params.setdefault("connect_timeout", _DEFAULT_CONNECT_TIMEOUT)
        try:
            conninfo = self._pg.conninfo.make_conninfo(**params)
            self._conn = self._pg.connect(conninfo, autocommit=True)
        except self._pg.Error as exc:
            raise self._unavailable(exc) from None
        try:
            self._iterative_scan = self._create_schema()
            register_vector(self._conn)
            self._conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
            if self._iterative_scan:
                self._conn.execute("SET hnsw.iterative_scan = strict_order")
        except BaseException:
            self._conn.close()
            raise

    def __repr__(self) -> str:
        return (
            f"PgVectorColdTier(dsn={self._safe_dsn!r}, dim={self.dim}, "
            f"namespace={self.namespace!r}, table={self.table!r})"
        )

    # -- the ColdTier protocol -------------------------------------------------------------

    def __len__(self) -> int:
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT count FROM {ns} WHERE namespace = %s"), (self.namespace,))
            return int(cur.fetchone()[0])

    def __contains__(self, fact_id: object) -> bool:
        if isinstance(fact_id, bool) or not isinstance(fact_id, (int, np.integer)):
            return False
        with self._transaction() as cur:
            cur.execute(
                self._sql("SELECT 1 FROM {facts} WHERE namespace = %s AND id = %s"),
                (self.namespace, int(fact_id)),
            )
            return cur.fetchone() is not None

    def ids(self) -> np.ndarray:
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT id FROM {facts} WHERE namespace = %s"), (self.namespace,))
            return np.array([row[0] for row in cur.fetchall()], dtype=np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` (k, dim) under caller-chosen ``ids`` (k,), with empty text and
        metadata. Ids already held raise :class:`InvalidInputError`; nothing is added then."""
        ids, vectors = check_add(self.dim, ids, vectors)
        _check_finite(vectors)
        if len(ids) == 0:
            return
        try:
            with self._transaction() as cur:
                self._copy_rows(cur, ids, vectors, [""] * len(ids), [{}] * len(ids))
                # keep insert()'s sequence above caller-chosen ids, so the two never collide
                cur.execute(
                    self._sql("SELECT setval(%s, %s) WHERE %s > (SELECT last_value FROM {seq})"),
                    (self._name("ids"), int(ids.max()), int(ids.max())),
                )
                self._log(cur, added=ids, delta=len(ids))
        except self._pg.errors.UniqueViolation:
            raise InvalidInputError("some ids are already held in this namespace") from None

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        queries = check_queries(self.dim, queries, k)
        out = np.full((len(queries), k), -1, dtype=np.int64)
        select = "SELECT id FROM {facts} WHERE namespace = %s ORDER BY "
        by_index = self._sql(select + "vec <#> %b LIMIT %s")
        exact = self._sql(select + "(vec <#> %b) + 0 LIMIT %s")  # + 0: no index orders by it
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT count FROM {ns} WHERE namespace = %s"), (self.namespace,))
            count = int(cur.fetchone()[0])
            if k > self.ef_search and count > k:
                cur.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(k),))
            for i, cue in enumerate(queries):
                # a namespace of at most k facts is the answer whole: skip the graph walk
                cur.execute(exact if count <= k else by_index, (self.namespace, cue, k))
                rows = [row[0] for row in cur.fetchall()]
                if len(rows) < min(k, count):  # the walk stopped short: redo it exactly
                    cur.execute(exact, (self.namespace, cue, k))
                    rows = [row[0] for row in cur.fetchall()]
                out[i, : len(rows)] = rows
        return out

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = _as_ids(ids)
        with self._transaction() as cur:
            cur.execute(
                self._sql("SELECT id, vec FROM {facts} WHERE namespace = %s AND id = ANY(%s)"),
                (self.namespace, ids.tolist()),
                binary=True,  # float32 bytes as stored, no decimal round trip
            )
            found = {fact_id: vec.to_numpy() for fact_id, vec in cur.fetchall()}
        _require(ids, found)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for row, fact_id in enumerate(ids.tolist()):
            out[row] = found[fact_id]
        return out

    def remove(self, ids: np.ndarray) -> None:
        ids = _as_ids(ids)
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError("ids to remove contain duplicates")
        with self._transaction() as cur:
            cur.execute(
                self._sql("DELETE FROM {facts} WHERE namespace = %s AND id = ANY(%s) RETURNING id"),
                (self.namespace, ids.tolist()),
            )
            _require(ids, {row[0] for row in cur.fetchall()})  # raising rolls the delete back
            self._log(cur, removed=ids, delta=-len(ids))

    def config(self) -> dict[str, Any]:
        """Constructor parameters, JSON-ready; ``dsn`` has its password removed."""
        return {
            "kind": self.kind,
            "dim": self.dim,
            "dsn": self._safe_dsn,
            "namespace": self.namespace,
            "table": self.table,
            "hnsw_m": self.hnsw_m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
        }

    # -- system of record: database ids, text, metadata, change feed ----------------------------

    def insert(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any] | None] | None = None,
    ) -> np.ndarray:
        """Store new facts in one transaction (one binary COPY); ids come from the database.

        Parameters
        ----------
        vectors : ndarray of shape (n, dim)
            float32 vectors (converted once), finite.
        texts : sequence of n str
            The facts' text.
        metadatas : sequence of n dicts (JSON-ready) or None, optional
            Metadata per fact; None stores ``{}``.

        Returns
        -------
        ndarray of shape (n,), int64
            The new ids, in input order; unique across every process sharing the database.
        """
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise DimensionMismatchError(
                f"vectors must have shape (n, {self.dim}), got {vectors.shape}"
            )
        _check_finite(vectors)
        texts = _check_texts(texts, len(vectors))
        metas = _check_metadatas(metadatas, len(vectors))
        if len(vectors) == 0:
            return np.zeros(0, dtype=np.int64)
        with self._transaction() as cur:
            cur.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", (self._name("ids"), len(vectors))
            )
            ids = np.array([row[0] for row in cur.fetchall()], dtype=np.int64)
            self._copy_rows(cur, ids, vectors, texts, metas)
            self._log(cur, added=ids, delta=len(ids))
        return ids

    def facts(self, ids: np.ndarray) -> list[tuple[str, dict[str, Any]]]:
        """``(text, metadata)`` of each id in ``ids`` (k,), in that order."""
        ids = _as_ids(ids)
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "SELECT id, text, meta FROM {facts} WHERE namespace = %s AND id = ANY(%s)"
                ),
                (self.namespace, ids.tolist()),
            )
            found = {fact_id: (text, meta) for fact_id, text, meta in cur.fetchall()}
        _require(ids, found)
        return [found[fact_id] for fact_id in ids.tolist()]

    def update(
        self,
        fact_id: int,
        vector: np.ndarray,
        text: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Replace the vector (dim,), text and metadata of ``fact_id``; the change feed reports
        it as added again."""
        vectors = np.ascontiguousarray(np.asarray(vector).reshape(1, -1), dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise DimensionMismatchError(f"vector must have {self.dim} values, got {vectors.size}")
        _check_finite(vectors)
        (text,) = _check_texts([text], 1)
        (meta,) = _check_metadatas([metadata], 1)
        (fact_id_,) = _as_ids(np.array([fact_id])).tolist()
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE {facts} SET vec = %b, text = %s, meta = %s "
                    "WHERE namespace = %s AND id = %s"
                ),
                (vectors[0], text, self._pg.types.json.Jsonb(meta), self.namespace, fact_id_),
            )
            if cur.rowcount != 1:
                raise UnknownIdError(f"id {fact_id_} is not in this cold tier")
            self._log(cur, added=[fact_id_], delta=0)

    def version(self) -> int:
        """The namespace's current change number (what :meth:`changes_since` takes)."""
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT seq FROM {ns} WHERE namespace = %s"), (self.namespace,))
            return int(cur.fetchone()[0])

    def changes_since(self, seq: int) -> tuple[int, np.ndarray, np.ndarray]:
        """What changed in this namespace after version ``seq`` (0: since it was created).

        Returns ``(head, added, removed)``: the current version, to pass next time; int64 ids
        held at ``head`` that were added or updated after ``seq`` (fetch their vectors and
        facts, replacing any copy); int64 ids not held at ``head`` that were removed after
        ``seq`` (drop them if held; an id added and removed in between appears only here).
        """
        if isinstance(seq, bool) or not isinstance(seq, (int, np.integer)) or seq < 0:
            raise InvalidInputError(f"seq must be an int >= 0, got {seq!r}")
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT seq FROM {ns} WHERE namespace = %s"), (self.namespace,))
            head = int(cur.fetchone()[0])
            if seq > head:
                raise InvalidInputError(f"seq {seq} is ahead of this namespace's version {head}")
            # every seq <= head committed before head did: nothing below head is still in flight
            cur.execute(
                self._sql(
                    "SELECT added, removed FROM {changes} WHERE namespace = %s "
                    "AND seq > %s AND seq <= %s ORDER BY seq"
                ),
                (self.namespace, int(seq), head),
            )
            last: dict[int, bool] = {}  # id -> held after its latest change
            for added, removed in cur.fetchall():
                last.update(dict.fromkeys(removed, False))
                last.update(dict.fromkeys(added, True))
        held = np.array([i for i, present in last.items() if present], dtype=np.int64)
        gone = np.array([i for i, present in last.items() if not present], dtype=np.int64)
        return head, held, gone

    def close(self) -> None:
        """Close the connection; later calls raise :class:`ColdTierUnavailableError`."""
        self._conn.close()

    # -- internals ---------------------------------------------------------------------------

    def _name(self, suffix: str) -> str:
        return f"{self.table}_{suffix}"

    def _sql(self, text: str, **parts: Any) -> Any:
        """``text`` with ``{facts}``, ``{ns}``, ``{changes}``, ``{seq}`` as quoted table names
        and any other ``{name}`` filled from ``parts`` (psycopg ``sql`` objects)."""
        ident = self._pg.sql.Identifier
        return self._pg.sql.SQL(text).format(
            facts=ident(self._name(str(self.dim))),
            ns=ident(self._name("namespaces")),
            changes=ident(self._name("changes")),
            seq=ident(self._name("ids")),
            **parts,
        )

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in one transaction (rolled back on any error); a lost or refused connection
        becomes :class:`ColdTierUnavailableError`."""
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield cur
        except self._pg.OperationalError as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> ColdTierUnavailableError:
        message = str(exc).strip()
        if self._password:
            message = message.replace(self._password, "***")
        return ColdTierUnavailableError(
            f"cold tier database {self._safe_dsn!r} is unavailable: {message}"
        )

    def _create_schema(self) -> bool:
        """Create what is missing; returns whether pgvector has iterative scans (>= 0.8)."""
        literal = self._pg.sql.Literal
        try:
            with self._transaction() as cur:
                # concurrent CREATE ... IF NOT EXISTS can still collide: one creator at a time
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('hopfield_memory schema'))")
                cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
                cur.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {ns} (namespace text PRIMARY KEY, "
                    "dim integer NOT NULL, seq bigint NOT NULL DEFAULT 0, "
                    "count bigint NOT NULL DEFAULT 0)"
                ))  # fmt: skip
                cur.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {changes} (namespace text NOT NULL, "
                    "seq bigint NOT NULL, added bigint[] NOT NULL, removed bigint[] NOT NULL, "
                    "PRIMARY KEY (namespace, seq))"
                ))  # fmt: skip
                cur.execute(self._sql("CREATE SEQUENCE IF NOT EXISTS {seq}"))
                cur.execute(
                    self._sql(
                        "CREATE TABLE IF NOT EXISTS {facts} (namespace text NOT NULL, "
                        "id bigint NOT NULL, vec vector({dim}) NOT NULL, "
                        "text text NOT NULL DEFAULT '', meta jsonb NOT NULL DEFAULT '{{}}', "
                        "PRIMARY KEY (namespace, id))",
                        dim=literal(self.dim),
                    )
                )
                cur.execute(
                    self._sql(
                        "CREATE INDEX IF NOT EXISTS {index} ON {facts} USING hnsw "
                        "(vec vector_ip_ops) WITH (m = {m}, ef_construction = {ef})",
                        index=self._pg.sql.Identifier(self._name(f"{self.dim}_hnsw")),
                        m=literal(self.hnsw_m),
                        ef=literal(self.ef_construction),
                    )
                )
                cur.execute(
                    self._sql(
                        "INSERT INTO {ns} (namespace, dim) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                    ),
                    (self.namespace, self.dim),
                )
                cur.execute(
                    self._sql("SELECT dim FROM {ns} WHERE namespace = %s"), (self.namespace,)
                )
                held_dim = int(cur.fetchone()[0])
                cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
                version = tuple(int(p) for p in re.findall(r"\d+", cur.fetchone()[0])[:2])
        except self._pg.Error as exc:
            if isinstance(exc, self._pg.OperationalError):
                raise self._unavailable(exc) from None
            raise ColdTierUnavailableError(
                f"cannot set up the cold tier in {self._safe_dsn!r}: {str(exc).strip()} "
                "(the server needs the pgvector extension: see .ci/postgres)"
            ) from None
        if held_dim != self.dim:
            raise DimensionMismatchError(
                f"namespace {self.namespace!r} holds vectors of dim {held_dim}, not {self.dim}; "
                "use another namespace"
            )
        return version >= (0, 8)

    def _copy_rows(
        self,
        cur: Any,
        ids: np.ndarray,
        vectors: np.ndarray,
        texts: Sequence[str],
        metas: Sequence[dict[str, Any]],
    ) -> None:
        """Binary COPY of new rows into the facts table (inside the caller's transaction)."""
        jsonb = self._pg.types.json.Jsonb
        statement = self._sql(
            "COPY {facts} (namespace, id, vec, text, meta) FROM STDIN WITH (FORMAT BINARY)"
        )
        with cur.copy(statement) as copy:
            copy.set_types(["text", "int8", "vector", "text", "jsonb"])
            for fact_id, vec, text, meta in zip(ids.tolist(), vectors, texts, metas, strict=True):
                copy.write_row((self.namespace, fact_id, vec, text, jsonb(meta)))

    def _log(self, cur: Any, *, added: Any = (), removed: Any = (), delta: int) -> None:
        """Raise the namespace's version by one, its count by ``delta``, and log the ids under
        the new version. The row lock taken here is held until commit: versions commit in order.
        """
        cur.execute(
            self._sql(
                "UPDATE {ns} SET seq = seq + 1, count = count + %s WHERE namespace = %s "
                "RETURNING seq"
            ),
            (delta, self.namespace),
        )
        seq = int(cur.fetchone()[0])
        cur.execute(
            self._sql(
                "INSERT INTO {changes} (namespace, seq, added, removed) VALUES (%s, %s, %s, %s)"
            ),
            (self.namespace, seq, list(map(int, added)), list(map(int, removed))),
        )


def _as_ids(ids: np.ndarray) -> np.ndarray:
    return np.asarray(ids, dtype=np.int64).reshape(-1)


def _require(ids: np.ndarray, found: Any) -> None:
    missing = [i for i in ids.tolist() if i not in found]
    if missing:
        raise UnknownIdError(f"ids {missing[:5]} are not in this cold tier")


def _check_finite(vectors: np.ndarray) -> None:
    if not np.isfinite(vectors).all():
        raise InvalidInputError("vectors must be finite (pgvector refuses NaN and infinity)")


def _check_texts(texts: Sequence[str], n: int) -> list[str]:
    texts = list(texts)
    if len(texts) != n:
        raise InvalidInputError(f"got {len(texts)} texts for {n} vectors")
    for text in texts:
        if not isinstance(text, str):
            raise InvalidTypeError(f"texts must be str, got {type(text).__name__}")
        if "\x00" in text:
            raise InvalidInputError("texts cannot hold NUL characters (PostgreSQL text)")
    return texts


def _check_metadatas(metadatas: Sequence[dict[str, Any] | None] | None, n: int) -> list[Any]:
    metas = [None] * n if metadatas is None else list(metadatas)
    if len(metas) != n:
        raise InvalidInputError(f"got {len(metas)} metadata entries for {n} vectors")
    for meta in metas:
        if meta is not None and not isinstance(meta, dict):
            raise InvalidTypeError(f"metadata must be a dict or None, got {type(meta).__name__}")
        try:
            json.dumps(meta, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidTypeError(f"metadata must be JSON-ready: {exc}") from None
    return [{} if meta is None else meta for meta in metas]
