"""Associative memory for AI agents on the Modern Hopfield Network update.

>>> from hopfield_memory import HopfieldMemory
>>> mem = HopfieldMemory()
>>> _ = mem.store("The Eiffel Tower is in Paris")
>>> mem.query_or_none("Eiffel Tower Paris")
'The Eiffel Tower is in Paris'
"""

from .encoders import Encoder, EncoderSpec, RandomIndexEncoder
from .errors import (
    DimensionMismatchError,
    EncoderMismatchError,
    HopfieldMemoryError,
    InvalidInputError,
    InvalidTypeError,
    MissingExtraError,
    PersistenceFormatError,
    UnknownIdError,
)
from .gate import AbstainReason, GatePolicy
from .memory import EmptyMemoryError, HopfieldMemory
from .presets import large_memory, massive_memory, medium_memory, small_memory
from .results import MatchReport, Recall
from .store import StoredFact
from .tiered import TieredMemory

__version__ = "2.0.0.dev0"

__all__ = [
    "AbstainReason",
    "DimensionMismatchError",
    "EmptyMemoryError",
    "Encoder",
    "EncoderMismatchError",
    "EncoderSpec",
    "GatePolicy",
    "HopfieldMemory",
    "HopfieldMemoryError",
    "InvalidInputError",
    "InvalidTypeError",
    "MatchReport",
    "MissingExtraError",
    "PersistenceFormatError",
    "RandomIndexEncoder",
    "Recall",
    "StoredFact",
    "TieredMemory",
    "UnknownIdError",
    "__version__",
    "large_memory",
    "massive_memory",
    "medium_memory",
    "small_memory",
]
