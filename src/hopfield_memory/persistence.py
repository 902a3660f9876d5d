"""Snapshots: one versioned file format on SQLite (standard library), never pickle.

A snapshot is an SQLite database with two tables::

    meta(key TEXT PRIMARY KEY, value TEXT)   format, format_version, dim, encoder spec,
                                             policy, parameters, next_id (JSON values)
    facts(id INTEGER PRIMARY KEY, text TEXT, metadata TEXT (JSON), vector BLOB (float32 LE))

It is written to a temporary file beside the target, fsynced, then renamed over the target, so a
crash during ``save`` leaves the previous file intact. Reading opens the file read-only and checks
the magic, the format name and version, the dimension and the encoder fingerprint before anything
is built; a failed load changes nothing on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .encoders.base import Encoder, EncoderSpec
from .encoders.hashing import RandomIndexEncoder
from .errors import (
    EncoderMismatchError,
    HopfieldMemoryError,
    PersistenceFormatError,
)
from .gate import GatePolicy

if TYPE_CHECKING:
    from .memory import HopfieldMemory, PathLike

FORMAT_NAME = "hopfield-memory"
FORMAT_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE facts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL
);
"""


class SnapshotNotFoundError(HopfieldMemoryError, FileNotFoundError):
    """The snapshot path does not exist."""


def save_snapshot(memory: HopfieldMemory, path: PathLike) -> None:
    """Write ``memory`` to ``path`` atomically (temp file, fsync, rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    store = memory._store
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "dim": memory.dim,
        "encoder": memory.encoder.spec.to_dict(),
        "policy": memory.policy.to_dict(),
        "parameters": memory._parameters(),
        "next_id": store.next_id,
    }
    try:
        tmp.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(tmp)) as db:
            db.executescript(_SCHEMA)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
            )
            db.executemany(
                "INSERT INTO facts VALUES (?, ?, ?, ?)",
                (
                    (
                        fact_id,
                        store.text_at(row),
                        json.dumps(store.metadata_at(row)),
                        store.patterns[row].astype("<f4").tobytes(),
                    )
                    for row, fact_id in enumerate(store.ids.tolist())
                ),
            )
            db.commit()
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def load_snapshot(
    cls: type[HopfieldMemory], path: PathLike, encoder: Encoder | None
) -> HopfieldMemory:
    """Build a memory of type ``cls`` from the snapshot at ``path``."""
    source = Path(path)
    if not source.is_file():
        raise SnapshotNotFoundError(f"no snapshot at {str(source)!r}")
    with source.open("rb") as fh:
        if fh.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise PersistenceFormatError(
                f"{str(source)!r} is not a hopfield-memory snapshot (not an SQLite file)"
            )
    try:
        uri = f"{source.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            meta = _read_meta(db, source)
            rows = db.execute("SELECT id, text, metadata, vector FROM facts ORDER BY id").fetchall()
    except sqlite3.DatabaseError as exc:
        raise PersistenceFormatError(
            f"{str(source)!r} is damaged or not a snapshot: {exc}"
        ) from None

    dim = meta["dim"]
    spec = EncoderSpec.from_dict(meta["encoder"])
    if spec.dim != dim:
        raise PersistenceFormatError(f"encoder dim {spec.dim} differs from snapshot dim {dim}")
    encoder = _encoder_for(spec, encoder, source)
    params = meta["parameters"]
    memory = cls(
        encoder,
        beta=params["beta"],
        sentinel=params["sentinel"],
        num_steps=params["num_steps"],
        max_steps=params["max_steps"],
        tol=params["tol"],
        policy=GatePolicy.from_dict(meta["policy"]),
    )
    ids, texts, metas, blobs = [], [], [], []
    for fact_id, text, metadata, blob in rows:
        if not isinstance(blob, bytes) or len(blob) != 4 * dim:
            raise PersistenceFormatError(f"fact {fact_id} has a vector of the wrong size")
        ids.append(fact_id)
        texts.append(text)
        metas.append(json.loads(metadata))
        blobs.append(blob)
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim)
    if not np.isfinite(vectors).all():
        raise PersistenceFormatError(f"{str(source)!r} holds vectors with NaN or infinity")
    memory._store.append(vectors.astype(np.float32), texts, metas, ids=ids)
    memory._store.next_id = max(memory._store.next_id, int(meta["next_id"]))
    return memory


def _read_meta(db: sqlite3.Connection, source: Path) -> dict[str, Any]:
    try:
        raw = dict(db.execute("SELECT key, value FROM meta").fetchall())
        meta = {k: json.loads(v) for k, v in raw.items()}
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise PersistenceFormatError(
            f"{str(source)!r} is an SQLite file but not a hopfield-memory snapshot: {exc}"
        ) from None
    if meta.get("format") != FORMAT_NAME:
        raise PersistenceFormatError(f"{str(source)!r} is not a hopfield-memory snapshot")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PersistenceFormatError(
            f"{str(source)!r} has format version {version!r}; this library reads up to "
            f"{FORMAT_VERSION}. Upgrade mhn-ai-agent-memory to read it."
        )
    missing = {"dim", "encoder", "policy", "parameters", "next_id"} - meta.keys()
    if missing:
        raise PersistenceFormatError(f"{str(source)!r} lacks {sorted(missing)}")
    return meta


def _encoder_for(spec: EncoderSpec, encoder: Encoder | None, source: Path) -> Encoder:
    """The encoder to load with: the one given (same fingerprint) or a rebuilt hashing one."""
    if encoder is None:
        if spec.backend != "hashing":
            raise EncoderMismatchError(
                f"{str(source)!r} was saved with a {spec.backend} encoder ({spec.model}); "
                f"pass the same encoder: HopfieldMemory.load(path, encoder=...)"
            )
        encoder = RandomIndexEncoder(dim=spec.dim, seed=int(spec.options.get("seed", 0)))
    if encoder.spec.fingerprint != spec.fingerprint:
        raise EncoderMismatchError(
            f"{str(source)!r} was saved with encoder {spec.to_dict()}, but the encoder given is "
            f"{encoder.spec.to_dict()}; their vectors are not comparable"
        )
    return encoder


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a directory) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
