"""Four documented presets, from a hundred facts to millions.

=================  ================  ===================================================  ======
preset             returns           defaults                                             facts
=================  ================  ===================================================  ======
``small_memory``   HopfieldMemory    hashing encoder dim 256, beta 20                     ~100
``medium_memory``  HopfieldMemory    hashing encoder dim 512, beta 20                     ~10k
``large_memory``   TieredMemory      dim 512, max_hot 10,000, cold ``faiss-flat`` (exact  ~100k
                                     FAISS), cold_top_k 32
``massive_memory`` TieredMemory      dim 384, max_hot 4,096, cold ``faiss-ivf`` (IVF,    ~1M+
                                     8-bit codes, nlist 2048, nprobe 32, exact re-score),
                                     cold_top_k 32
=================  ================  ===================================================  ======

Every preset takes an ``encoder`` (or ``dim=`` for the default one), any constructor option to
override and, for the tiered ones, a ``path``: the memory file both tiers live in, opened with
:meth:`TieredMemory.open` (durable: every write is committed before the call returns; opening an
existing file reads its facts back). Without a path the memory lives in RAM only; no preset ever
writes to a shared temporary folder. ``large_memory`` and ``massive_memory`` need
``pip install 'mhn-ai-agent-memory[scale]'`` and raise MissingExtraError without it.
"""

from __future__ import annotations

from typing import Any

from .encoders.base import Encoder
from .encoders.hashing import RandomIndexEncoder
from .memory import HopfieldMemory, PathLike
from .tiered import TieredMemory

SMALL_CAPACITY = 100
MEDIUM_CAPACITY = 10_000
LARGE_CAPACITY = 100_000
MASSIVE_CAPACITY = 1_000_000

LARGE_MAX_HOT = 10_000
MASSIVE_MAX_HOT = 4_096
MASSIVE_IVF = {"nlist": 2048, "nprobe": 32}


def small_memory(encoder: Encoder | None = None, **options: Any) -> HopfieldMemory:
    """A flat memory for tools and single-task agents (about 100 facts)."""
    return HopfieldMemory(_encoder(encoder, options, 256), **{"beta": 20.0, **options})


def medium_memory(encoder: Encoder | None = None, **options: Any) -> HopfieldMemory:
    """A flat memory for conversational agents and sessions (about 10,000 facts)."""
    return HopfieldMemory(_encoder(encoder, options, 512), **{"beta": 20.0, **options})


def large_memory(
    encoder: Encoder | None = None, *, path: PathLike | None = None, **options: Any
) -> TieredMemory:
    """Hot layer of 10,000 facts over an exact FAISS flat cold tier (about 100,000 facts)."""
    defaults: dict[str, Any] = {
        "beta": 20.0,
        "max_hot": LARGE_MAX_HOT,
        "cold": "faiss-flat",
        "cold_top_k": 32,
    }
    return _tiered(_encoder(encoder, options, 512), path, {**defaults, **options})


def massive_memory(
    encoder: Encoder | None = None, *, path: PathLike | None = None, **options: Any
) -> TieredMemory:
    """Hot layer of 4,096 facts over an IVF cold tier (a million facts and more).

    The IVF index trains once the cold tier holds ``40 * nlist`` vectors (81,920); before that
    the cold tier searches exactly.
    """
    defaults: dict[str, Any] = {
        "beta": 20.0,
        "max_hot": MASSIVE_MAX_HOT,
        "cold": "faiss-ivf",
        "cold_options": dict(MASSIVE_IVF),
        "cold_top_k": 32,
    }
    return _tiered(_encoder(encoder, options, 384), path, {**defaults, **options})


def _tiered(encoder: Encoder, path: PathLike | None, options: dict[str, Any]) -> TieredMemory:
    """In RAM without a path; else bound to the durable file at ``path``."""
    if path is None:
        return TieredMemory(encoder, **options)
    return TieredMemory.open(path, encoder=encoder, **options)


def _encoder(encoder: Encoder | None, options: dict[str, Any], dim: int) -> Encoder:
    """The encoder given, or the hashing encoder of ``options.pop("dim")`` (else ``dim``)."""
    if encoder is not None:
        return encoder
    return RandomIndexEncoder(dim=int(options.pop("dim", dim)))
