"""Shared fixtures: small seeded data, never fixed temp paths."""

from __future__ import annotations

import numpy as np
import pytest

from hopfield_memory import HopfieldMemory

FACTS = [
    "The Eiffel Tower is in Paris",
    "Alice is a mathematician who works on topology",
    "Bob plays the violin in the city orchestra",
    "The capital of Japan is Tokyo",
    "Water boils at 100 degrees Celsius at sea level",
    "Python was created by Guido van Rossum",
    "Mount Everest is the highest mountain on Earth",
    "The server room door code is changed every Monday",
]


@pytest.fixture
def facts() -> list[str]:
    return list(FACTS)


@pytest.fixture
def mem(facts: list[str]) -> HopfieldMemory:
    memory = HopfieldMemory()
    memory.store_many(facts, [{"n": i} for i in range(len(facts))])
    return memory


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """n random unit rows of length dim, float32."""
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
