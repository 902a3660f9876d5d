"""The one protocol every encoder backend follows, and the checks they share.

An encoder turns texts into unit-norm float32 rows. Empty or whitespace-only text becomes the zero
vector (it matches nothing). Each encoder describes itself with an :class:`EncoderSpec`; the spec's
``fingerprint`` is saved with every memory so that stored vectors are never read with vectors from
another model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidInputError, InvalidTypeError
from ..gate import GatePolicy


@dataclass(frozen=True)
class EncoderSpec:
    """What made a vector: enough to tell whether two encoders give the same geometry.

    Parameters
    ----------
    backend : str
        Backend name, e.g. ``"hashing"``, ``"sentence-transformers"``, ``"openai"``.
    model : str
        Model name or, for the hashing encoder, its feature recipe.
    dim : int
        Length of every vector.
    normalization : str
        How rows are scaled; ``"l2"`` for unit norm.
    version : str
        Version of whatever defines the geometry (library or recipe version).
    options : dict
        Any other setting that changes the vectors (seed, n-gram sizes...).
    """

    backend: str
    model: str
    dim: int
    normalization: str = "l2"
    version: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """A short stable hash of the spec: equal fingerprints mean interchangeable vectors."""
        payload = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-serialisable data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderSpec:
        """Rebuild a spec written by :meth:`to_dict`."""
        return cls(
            backend=str(data["backend"]),
            model=str(data["model"]),
            dim=int(data["dim"]),
            normalization=str(data.get("normalization", "l2")),
            version=str(data.get("version", "")),
            options=dict(data.get("options", {})),
        )


@runtime_checkable
class Encoder(Protocol):
    """Text to unit-norm float32 vectors, batch first.

    ``encode_batch(texts)`` returns an ndarray of shape ``(len(texts), dim)``; ``encode(text)``
    returns shape ``(dim,)``. Rows are unit norm; empty text gives the zero row.
    ``default_policy`` is the abstention policy that suits this encoder's similarity scale.
    """

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    @property
    def spec(self) -> EncoderSpec:
        """What makes the vectors; its fingerprint is saved with every memory."""
        ...

    @property
    def default_policy(self) -> GatePolicy:
        """Abstention thresholds suited to this encoder's similarity scale."""
        ...

    def encode(self, text: str) -> np.ndarray:
        """One text to a unit vector of shape (dim,); empty text gives zeros."""
        ...

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to unit rows, float32 of shape (len(texts), dim)."""
        ...


def check_texts(texts: Sequence[str] | str, *, what: str = "texts") -> list[str]:
    """Return ``texts`` as a list of str, or raise a clear error for anything else.

    A lone str is refused: iterating it would encode one character per row.
    """
    if isinstance(texts, str):
        raise InvalidTypeError(
            f"{what} must be a sequence of str, got a single str; wrap it: [text]"
        )
    try:
        items = list(texts)
    except TypeError:
        raise InvalidTypeError(
            f"{what} must be a sequence of str, got {type(texts).__name__}"
        ) from None
    if not all(map(str.__instancecheck__, items)):
        i, text = next((i, t) for i, t in enumerate(items) if not isinstance(t, str))
        raise InvalidTypeError(f"{what}[{i}] must be str, got {type(text).__name__}")
    return items


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row of ``vectors`` (n, dim) to unit L2 norm in place; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


def blank_rows(texts: Sequence[str]) -> np.ndarray:
    """Boolean mask (n,) of texts that are empty or whitespace only (they encode to zero)."""
    return np.fromiter((not t.strip() for t in texts), dtype=bool, count=len(texts))


def as_unit_rows(vectors: np.ndarray, *, dim: int, what: str = "vectors") -> np.ndarray:
    """Check an encoder's or caller's output: float32 C-contiguous (n, dim), finite, unit or zero.

    Raises :class:`InvalidInputError` naming the problem; never repairs silently beyond casting
    to float32 and re-normalising rows whose norm drifted by rounding.
    """
    arr = np.asarray(vectors)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InvalidInputError(f"{what} must have shape (n, {dim}), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidTypeError(f"{what} must be numeric, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise InvalidInputError(f"{what} contain NaN or infinity")
    return normalize_rows(out.copy() if out is arr else out)
