"""One versioned file format on SQLite (standard library), never pickle.

The same schema serves the durable store (:mod:`.durable`, ``HopfieldMemory.open``) and the
snapshots written by ``save`` (a compacted copy, one namespace)::

    meta(key TEXT PRIMARY KEY, value TEXT)       "format", "format_version", "log_floor"
                                                 (JSON values)
    namespaces(name TEXT PRIMARY KEY, dim, encoder (EncoderSpec JSON), policy (GatePolicy
               JSON), parameters (constructor keywords JSON), next_id, n_facts, n_negatives, crc)
    facts(id INTEGER PRIMARY KEY AUTOINCREMENT, namespace, text, metadata (JSON),
          vector BLOB (float32 little-endian), crc)
    negatives(...same columns as facts...)       repulsive negative patterns
    changelog(seq INTEGER PRIMARY KEY AUTOINCREMENT, namespace, op, first_id, last_id)

Every row of ``namespaces``, ``facts`` and ``negatives`` carries a CRC-32 of its content and every
namespace row the number of facts and negatives it owns, so a flipped byte or a lost row is
reported as :class:`PersistenceFormatError` instead of being loaded as a wrong fact (SQLite itself
has no page checksums). Ids are allocated by the database and shared by all namespaces of a file.

``save`` writes a temporary file beside the target, fsyncs it, renames it over the target and
fsyncs the directory, so a crash during ``save`` leaves the previous file intact. Reading checks
the magic, the format name and version, the schema, the dimension and the encoder fingerprint
before anything is built; a failed load or open changes nothing on disk.

``load`` also imports the JSON files written by mhn-ai-agent-memory 1.0 (see
:func:`load_legacy_json`), and :func:`export_jsonl` / :func:`import_jsonl` move facts as JSON Lines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import numpy as np

from ._atomic import atomic_write
from .encoders.base import Encoder, EncoderSpec, as_unit_rows
from .encoders.hashing import RandomIndexEncoder
from .errors import (
    EncoderMismatchError,
    PersistenceFormatError,
    PersistenceNotFoundError,
    UnknownNamespaceError,
)
from .gate import GatePolicy
from .progress import progress as progress_bar
from .store import FactRows, Metadata, PatternStore

if TYPE_CHECKING:
    from .memory import HopfieldMemory, PathLike
    from .tiered import TieredMemory

M = TypeVar("M", bound="HopfieldMemory | TieredMemory")

logger = logging.getLogger(__name__)

FORMAT_NAME = "hopfield-memory"
FORMAT_VERSION = 1
DEFAULT_NAMESPACE = "default"
JSONL_FORMAT = "hopfield-memory-jsonl"
SQLITE_MAGIC = b"SQLite format 3\x00"
ROW_TABLES = ("facts", "negatives")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    encoder TEXT NOT NULL,
    policy TEXT NOT NULL,
    parameters TEXT NOT NULL,
    next_id INTEGER NOT NULL,
    n_facts INTEGER NOT NULL,
    n_negatives INTEGER NOT NULL,
    crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL,
    crc INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_by_namespace ON facts (namespace, id);
CREATE TABLE IF NOT EXISTS negatives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL,
    crc INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS negatives_by_namespace ON negatives (namespace, id);
CREATE TABLE IF NOT EXISTS changelog (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    op TEXT NOT NULL,
    first_id INTEGER,
    last_id INTEGER
);
CREATE INDEX IF NOT EXISTS changelog_by_namespace ON changelog (namespace, seq);
"""
_REQUIRED_COLUMNS = {
    "meta": {"key", "value"},
    "namespaces": {
        "name",
        "dim",
        "encoder",
        "policy",
        "parameters",
        "next_id",
        "n_facts",
        "n_negatives",
        "crc",
    },
    "facts": {"id", "namespace", "text", "metadata", "vector", "crc"},
    "negatives": {"id", "namespace", "text", "metadata", "vector", "crc"},
    "changelog": {"seq", "namespace", "op", "first_id", "last_id"},
}
_FETCH_CHUNK = 8192
PAGE_SIZE = 16384  # 384-dim float32 rows (1.6 kB) waste a quarter of 4 kB pages, little of 16 kB

