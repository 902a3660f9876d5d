"""The embedded durable store: a memory bound to an SQLite file, shared by processes.

``HopfieldMemory.open(path)`` keeps the usual in-RAM :class:`~hopfield_memory.store.PatternStore`
as the hot path and mirrors every write to the file (the format of :mod:`.persistence`):

* **Write-through.** Input is validated and encoded first (a bad call changes nothing), then the
  rows are committed in one SQLite transaction, then applied to RAM. A call that returned is
  committed: the database runs in WAL mode with ``synchronous=FULL`` by default, so an
  acknowledged write survives a killed process and a power cut (``durability="normal"`` keeps
  the first guarantee only and skips the fsync per commit). A write costs O(new rows).
* **Several processes.** Ids are allocated by the database inside the write transaction
  (``BEGIN IMMEDIATE``), so two writers never collide. Every write also appends to
  ``changelog(seq, namespace, op, first_id, last_id)``. Before answering, a handle asks SQLite
  whether another connection committed (``PRAGMA data_version``, microseconds); if so it reads
  the changelog past the last sequence number it has seen and re-reads exactly the rows named
  there. Inside a write transaction it catches up first, so its RAM equals the file for its
  namespace while it holds the write lock.
* **Locks.** SQLite waits up to 5 s for a lock (``busy_timeout``); on top of that every
  transaction is retried with jittered backoff until ``timeout`` (default 60 s) before
  :class:`~hopfield_memory.errors.StoreBusyError` is raised: "database is locked" never escapes.
* **Namespaces.** Each handle serves one namespace (its own facts, negatives, encoder, gate
  policy and parameters); queries only ever see their namespace's rows.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from .encoders.base import Encoder
from .errors import (
    EncoderMismatchError,
    InvalidInputError,
    MemoryClosedError,
    PersistenceFormatError,
    PersistenceNotFoundError,
    StoreBusyError,
    UnknownNamespaceError,
)
from .gate import GatePolicy
from .persistence import (
    FORMAT_NAME,
    FORMAT_VERSION,
    PAGE_SIZE,
    NamespaceRecord,
    _row,
    check_header,
    create_schema,
    describe,
    encoder_for,
    fill_rows,
    layout_key,
    read_all_rows,
    read_meta,
    read_namespaces,
    read_rows,
    write_layout,
)
from .store import FactRows, Metadata, PatternStore, StoredFact

if TYPE_CHECKING:
    from .memory import HopfieldMemory, PathLike
    from .tiered import TieredMemory

M = TypeVar("M", bound="HopfieldMemory | TieredMemory")
# what opening reads in one snapshot: record, facts, negatives, tier layout, changelog position
Loaded = tuple[NamespaceRecord, PatternStore, PatternStore, "dict[str, Any] | None", int]

logger = logging.getLogger(__name__)

T = TypeVar("T")
DURABILITY = {"full": "FULL", "normal": "NORMAL"}
LOG_KEEP = 100_000  # changelog entries kept; a handle further behind reloads its namespace
_BUSY_TIMEOUT_S = 5.0
_ID_CHUNK = 500


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class DurableStore:
    """Mirror of one namespace's pattern stores in an SQLite file (used by HopfieldMemory).

    Not thread-safe on its own: :class:`~hopfield_memory.HopfieldMemory` calls it under its lock.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path,
        record: NamespaceRecord,
        facts: FactRows,
        negatives: FactRows,
        *,
        last_seq: int,
        timeout: float,
        on_policy: Callable[[GatePolicy], None],
    ) -> None:
        self._db: sqlite3.Connection | None = db
        self.path = path
        self.namespace = record.name
        self._record = record
        self._facts = facts
        self._negatives = negatives
        self._last_seq = last_seq
        self._timeout = timeout
        self._on_policy = on_policy
        self._data_version = -1  # unknown: the first read catches up with the changelog
        self._where = describe(path)

    # ----------------------------------------------------------------------------- plumbing

    @property
    def closed(self) -> bool:
        return self._db is None

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise MemoryClosedError(
                f"the durable memory on {describe(self.path)} is closed; open it again"
            )
        return self._db

    def _pragma_data_version(self) -> int:
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    def _retrying(self, attempt: Callable[[], T], what: str) -> T:
        """Run ``attempt`` until it does not fail with a busy/locked error, or time runs out."""
        return retry_busy(attempt, what=f"{what} on {self._where}", timeout=self._timeout)

    def _transaction(self, begin: str, body: Callable[[], T]) -> T:
        try:
            return self._retrying(lambda: transaction(self._conn(), begin, body), "a transaction")
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _is_busy(exc):
                raise
            raise PersistenceFormatError(f"{self._where} is damaged: {exc}") from None

    def _write(self, body: Callable[[sqlite3.Connection], Callable[[], T]]) -> T:
        """One write transaction: catch up, run ``body`` (which returns the RAM update), commit,
        then apply the RAM update and record the changelog position."""
        db = self._conn()

        def run() -> Callable[[], T]:
            self._catch_up(db)
            apply = body(db)
            self._last_seq = _sequence(db, "changelog")
            self._trim_log(db)
            return apply

        apply = self._transaction("BEGIN IMMEDIATE", run)
        return apply()

    # ------------------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Apply what other connections committed since this handle last looked."""
        version = self._retrying(self._pragma_data_version, "a read")
        if version == self._data_version:
            return
        db = self._conn()
        self._transaction("BEGIN", lambda: self._catch_up(db))
        self._data_version = version

    def _catch_up(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT seq, op, first_id, last_id FROM changelog "
            "WHERE namespace = ? AND seq > ? ORDER BY seq",
            (self.namespace, self._last_seq),
        ).fetchall()
        top = _sequence(db, "changelog")
        if top == self._last_seq:
            return
        if _log_floor(db) > self._last_seq:  # entries we needed were trimmed: reload
            self._reload(db)
            self._last_seq = top
            return
        ranges: dict[str, list[tuple[int, int]]] = {"facts": [], "negatives": []}
        policy_changed = False
        for _seq, op, first, last in rows:
            table = "negatives" if op.startswith("neg_") else "facts"
            kind = op.removeprefix("neg_")
            if kind == "clear":
                (self._negatives if table == "negatives" else self._facts).clear()
                ranges[table] = []
            elif kind in ("insert", "update", "delete"):
                ranges[table].append((int(first), int(last)))
            elif op == "policy":
                policy_changed = True
            else:
                raise PersistenceFormatError(
                    f"{self._where} has a change {op!r} this version does not know; upgrade"
                )
        if policy_changed or any(ranges.values()):
            self._record = self._read_record(db)
        if policy_changed:
            self._on_policy(self._record.policy)
        self._apply_ranges(db, "facts", self._facts, ranges["facts"])
        self._apply_ranges(db, "negatives", self._negatives, ranges["negatives"])
        self._last_seq = top

    def _apply_ranges(
        self, db: sqlite3.Connection, table: str, store: FactRows, spans: list[tuple[int, int]]
    ) -> None:
        """Make the RAM rows with ids in ``spans`` equal to the file's rows."""
        for first, last in _merge(spans):
            rows = read_rows(db, table, self._record, self._where, id_range=(first, last))
            present = set(rows.ids)
            for fact_id in range(first, last + 1):
                if fact_id not in present and fact_id in store:
                    store.remove(fact_id)
            new = []
            for i, fact_id in enumerate(rows.ids):
                if fact_id in store:
                    store.replace(fact_id, rows.vectors[i], rows.texts[i], rows.metadata[i])
                else:
                    new.append(i)
            if new:
                store.append(
                    rows.vectors[new],
                    [rows.texts[i] for i in new],
                    [rows.metadata[i] for i in new],
                    ids=[rows.ids[i] for i in new],
                )

    def _reload(self, db: sqlite3.Connection) -> None:
        self._record = self._read_record(db)
        fill_rows(db, self._record, self._where, (self._facts, self._negatives))
        self._on_policy(self._record.policy)

    def _read_record(self, db: sqlite3.Connection) -> NamespaceRecord:
        records = read_namespaces(db, self._where)
        if self.namespace not in records:
            raise PersistenceFormatError(
                f"{self._where} lost the record of namespace {self.namespace!r}"
            )
        return records[self.namespace]

    def _save_record(self, db: sqlite3.Connection, record: NamespaceRecord) -> None:
        db.execute(
            "INSERT OR REPLACE INTO namespaces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", record.as_row()
        )
        self._record = record

    def _log(
        self, db: sqlite3.Connection, entries: Sequence[tuple[str, int | None, int | None]]
    ) -> None:
        db.executemany(
            "INSERT INTO changelog (namespace, op, first_id, last_id) VALUES (?, ?, ?, ?)",
            [(self.namespace, op, first, last) for op, first, last in entries],
        )

    def _trim_log(self, db: sqlite3.Connection) -> None:
        floor = _log_floor(db)
        if self._last_seq - floor > 2 * LOG_KEEP:
            new_floor = self._last_seq - LOG_KEEP
            db.execute("DELETE FROM changelog WHERE seq <= ?", (new_floor,))
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('log_floor', ?)",
                (str(new_floor),),
            )

    # ------------------------------------------------------------------------------ writing

    def insert(
        self,
        vectors: np.ndarray,
        texts: list[str],
        metadata: list[Metadata],
        *,
        negative: bool = False,
    ) -> list[int]:
        """Commit new rows (facts, or negatives) and add them to RAM; returns their ids."""
        table = "negatives" if negative else "facts"
        store = self._negatives if negative else self._facts
        k = len(texts)
        if k == 0:
            return []

        def body(db: sqlite3.Connection) -> Callable[[], list[int]]:
            top = db.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
            start = max(_sequence(db, table, missing=-1), -1 if top is None else top) + 1
            ids = list(range(start, start + k))
            db.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
                [
                    _row(fact_id, self.namespace, text, meta, vector)
                    for fact_id, text, meta, vector in zip(
                        ids, texts, metadata, vectors, strict=True
                    )
                ],
            )
            self._log(db, [(("neg_" if negative else "") + "insert", start, start + k - 1)])
            record = self._read_record(db)
            record.next_id = max(record.next_id, start + k)
            if negative:
                record.n_negatives += k
            else:
                record.n_facts += k
            self._save_record(db, record)
            return lambda: store.append(vectors, texts, metadata, ids=ids)

        return self._write(body)

    def update(
        self, fact_id: int, vector: np.ndarray, text: str, metadata: Metadata | None
    ) -> None:
        """Commit a new text/vector (and metadata, unless None) for ``fact_id``, then apply it."""

        def body(db: sqlite3.Connection) -> Callable[[], None]:
            current = self._facts.get(fact_id)  # RAM equals the file here: unknown ids raise
            meta = current.metadata if metadata is None else metadata
            row = _row(fact_id, self.namespace, text, meta, vector)
            db.execute(
                "UPDATE facts SET text = ?, metadata = ?, vector = ?, crc = ? "
                "WHERE id = ? AND namespace = ?",
                (*row[2:], fact_id, self.namespace),
            )
            self._log(db, [("update", fact_id, fact_id)])
            return lambda: self._facts.replace(fact_id, vector, text, meta)

        self._write(body)

    def delete(self, fact_ids: Sequence[int], *, negative: bool = False) -> list[StoredFact]:
        """Commit the deletion of ``fact_ids`` (facts, or negatives; all must exist), then apply
        it."""
        ids = list(fact_ids)
        table = "negatives" if negative else "facts"
        store = self._negatives if negative else self._facts

        def body(db: sqlite3.Connection) -> Callable[[], list[StoredFact]]:
            for fact_id in ids:
                store.get(fact_id)  # RAM equals the file here: unknown ids raise
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = ids[start : start + _ID_CHUNK]
                db.execute(
                    f"DELETE FROM {table} WHERE namespace = ? AND id IN "
                    f"({','.join('?' * len(chunk))})",
                    (self.namespace, *chunk),
                )
            self._log(db, [(("neg_" if negative else "") + "delete", i, i) for i in ids])
            record = self._read_record(db)
            if negative:
                record.n_negatives -= len(ids)
            else:
                record.n_facts -= len(ids)
            self._save_record(db, record)
            return lambda: [store.remove(i) for i in ids]

        return self._write(body)

    def clear(self) -> None:
        """Commit the deletion of every fact of the namespace, then apply it."""

        def body(db: sqlite3.Connection) -> Callable[[], None]:
            db.execute("DELETE FROM facts WHERE namespace = ?", (self.namespace,))
            self._log(db, [("clear", None, None)])
            record = self._read_record(db)
            record.n_facts = 0
            self._save_record(db, record)
            return self._facts.clear

        self._write(body)

    def write_layout(self, layout: dict[str, Any]) -> None:
        """Commit the namespace's tier layout (where a TieredMemory keeps which fact)."""
        db = self._conn()
        self._transaction("BEGIN IMMEDIATE", lambda: write_layout(db, self.namespace, layout))

    def set_policy(self, policy: GatePolicy) -> None:
        """Commit a new gate policy for the namespace, then apply it."""

        def body(db: sqlite3.Connection) -> Callable[[], None]:
            record = self._read_record(db)
            record.policy = policy
            self._save_record(db, record)
            self._log(db, [("policy", None, None)])
            return lambda: self._on_policy(policy)

        self._write(body)


