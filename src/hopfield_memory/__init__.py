"""Associative memory for AI agents on the Modern Hopfield Network update.

>>> from hopfield_memory import HopfieldMemory
>>> mem = HopfieldMemory()
>>> _ = mem.store("The Eiffel Tower is in Paris")
>>> mem.query_or_none("Eiffel Tower Paris")
'The Eiffel Tower is in Paris'
"""

from .contradiction import Conflict, ConflictResult, ContradictionDetector, check_and_store
from .encoders import (
    Encoder,
    EncoderSpec,
    OnnxMiniLMEncoder,
    OpenAIEncoder,
    RandomIndexEncoder,
    SentenceTransformerEncoder,
    minilm_path,
)
from .errors import (
    ColdTierUnavailableError,
    DimensionMismatchError,
    EmptyMemoryError,
    EncoderCredentialsError,
    EncoderMismatchError,
    EncoderRequestError,
    EncoderUnavailableError,
    HopfieldMemoryError,
    InvalidInputError,
    InvalidTypeError,
    MissingExtraError,
    PersistenceFormatError,
    RepulsionDisabledError,
    UnknownIdError,
)
from .gate import AbstainReason, GatePolicy
from .memory import HopfieldMemory
from .multihop import Chain, chain_query, chain_query_with_confidence, chain_recall
from .presets import large_memory, massive_memory, medium_memory, small_memory
from .results import Diagnosis, MatchReport, Recall, Recommendation
from .store import StoredFact
from .tiered import TieredMemory

__version__ = "2.0.0.dev0"

__all__ = [
    "AbstainReason",
    "Chain",
    "ColdTierUnavailableError",
    "Conflict",
    "ConflictResult",
    "ContradictionDetector",
    "Diagnosis",
    "DimensionMismatchError",
    "EmptyMemoryError",
    "Encoder",
    "EncoderCredentialsError",
    "EncoderMismatchError",
    "EncoderRequestError",
    "EncoderSpec",
    "EncoderUnavailableError",
    "GatePolicy",
    "HopfieldMemory",
    "HopfieldMemoryError",
    "InvalidInputError",
    "InvalidTypeError",
    "MatchReport",
    "MissingExtraError",
    "OnnxMiniLMEncoder",
    "OpenAIEncoder",
    "PersistenceFormatError",
    "RandomIndexEncoder",
    "Recall",
    "Recommendation",
    "RepulsionDisabledError",
    "SentenceTransformerEncoder",
    "StoredFact",
    "TieredMemory",
    "UnknownIdError",
    "__version__",
    "chain_query",
    "chain_query_with_confidence",
    "chain_recall",
    "check_and_store",
    "large_memory",
    "massive_memory",
    "medium_memory",
    "minilm_path",
    "small_memory",
]
