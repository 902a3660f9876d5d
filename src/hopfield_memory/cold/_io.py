"""Array and JSON files of the cold tiers and TieredMemory, written with :mod:`.._atomic`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._atomic import atomic_write
from ..errors import PersistenceFormatError

MANIFEST_NAME = "cold.json"


def save_array(target: Path, array: np.ndarray) -> None:
    """``np.save`` atomically (no pickles)."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            _save(fh, array)

    atomic_write(target, write)


def _save(fh: BinaryIO, array: np.ndarray) -> None:
    np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def load_array(source: Path, dtype: type, shape_tail: tuple[int, ...] = ()) -> np.ndarray:
    """``np.load`` with ``allow_pickle=False``, checking dtype and trailing shape."""
    try:
        array = np.load(source, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise PersistenceFormatError(f"cannot read {str(source)!r}: {exc}") from None
    if array.dtype != dtype or array.shape[1:] != shape_tail:
        raise PersistenceFormatError(
            f"{str(source)!r} holds {array.dtype} {array.shape}, expected {np.dtype(dtype)} "
            f"(n, {', '.join(map(str, shape_tail))})"
        )
    return array


def save_json(target: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically."""

    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")

    atomic_write(target, write)
