"""Encoders: one module per backend behind the :class:`Encoder` protocol."""

from .base import Encoder, EncoderSpec
from .hashing import RandomIndexEncoder

__all__ = ["Encoder", "EncoderSpec", "RandomIndexEncoder"]