FactRow = tuple[int, str, Metadata, np.ndarray]  # (id, text, metadata, vector (dim,))

SnapshotNotFoundError = PersistenceNotFoundError  # the name the 2.0 previews used


# ------------------------------------------------------------------------------ row checksums


def row_crc(fact_id: int, namespace: str, text: str, metadata: str, vector: bytes) -> int:
    """CRC-32 of one fact or negative row (length-prefixed fields, so no two rows collide)."""
    ns, tx, md = namespace.encode(), text.encode("utf-8", "surrogatepass"), metadata.encode()
    head = struct.pack("<qIII", fact_id, len(ns), len(tx), len(md))
    return zlib.crc32(vector, zlib.crc32(b"".join((head, ns, tx, md))))


def dump_meta(metadata: Metadata) -> str:
    """Metadata as stored: compact JSON."""
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)


def vector_blob(vector: np.ndarray) -> bytes:
    """A pattern as stored: float32 little-endian bytes."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


@dataclass
class NamespaceRecord:
    """One row of the ``namespaces`` table."""

    name: str
    dim: int
    encoder: EncoderSpec
    policy: GatePolicy
    parameters: dict[str, Any]
    next_id: int = 0
    n_facts: int = 0
    n_negatives: int = 0

    def _payload(self) -> str:
        return json.dumps(
            [
                self.name,
                self.dim,
                self.encoder.to_dict(),
                self.policy.to_dict(),
                self.parameters,
                self.next_id,
                self.n_facts,
                self.n_negatives,
            ],
            sort_keys=True,
            separators=(",", ":"),
        )

    def as_row(self) -> tuple[Any, ...]:
        """Values in the column order of the ``namespaces`` table."""
        return (
            self.name,
            self.dim,
            json.dumps(self.encoder.to_dict()),
            json.dumps(self.policy.to_dict()),
            json.dumps(self.parameters),
            self.next_id,
            self.n_facts,
            self.n_negatives,
            zlib.crc32(self._payload().encode()),
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...], source: str) -> NamespaceRecord:
        """Parse and check one ``namespaces`` row; raises PersistenceFormatError if damaged."""
        try:
            name, dim, enc, pol, params, next_id, n_facts, n_neg, crc = row
            record = cls(
                name=name,
                dim=dim,
                encoder=EncoderSpec.from_dict(json.loads(enc)),
                policy=GatePolicy.from_dict(json.loads(pol)),
                parameters=json.loads(params),
                next_id=next_id,
                n_facts=n_facts,
                n_negatives=n_neg,
            )
            ok = all(isinstance(v, int) for v in (dim, next_id, n_facts, n_neg, crc))
            ok = ok and isinstance(name, str) and isinstance(record.parameters, dict)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise PersistenceFormatError(
                f"{source} has a damaged namespace record: {exc}"
            ) from None
        if ok and record.encoder.dim != dim:
            raise PersistenceFormatError(
                f"{source}: namespace {name!r} has dim {dim} but its encoder has dim "
                f"{record.encoder.dim} (mismatched dimension)"
            )
        if not ok or zlib.crc32(record._payload().encode()) != crc:
            raise PersistenceFormatError(
                f"{source}: the record of namespace {name!r} fails its checksum (damaged file)"
            )
        return record


@dataclass
class Rows:
    """Rows of ``facts`` or ``negatives`` read for one namespace."""

    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadata: list[Metadata] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)


# ----------------------------------------------------------------------------- file checking


def describe(path: Path) -> str:
    return repr(str(path))


def check_header(path: Path) -> bool:
    """Check that ``path`` starts like an SQLite file; returns True when it is in WAL mode."""
    with path.open("rb") as fh:
        head = fh.read(100)
    if head[: len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise PersistenceFormatError(
            f"{describe(path)} is not a hopfield-memory file (not an SQLite file: wrong magic)"
        )
    if len(head) < 100:
        raise PersistenceFormatError(f"{describe(path)} is truncated (shorter than its header)")
    return head[18] == 2 and head[19] == 2


@contextlib.contextmanager
def open_for_reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that only reads ``path`` and leaves the file as it found it.

    Rollback-journal files (snapshots) are opened ``mode=ro``; WAL files (durable stores, maybe
    in use by another process) with an ordinary connection set to ``query_only``, because a
    read-only connection would leave ``-wal``/``-shm`` files behind.
    """
    wal = check_header(path)
    uri = path.resolve().as_uri() + ("" if wal else "?mode=ro")
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
    try:
        db.execute("PRAGMA query_only = 1")
        yield db
    finally:
        db.close()