def _sequence(db: sqlite3.Connection, table: str, *, missing: int = 0) -> int:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return missing if row is None else int(row[0])


def _log_floor(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'log_floor'").fetchone()
    return 0 if row is None else int(row[0])


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


# ---------------------------------------------------------------------------------- opening


def open_memory(
    cls: type[M],
    path: PathLike,
    *,
    encoder: Encoder | None,
    namespace: str,
    create: bool,
    durability: str,
    timeout: float,
    params: dict[str, Any],
) -> M:
    """Open (or create) ``namespace`` in the durable file at ``path``; see HopfieldMemory.open
    (TieredMemory.open is the same with the facts placed in tiers)."""
    if not isinstance(namespace, str) or not namespace:
        raise InvalidInputError(f"namespace must be a non-empty str, got {namespace!r}")
    if durability not in DURABILITY:
        raise InvalidInputError(
            f"durability must be one of {sorted(DURABILITY)}, got {durability!r}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidInputError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    target = Path(path)
    where = describe(target)
    # Validate what we are asked for before any I/O (a bad call creates no file).
    wanted = cls(encoder, **params)
    if "policy" in params and params["policy"] is None:
        params = {k: v for k, v in params.items() if k != "policy"}
    if target.exists():
        if not target.is_file():
            raise PersistenceFormatError(f"{where} is not a regular file")
        if target.stat().st_size > 0:
            check_header(target)  # wrong magic / truncated header: refuse before connecting
    elif not create:
        raise PersistenceNotFoundError(f"no memory file at {where} (pass create=True to make one)")
    db = sqlite3.connect(
        target, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_S
    )
    try:
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # takes effect only in a new, empty file
        return _open_on(
            cls, db, target, wanted, encoder, namespace, create, durability, timeout, params
        )
    except BaseException:
        db.close()
        raise


def _open_on(
    cls: type[M],
    db: sqlite3.Connection,
    target: Path,
    wanted: M,
    encoder: Encoder | None,
    namespace: str,
    create: bool,
    durability: str,
    timeout: float,
    params: dict[str, Any],
) -> M:
    where = describe(target)
    probe = DurableProbe(db, where, timeout)

    def load() -> Loaded | None:
        """The namespace's record, rows, layout and changelog position from one snapshot."""
        rec = _inspect(db, where, namespace)
        if rec is None:
            return None
        facts, negatives = read_all_rows(db, rec, where)
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changelog'").fetchone()
        layout = read_meta(db, where).get(layout_key(namespace))
        return rec, facts, negatives, layout, 0 if seq is None else int(seq[0])

    # 1. Read and check everything before writing anything (a failed open changes nothing).
    loaded = probe.run("BEGIN", load)
    if loaded is None and not create:
        raise UnknownNamespaceError(f"{where} holds no namespace {namespace!r} (create=False)")
    if loaded is not None:
        _check_compatible(loaded[0], wanted, encoder, params, where)
        encoder_for(loaded[0].encoder, encoder, where)
    # 2. The file is ours (or empty): switch to WAL and set the sync level.
    mode = probe.retry(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone()[0], "open")
    if str(mode).lower() != "wal":
        raise PersistenceFormatError(f"{where} cannot use WAL journaling (got {mode!r})")
    db.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
    # 3. Create the schema / the namespace if needed (another process may race us).
    if loaded is None:
        new = NamespaceRecord(
            name=namespace,
            dim=wanted.dim,
            encoder=wanted.encoder.spec,
            policy=wanted.policy,
            parameters=wanted.parameters(),
        )
        probe.run("BEGIN IMMEDIATE", lambda: _create(db, where, new))
        loaded = probe.run("BEGIN", load)
        if loaded is None:
            raise PersistenceFormatError(f"{where} lost namespace {namespace!r} while opening")
        _check_compatible(loaded[0], wanted, encoder, params, where)
    record, facts, negatives, layout, last_seq = loaded
    options = {k: v for k, v in params.items() if k not in record.parameters and k != "dim"}
    options.pop("policy", None)
    memory = cls._restore(
        record,
        encoder_for(record.encoder, encoder, where),
        facts,
        negatives,
        layout=layout,
        options=options,
    )
    memory.namespace = namespace
    fact_rows, negative_rows = memory._row_sinks()
    memory._durable = DurableStore(
        db,
        target,
        record,
        fact_rows,
        negative_rows,
        last_seq=last_seq,
        timeout=timeout,
        on_policy=memory._set_policy_local,
    )
    logger.debug("opened %s namespace %r: %d facts", where, namespace, len(facts))
    return cast(M, memory)


class DurableProbe:
    """Retrying transactions for the opening steps (before a DurableStore exists)."""

    def __init__(self, db: sqlite3.Connection, where: str, timeout: float) -> None:
        self.db, self.where, self.timeout = db, where, timeout

    def retry(self, attempt: Callable[[], T], what: str) -> T:
        """``attempt`` retried while busy; any other SQLite error means the file is not ours."""
        try:
            return retry_busy(attempt, what=f"{what} of {self.where}", timeout=self.timeout)
        except sqlite3.DatabaseError as exc:
            message = f"{self.where} is damaged or not a memory: {exc}"
            raise PersistenceFormatError(message) from None

    def run(self, begin: str, body: Callable[[], T]) -> T:
        """``body`` in one retried transaction."""
        return self.retry(lambda: transaction(self.db, begin, body), "opening")


def retry_busy(attempt: Callable[[], T], *, what: str, timeout: float) -> T:
    """Run ``attempt`` until it does not fail with SQLite's busy/locked error, backing off with
    jitter (1 ms doubling to 100 ms), for at most ``timeout`` seconds; then StoreBusyError."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{what} waited {timeout:.0f} s for another process's lock; retry later or "
                    "raise timeout"
                ) from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.1)


def transaction(db: sqlite3.Connection, begin: str, body: Callable[[], T]) -> T:
    """``body`` between ``begin`` and COMMIT, rolled back if anything fails."""
    db.execute(begin)
    try:
        result = body()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _inspect(db: sqlite3.Connection, where: str, namespace: str) -> NamespaceRecord | None:
    """The namespace's record; None when the file is empty or lacks the namespace."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    if "meta" not in tables:
        raise PersistenceFormatError(
            f"{where} is an SQLite database of another application (tables {sorted(tables)}); "
            f"refusing to touch it"
        )
    read_meta(db, where)
    return read_namespaces(db, where).get(namespace)


def _create(db: sqlite3.Connection, where: str, record: NamespaceRecord) -> None:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        create_schema(db)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", f'"{FORMAT_NAME}"'), ("format_version", str(FORMAT_VERSION))],
        )
    else:
        _inspect(db, where, record.name)
    db.execute(
        "INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", record.as_row()
    )


def _check_compatible(
    record: NamespaceRecord,
    wanted: HopfieldMemory | TieredMemory,
    encoder: Encoder | None,
    params: dict[str, Any],
    where: str,
) -> None:
    """An existing namespace keeps its encoder, parameters and policy: refuse a different one."""
    if encoder is not None or "dim" in params:
        if wanted.encoder.spec.fingerprint != record.encoder.fingerprint:
            raise EncoderMismatchError(
                f"{where} namespace {record.name!r} was made with encoder "
                f"{record.encoder.to_dict()}, but this call asks for "
                f"{wanted.encoder.spec.to_dict()}; their vectors are not comparable"
            )
    given = wanted.parameters()
    clash = {
        k: (record.parameters.get(k), given[k])
        for k in params
        if k in given and record.parameters.get(k) != given[k]
    }
    if clash:
        raise InvalidInputError(
            f"{where} namespace {record.name!r} exists with other parameters "
            f"(stored, asked): {clash}; omit them to use the stored ones"
        )
    if params.get("policy") is not None and params["policy"] != record.policy:
        raise InvalidInputError(
            f"{where} namespace {record.name!r} has gate policy {record.policy}; to change it, "
            f"assign memory.policy after opening"
        )
