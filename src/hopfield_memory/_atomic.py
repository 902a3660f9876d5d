"""Crash-safe file writes, shared by every writer in the package (snapshots, JSON Lines).

A write goes to a temporary file beside the target, is fsynced, renamed over the target, and the
directory is fsynced: a crash at any moment leaves either the old file or the new one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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