def read_meta(db: sqlite3.Connection, source: str) -> dict[str, Any]:
    """The ``meta`` table, checked: our format, a version we read, the tables we need."""
    try:
        raw = dict(db.execute("SELECT key, value FROM meta").fetchall())
        meta = {k: json.loads(v) for k, v in raw.items()}
    except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
        raise PersistenceFormatError(
            f"{source} is an SQLite file but not a hopfield-memory file: {exc}"
        ) from None
    if meta.get("format") != FORMAT_NAME:
        raise PersistenceFormatError(
            f"{source} is not a hopfield-memory file (meta 'format' is {meta.get('format')!r})"
        )
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PersistenceFormatError(f"{source} has an invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise PersistenceFormatError(
            f"{source} has format version {version}; this library reads up to "
            f"{FORMAT_VERSION}. Upgrade mhn-ai-agent-memory to read it."
        )
    for table, wanted in _REQUIRED_COLUMNS.items():
        got = {r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
        if not wanted <= got:
            raise PersistenceFormatError(
                f"{source} is a hopfield-memory file with an unexpected schema: table "
                f"{table!r} lacks {sorted(wanted - got)}"
            )
    return meta


def read_namespaces(db: sqlite3.Connection, source: str) -> dict[str, NamespaceRecord]:
    """Every namespace record of the file, checked."""
    rows = db.execute(
        "SELECT name, dim, encoder, policy, parameters, next_id, n_facts, n_negatives, crc "
        "FROM namespaces"
    ).fetchall()
    return {r.name: r for r in (NamespaceRecord.from_row(row, source) for row in rows)}


def pick_namespace(
    records: dict[str, NamespaceRecord], namespace: str | None, source: str
) -> NamespaceRecord:
    """The record asked for; None means "default", or the only one when there is just one."""
    if namespace is None:
        if DEFAULT_NAMESPACE in records or len(records) != 1:
            namespace = DEFAULT_NAMESPACE
        else:
            namespace = next(iter(records))
    try:
        return records[namespace]
    except KeyError:
        raise UnknownNamespaceError(
            f"{source} holds no namespace {namespace!r}; it holds {sorted(records)}"
        ) from None


def iter_rows(
    db: sqlite3.Connection,
    table: str,
    record: NamespaceRecord,
    source: str,
    *,
    id_range: tuple[int, int] | None = None,
    scan: bool = False,
    verify: bool = True,
) -> Iterator[Rows]:
    """Rows of ``table`` in one namespace (optionally ids in ``id_range``), checked, in id order,
    in chunks. ``scan`` reads the table in rowid order instead of through the namespace index
    (faster when the namespace holds most of the rows)."""
    if table not in ROW_TABLES:
        raise ValueError(table)
    dim, namespace = record.dim, record.name
    hint = " NOT INDEXED" if scan else ""
    sql = (
        f"SELECT id, namespace, text, metadata, vector, crc FROM {table}{hint} WHERE namespace = ?"
    )
    args: tuple[Any, ...] = (namespace,)
    if id_range is not None:
        sql += " AND id BETWEEN ? AND ?"
        args += id_range
    cursor = db.execute(sql + " ORDER BY id", args)
    width = 4 * dim
    while rows := cursor.fetchmany(_FETCH_CHUNK):
        out = Rows()
        blobs = []
        for fact_id, ns, text, meta, blob, crc in rows:
            if (
                ns != namespace
                or not isinstance(text, str)
                or not isinstance(meta, str)
                or not isinstance(blob, bytes)
            ):
                raise PersistenceFormatError(f"{source}: {table} row {fact_id} is damaged")
            if len(blob) != width:
                raise PersistenceFormatError(
                    f"{source}: {table} row {fact_id} has a vector of the wrong size "
                    f"({len(blob)} bytes, expected {width} for dim {dim})"
                )
            if verify and row_crc(fact_id, ns, text, meta, blob) != crc:
                raise PersistenceFormatError(
                    f"{source}: {table} row {fact_id} fails its checksum (damaged file)"
                )
            try:
                parsed = {} if meta == "{}" else json.loads(meta)
            except ValueError:
                raise PersistenceFormatError(
                    f"{source}: {table} row {fact_id} has metadata that is not JSON"
                ) from None
            if not isinstance(parsed, dict):
                raise PersistenceFormatError(f"{source}: {table} row {fact_id} metadata not a dict")
            out.ids.append(fact_id)
            out.texts.append(text)
            out.metadata.append(parsed)
            blobs.append(blob)
        vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim)
        if not np.isfinite(vectors).all():
            raise PersistenceFormatError(f"{source}: {table} holds vectors with NaN or infinity")
        out.vectors = vectors.astype(np.float32, copy=False)
        yield out


