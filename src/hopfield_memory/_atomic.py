"""Crash-safe file writes and versioned JSON manifests, shared by every writer in the package.

A write goes to a temporary file beside the target, is fsynced, renamed over the target, and the
directory is fsynced: a crash at any moment leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .errors import PersistenceFormatError

T = TypeVar("T")


def fsync_path(path: Path) -> None:
    """Flush ``path`` (a file or a directory) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(target: Path, write: Callable[[Path], T]) -> T:
    """Call ``write(tmp)`` on a temporary path beside ``target``, fsync it, rename it over
    ``target`` and fsync the directory; returns what ``write`` returned. On failure the old
    ``target`` is untouched and no temporary file (nor an SQLite ``-journal``) is left."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    leftovers = (tmp, Path(f"{tmp}-journal"))
    try:
        for path in leftovers:
            path.unlink(missing_ok=True)
        result = write(tmp)
        fsync_path(tmp)
        os.replace(tmp, target)
        fsync_path(target.parent)
        return result
    finally:
        for path in leftovers:
            path.unlink(missing_ok=True)


def read_manifest(path: Path, *, format_name: str, max_version: int, what: str) -> dict[str, Any]:
    """The JSON manifest at ``path`` if it names ``format_name`` at a version this library
    reads (at most ``max_version``); otherwise a :class:`PersistenceFormatError` saying why."""
    if not path.is_file():
        raise PersistenceFormatError(f"{str(path.parent)!r} holds no {what} ({path.name})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PersistenceFormatError(f"{str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != format_name:
        raise PersistenceFormatError(f"{str(path)!r} is not a {what} manifest")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > max_version:
        raise PersistenceFormatError(
            f"{str(path)!r} has format version {version!r}; this library reads up to "
            f"{max_version}. Upgrade mhn-ai-agent-memory to read it."
        )
    return meta
