"""Every script in examples/ runs, once, so the examples cannot rot; some outputs are checked."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
SRC = str(EXAMPLES_DIR.parent / "src")
# Examples import this checkout's package, whatever else is installed.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p),
}

# What some examples must print (the script must also exit 0 and print something).
EXPECTED = {
    "basic_usage.py": [
        "'who owns billing': 'Alice owns the billing service'",
        "'office coffee machine': nothing stored fits (no_overlap)",
        "Bob owns the billing service",
        "2 facts left",
    ],
    "semantic_memory.py": [
        "'where does the canine sleep at night' -> The dog sleeps in the kitchen",
        "'who won' -> None",
    ],
    "repulsion_and_diagnose.py": [
        "answer: None | reason: negative_match",
        "answer: Prod deploys need two reviews",
        "recommendation:",
    ],
    "mcp_client_session.py": [
        "tools: store, store_many, retrieve, query_or_none",
        "'who owns billing': 'Alice owns the billing service'",
        "'office coffee machine': the memory does not know (no_overlap)",
        "bad arguments are a tool error: True",
        "facts after a restart: 3",
    ],
    "command_line.py": [
        "query 'who owns billing' -> exit 0: Alice owns the billing service",
        "query 'office coffee machine' -> exit 1",
        "stats on a missing store -> exit 3",
    ],
    "tiered_storage.py": [
        "'on-call phone extension' -> The on-call phone number changed to extension 4471",
        "'office plant watering' -> None (no_overlap)",
        "after reload: The on-call phone number changed to extension 4471",
        "as a flat memory: 401 facts",
    ],
}
NEEDS = {"semantic_memory.py": "onnxruntime", "mcp_client_session.py": "mcp"}


@functools.cache
def run(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / name)],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_and_prints_what_it_promises(script: Path) -> None:
    if script.name in NEEDS:
        pytest.importorskip(NEEDS[script.name])
    result = run(script.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    for line in EXPECTED.get(script.name, []):
        assert line in result.stdout


def test_every_checked_example_exists() -> None:
    assert set(EXPECTED) <= {p.name for p in EXAMPLES}