def read_rows(
    db: sqlite3.Connection,
    table: str,
    record: NamespaceRecord,
    source: str,
    *,
    id_range: tuple[int, int] | None = None,
) -> Rows:
    """All the chunks of :func:`iter_rows` as one :class:`Rows`."""
    out = Rows(vectors=np.empty((0, record.dim), dtype=np.float32))
    chunks = [out.vectors]
    for chunk in iter_rows(db, table, record, source, id_range=id_range):
        out.ids += chunk.ids
        out.texts += chunk.texts
        out.metadata += chunk.metadata
        chunks.append(chunk.vectors)
    out.vectors = np.concatenate(chunks)
    return out


def read_all_rows(
    db: sqlite3.Connection, record: NamespaceRecord, source: str
) -> tuple[PatternStore, PatternStore]:
    """Facts and negatives of one namespace in new pattern stores (see :func:`fill_rows`)."""
    stores = (
        PatternStore(record.dim, capacity=record.n_facts),
        PatternStore(record.dim, capacity=record.n_negatives),
    )
    fill_rows(db, record, source, stores)
    return stores


def fill_rows(
    db: sqlite3.Connection,
    record: NamespaceRecord,
    source: str,
    into: tuple[FactRows, FactRows],
) -> None:
    """Replace the content of ``into`` (facts, negatives) by the namespace's rows, checked
    against the record's counts."""
    expected = (record.n_facts, record.n_negatives)
    totals = db.execute("SELECT sum(n_facts), sum(n_negatives) FROM namespaces").fetchone()
    for store, table, n, total in zip(into, ROW_TABLES, expected, totals, strict=True):
        store.clear()
        store.reserve(n)
        scan = 3 * n >= (total or 0)
        for chunk in iter_rows(db, table, record, source, scan=scan):
            store.append(chunk.vectors, chunk.texts, chunk.metadata, ids=chunk.ids)
        if len(store) != n:
            raise PersistenceFormatError(
                f"{source}: namespace {record.name!r} should hold {n} {table}, found "
                f"{len(store)} (damaged file)"
            )
        store.next_id = max(store.next_id, record.next_id)


def rebuilt_hashing_encoder(spec: EncoderSpec) -> RandomIndexEncoder | None:
    """Today's built-in hashing encoder with the geometry of ``spec``, or None for another
    backend."""
    if spec.backend != "hashing":
        return None
    return RandomIndexEncoder(dim=spec.dim, seed=int(spec.options.get("seed", 0)))


