"""Encoders: one module per backend behind the :class:`Encoder` protocol.

Importing a backend module is cheap: heavy libraries load on first encode, and a missing one
raises :class:`~hopfield_memory.errors.MissingExtraError` naming the extra to install.
"""

from .base import Encoder, EncoderSpec
from .hashing import RandomIndexEncoder
from .onnx_minilm import OnnxMiniLMEncoder
from .openai import OpenAIEncoder
from .sentence_transformer import SentenceTransformerEncoder, minilm_path

__all__ = [
    "Encoder",
    "EncoderSpec",
    "OnnxMiniLMEncoder",
    "OpenAIEncoder",
    "RandomIndexEncoder",
    "SentenceTransformerEncoder",
    "minilm_path",
]
