"""Every script in examples/ runs, so the examples cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
SRC = str(Path(__file__).resolve().parent.parent / "src")
# Examples import this checkout's package, whatever else is installed.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p),
}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_basic_usage_output() -> None:
    script = Path(__file__).parent.parent / "examples" / "basic_usage.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=ENV
    ).stdout
    assert "'who owns billing': 'Alice owns the billing service'" in out
    assert "'office coffee machine': nothing stored fits (no_overlap)" in out
    assert "Bob owns the billing service" in out
    assert "2 facts left" in out


def test_semantic_example_finds_synonyms() -> None:
    pytest.importorskip("onnxruntime")
    script = Path(__file__).parent.parent / "examples" / "semantic_memory.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=ENV
    ).stdout
    assert "'where does the canine sleep at night' -> The dog sleeps in the kitchen" in out
    assert "'who won' -> None" in out


def test_repulsion_example_refuses_the_declared_negative() -> None:
    script = Path(__file__).parent.parent / "examples" / "repulsion_and_diagnose.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=ENV
    ).stdout
    assert "answer: None | reason: negative_match" in out
    assert "answer: Prod deploys need two reviews" in out
    assert "recommendation:" in out


def test_mcp_client_session_example() -> None:
    pytest.importorskip("mcp")
    script = Path(__file__).parent.parent / "examples" / "mcp_client_session.py"
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=ENV
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "tools: store, store_many, retrieve, query_or_none" in out
    assert "'who owns billing': 'Alice owns the billing service'" in out
    assert "'office coffee machine': the memory does not know (no_overlap)" in out
    assert "bad arguments are a tool error: True" in out
    assert "facts after a restart: 3" in out


def test_command_line_example_shows_exit_codes() -> None:
    script = Path(__file__).parent.parent / "examples" / "command_line.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=ENV
    ).stdout
    assert "query 'who owns billing' -> exit 0: Alice owns the billing service" in out
    assert "query 'office coffee machine' -> exit 1" in out
    assert "stats on a missing store -> exit 3" in out