def encoder_for(spec: EncoderSpec, encoder: Encoder | None, source: str) -> Encoder:
    """The encoder to load with: the one given (same fingerprint) or a rebuilt hashing one."""
    if encoder is not None:
        if encoder.spec.fingerprint != spec.fingerprint:
            raise EncoderMismatchError(
                f"{source} was saved with encoder {spec.to_dict()}, but the encoder given is "
                f"{encoder.spec.to_dict()}; their vectors are not comparable"
            )
        return encoder
    rebuilt = rebuilt_hashing_encoder(spec)
    if rebuilt is None:
        raise EncoderMismatchError(
            f"{source} was saved with a {spec.backend} encoder ({spec.model}); "
            f"pass the same encoder: HopfieldMemory.load(path, encoder=...)"
        )
    if rebuilt.spec.fingerprint != spec.fingerprint:
        raise EncoderMismatchError(
            f"{source} was saved with version {spec.version!r} of the built-in hashing "
            f"encoder; this release encodes with version {rebuilt.spec.version!r}. Load it "
            f"with reencode=True to encode the stored texts again, then save it"
        )
    return rebuilt


def build_memory(
    cls: type[M], record: NamespaceRecord, encoder: Encoder, options: dict[str, Any]
) -> M:
    """A memory of type ``cls`` with the record's parameters and policy, plus constructor
    ``options`` the file does not hold (no facts yet)."""
    try:
        memory = cls(encoder, policy=record.policy, **{**record.parameters, **options})
    except TypeError as exc:
        raise PersistenceFormatError(
            f"namespace {record.name!r} has parameters this version does not know: {exc}"
        ) from None
    memory.namespace = record.name
    return memory


# --------------------------------------------------------------------------------- snapshots


def save_snapshot(
    path: PathLike,
    record: NamespaceRecord,
    facts: Iterable[FactRow],
    negatives: Iterable[FactRow],
    *,
    layout: dict[str, Any] | None = None,
) -> None:
    """Write one namespace to ``path`` atomically (temp file, fsync, rename).

    ``facts`` and ``negatives`` yield ``(id, text, metadata, vector)``; their counts must be the
    record's. ``layout`` is how a :class:`~hopfield_memory.tiered.TieredMemory` places the facts
    (saved as the meta key ``layout:<namespace>``; a flat memory ignores it).
    """
    namespace = record.name

    def write(tmp: Path) -> None:
        with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as db:
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("BEGIN")
            create_schema(db)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("format", json.dumps(FORMAT_NAME)), ("format_version", str(FORMAT_VERSION))],
            )
            if layout is not None:
                write_layout(db, namespace, layout)
            db.execute("INSERT INTO namespaces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", record.as_row())
            for table, rows in (("facts", facts), ("negatives", negatives)):
                db.executemany(
                    f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
                    (_row(i, namespace, text, meta, vector) for i, text, meta, vector in rows),
                )
                set_sequence(db, table, record.next_id - 1)
            db.execute("COMMIT")

    atomic_write(Path(path), write)


def store_rows(store: PatternStore) -> Iterator[FactRow]:
    """``(id, text, metadata, vector)`` of every row of ``store``, in row order."""
    for row, fact_id in enumerate(store.ids.tolist()):
        yield fact_id, store.text_at(row), store.metadata_at(row), store.patterns[row]


def layout_key(namespace: str) -> str:
    """The ``meta`` key holding a namespace's tier layout."""
    return f"layout:{namespace}"


def write_layout(db: sqlite3.Connection, namespace: str, layout: dict[str, Any]) -> None:
    """Record a namespace's tier layout (JSON) in ``meta``; replaces an older one."""
    db.execute(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", (layout_key(namespace), json.dumps(layout))
    )


def create_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def set_sequence(db: sqlite3.Connection, table: str, seq: int) -> None:
    """Make the next id that ``table`` allocates at least ``seq + 1``."""
    if seq < 0:
        return
    cur = db.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, table))
    if cur.rowcount == 0:
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))


