"""Shared fixtures: small seeded data, never fixed temp paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hopfield_memory import HopfieldMemory

POSTGRES_ENV = "HOPFIELD_MEMORY_TEST_POSTGRES"
POSTGRES_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgres"
POSTGRES_NEEDS = (  # what `.ci/postgres start` needs already installed (tests never apt-install)
    Path("/usr/lib/postgresql/15/bin/postgres"),
    Path("/usr/share/postgresql/15/extension/vector.control"),
)

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


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """DSN of a PostgreSQL server with pgvector: ``$HOPFIELD_MEMORY_TEST_POSTGRES``, else one
    started by ``.ci/postgres`` in a temporary folder for this session, else the test skips."""
    dsn = os.environ.get(POSTGRES_ENV)
    if dsn:
        yield dsn
        return
    missing = [str(path) for path in POSTGRES_NEEDS if not path.is_file()]
    if missing:
        pytest.skip(
            f"no PostgreSQL server: set {POSTGRES_ENV} to a DSN, or install PostgreSQL 15 and "
            f"pgvector with `.ci/postgres install` (.ci/run does both); missing {missing}"
        )
    folder = tempfile.mkdtemp(prefix="hopfield-pg-")
    try:
        started = subprocess.run(
            [str(POSTGRES_SCRIPT), "start", folder], capture_output=True, text=True, timeout=120
        )
        if started.returncode != 0:
            pytest.skip(f"`.ci/postgres start` failed: {started.stderr.strip()[-400:]}")
        yield started.stdout.split()[-1]
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", folder], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
