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
    RepulsionDisabledError,
    UnknownIdError,
)
from .gate import AbstainReason, GatePolicy
from .memory import EmptyMemoryError, HopfieldMemory
from .results import Diagnosis, MatchReport, Recall, Recommendation
from .store import StoredFact

__version__ = "2.0.0.dev0"

__all__ = [
    "AbstainReason",
    "Diagnosis",
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
    "Recommendation",
    "RepulsionDisabledError",
    "StoredFact",
    "UnknownIdError",
    "__version__",
]