def _row(
    fact_id: int, namespace: str, text: str, metadata: Metadata, vector: np.ndarray
) -> tuple[Any, ...]:
    meta, blob = dump_meta(metadata), vector_blob(vector)
    return (fact_id, namespace, text, meta, blob, row_crc(fact_id, namespace, text, meta, blob))


def load_snapshot(
    cls: type[M],
    path: PathLike,
    encoder: Encoder | None,
    namespace: str | None = None,
    *,
    reencode: bool = False,
    progress: bool | None = None,
    options: dict[str, Any] | None = None,
) -> M:
    """Build an in-RAM memory of type ``cls`` from one namespace of the file at ``path``.

    The file may be a snapshot, a durable store (read as it is now) or a JSON file of
    mhn-ai-agent-memory 1.0. With ``reencode=True`` and an ``encoder`` of another fingerprint
    (or, without one, a file of an older built-in hashing encoder), every stored text is encoded
    again (in batches, with progress) instead of refusing.
    ``options`` are constructor keywords the file does not hold (e.g. a TieredMemory's).
    """
    source = Path(path)
    if not source.is_file():
        raise PersistenceNotFoundError(f"no memory file at {describe(source)}")
    with source.open("rb") as fh:
        start = fh.read(64).lstrip()
    if start.startswith(b"{"):
        return cast(M, cls._restore_legacy(source, encoder, options or {}))
    where = describe(source)
    try:
        with open_for_reading(source) as db:
            db.execute("BEGIN")
            meta = read_meta(db, where)
            record = pick_namespace(read_namespaces(db, where), namespace, where)
            wanted = encoder or rebuilt_hashing_encoder(record.encoder)
            moving = (
                reencode
                and wanted is not None
                and wanted.spec.fingerprint != record.encoder.fingerprint
            )
            chosen = (
                wanted
                if moving and wanted is not None
                else encoder_for(record.encoder, encoder, where)
            )
            facts, negatives = read_all_rows(db, record, where)
            db.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise PersistenceFormatError(f"{where} is damaged or not a memory file: {exc}") from None
    layout = meta.get(layout_key(record.name))
    if moving:
        logger.info("re-encoding %d facts of %s with %r", len(facts), where, chosen)
        from .memory import reencoded

        facts = reencoded(facts, chosen, progress)
        negatives = reencoded(negatives, chosen, progress)
        record = replace(record, policy=chosen.default_policy)
    memory = cls._restore(record, chosen, facts, negatives, layout=layout, options=options or {})
    return cast(M, memory)


def namespace_record(
    memory: HopfieldMemory | TieredMemory, *, next_id: int, n_facts: int, n_negatives: int
) -> NamespaceRecord:
    """The ``namespaces`` row describing ``memory`` with these counts."""
    return NamespaceRecord(
        name=memory.namespace,
        dim=memory.dim,
        encoder=memory.encoder.spec,
        policy=memory.policy,
        parameters=memory.parameters(),
        next_id=next_id,
        n_facts=n_facts,
        n_negatives=n_negatives,
    )


def fill_stores(memory: HopfieldMemory, facts: PatternStore, negatives: PatternStore) -> None:
    """Give a freshly built memory the pattern stores read from a file."""
    if facts.dim != memory.dim or negatives.dim != memory.dim:
        raise PersistenceFormatError(f"stored rows have dim {facts.dim}, the memory {memory.dim}")
    memory._store, memory._negatives = facts, negatives


# ------------------------------------------------------------------------- 1.0 JSON import


def load_legacy_json(
    cls: type[HopfieldMemory], source: Path, encoder: Encoder | None
) -> HopfieldMemory:
    """Import a JSON file written by ``HopfieldMemory.save`` of mhn-ai-agent-memory 1.0.

    What carries over: every fact text, in order (the 1.0 sentinel row and blank texts are
    dropped; ids are the facts' positions in the 1.0 list, sentinel excluded), the negative
    facts of a repulsive memory, and the ``sentinel`` switch. What does not: the 1.0 vectors
    (1.0 recorded no encoder fingerprint, and its hashing encoder has another geometry, so
    every text is encoded again with ``encoder``, default the 2.0 hashing encoder), and
    ``beta``, ``adaptive_beta``, ``beta_neg``, ``clamp_radius`` (1.0 rescaled beta per query;
    the 2.0 gate is calibrated for the 2.0 defaults). Save the result to get a 2.0 file.
    """
    where = describe(source)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PersistenceFormatError(
            f"{where} looks like JSON but does not parse (truncated?): {exc}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise PersistenceFormatError(
            f"{where} is JSON but not a mhn-ai-agent-memory 1.0 memory (no 'facts' list)"
        )
    if data.get("format") == JSONL_FORMAT:
        raise PersistenceFormatError(f"{where} is a JSON Lines export; use import_jsonl")
    texts = data["facts"]
    patterns = data.get("patterns")
    sentinel = data.get("sentinel")
    if sentinel is None:  # the oldest 1.0 files: a leading "" with a zero pattern
        sentinel = bool(
            texts
            and texts[0] == ""
            and isinstance(patterns, list)
            and patterns
            and not any(patterns[0])
        )
    sentinel_idx = data.get("sentinel_idx", 0 if sentinel else -1)
    if not all(isinstance(t, str) for t in texts):
        raise PersistenceFormatError(f"{where}: 'facts' must be a list of strings")
    kept = [
        (i, t) for i, t in enumerate(texts) if not (sentinel and i == sentinel_idx) and t.strip()
    ]
    offset = 1 if sentinel and sentinel_idx == 0 else 0
    negatives = data.get("negative_facts") or []
    if not isinstance(negatives, list) or not all(isinstance(t, str) for t in negatives):
        raise PersistenceFormatError(f"{where}: 'negative_facts' must be a list of strings")
    dropped = len(texts) - len(kept) - (1 if sentinel else 0)
    ignored = sorted(
        k for k in ("beta", "adaptive_beta", "repulsive", "beta_neg", "clamp_radius") if k in data
    )
    logger.info(
        "importing %s (mhn-ai-agent-memory 1.0): %d facts, %d negatives re-encoded; "
        "%d blank facts dropped; not carried over: %s",
        where,
        len(kept),
        len(negatives),
        dropped,
        ignored,
    )
    memory = cls(encoder, sentinel=bool(sentinel))
    if kept:
        ids = [i - offset for i, _ in kept]
        items = [t for _, t in kept]
        vectors = memory.encoder.encode_batch(items)
        memory._store.append(vectors, items, [{} for _ in items], ids=ids)
    kept_negatives = [t for t in negatives if t.strip()]
    if kept_negatives:
        vectors = memory.encoder.encode_batch(kept_negatives)
        memory._negatives.append(vectors, kept_negatives, [{} for _ in kept_negatives])
    return memory


# ----------------------------------------------------------------------------- JSON Lines


def export_jsonl(memory: HopfieldMemory, path: PathLike, *, vectors: bool = False) -> int:
    """Write the memory's facts as JSON Lines, atomically; returns how many facts were written.

    The first line is a header ``{"format": "hopfield-memory-jsonl", "version": 1, "encoder":
    {...}, "dim": ..., "namespace": ...}``; then one line per fact ``{"id", "text",
    "metadata"}``, plus ``"vector"`` (a list of floats, exact float32 values) when ``vectors``.
    """

    def write(tmp: Path) -> int:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            return write_jsonl(memory, fh, vectors=vectors)

    return atomic_write(Path(path), write)


def write_jsonl(memory: HopfieldMemory, fh: TextIO, *, vectors: bool = False) -> int:
    """Write the JSON Lines export of :func:`export_jsonl` to an open text stream (no atomic
    rename, no fsync: for pipes and standard output); returns how many facts were written."""
    header = {
        "format": JSONL_FORMAT,
        "version": 1,
        "encoder": memory.encoder.spec.to_dict(),
        "dim": memory.dim,
        "namespace": memory.namespace,
    }
    fh.write(json.dumps(header) + "\n")
    count = 0
    for fact in memory:
        line: dict[str, Any] = {"id": fact.id, "text": fact.text, "metadata": fact.metadata}
        if vectors:
            line["vector"] = memory._store.vector(fact.id).tolist()
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def import_jsonl(
    memory: HopfieldMemory,
    path: PathLike,
    *,
    use_vectors: bool | None = None,
    batch_size: int = 4096,
    progress: bool | None = None,
) -> list[int]:
    """Store the facts of a JSON Lines file (from :func:`export_jsonl`) into ``memory``.

    Vectors in the file are used when ``use_vectors`` is True, or when it is None and the file's
    encoder fingerprint equals the memory's; otherwise texts are encoded again (that is how facts
    move between encoders). Facts get new ids; text and metadata carry over. The whole file is
    checked before anything is stored. Returns the new ids in file order. ``progress`` shows a
    bar while storing (None: for 10,000+ facts when stderr is a terminal).
    """
    source = Path(path)
    where = describe(source)
    if not source.is_file():
        raise PersistenceNotFoundError(f"no JSON Lines file at {where}")
    texts: list[str] = []
    metas: list[Metadata] = []
    vecs: list[list[float]] = []
    header: dict[str, Any] | None = None
    with source.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise PersistenceFormatError(f"{where} line {lineno} is not JSON: {exc}") from None
            if not isinstance(item, dict):
                raise PersistenceFormatError(f"{where} line {lineno} is not a JSON object")
            if header is None and "format" in item:
                if item.get("format") != JSONL_FORMAT:
                    raise PersistenceFormatError(f"{where} is not a hopfield-memory export")
                if not isinstance(item.get("version"), int) or item["version"] > 1:
                    raise PersistenceFormatError(
                        f"{where} has export version {item.get('version')!r}; this library "
                        f"reads version 1"
                    )
                header = item
                continue
            text, meta = item.get("text"), item.get("metadata", {})
            if not isinstance(text, str) or not text.strip():
                raise PersistenceFormatError(f"{where} line {lineno} has no text")
            if not isinstance(meta, dict):
                raise PersistenceFormatError(f"{where} line {lineno}: metadata is not an object")
            texts.append(text)
            metas.append(meta)
            vec = item.get("vector")
            if vec is not None:
                vecs.append(vec)
    if use_vectors is None:
        same = header is not None and _same_encoder(header.get("encoder"), memory)
        use_vectors = same and len(vecs) == len(texts)
    if use_vectors and len(vecs) != len(texts):
        raise PersistenceFormatError(
            f"{where} has vectors for {len(vecs)} of {len(texts)} facts; "
            f"pass use_vectors=False to encode the texts again"
        )
    matrix: np.ndarray | None = None
    if use_vectors:
        try:
            matrix = np.asarray(vecs, dtype=np.float64).reshape(len(texts), memory.dim)
            as_unit_rows(matrix, dim=memory.dim)  # shape and finiteness, clear errors
        except (ValueError, TypeError) as exc:
            raise PersistenceFormatError(f"{where} has unusable vectors: {exc}") from None
    ids: list[int] = []
    with progress_bar(len(texts), "importing", progress) as advance:
        for start in range(0, len(texts), batch_size):
            end = start + batch_size
            if matrix is not None:
                ids += memory._store_exact(matrix[start:end], texts[start:end], metas[start:end])
            else:
                ids += memory.store_many(texts[start:end], metas[start:end], progress=False)
            advance(min(end, len(texts)) - start)
    return ids


def _same_encoder(spec: Any, memory: HopfieldMemory) -> bool:
    try:
        return EncoderSpec.from_dict(spec).fingerprint == memory.encoder.spec.fingerprint
    except (TypeError, KeyError, ValueError, AttributeError):
        return False
