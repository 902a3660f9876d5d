"""Every script in examples/ runs, so the examples cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_basic_usage_output() -> None:
    script = Path(__file__).parent.parent / "examples" / "basic_usage.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stdout
    assert "'who owns billing': 'Alice owns the billing service'" in out
    assert "'office coffee machine': nothing stored fits (no_overlap)" in out
    assert "Bob owns the billing service" in out
    assert "2 facts left" in out


def test_semantic_example_finds_synonyms() -> None:
    pytest.importorskip("onnxruntime")
    script = Path(__file__).parent.parent / "examples" / "semantic_memory.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stdout
    assert "'where does the canine sleep at night' -> The dog sleeps in the kitchen" in out
    assert "'who won' -> None" in out


def test_repulsion_example_refuses_the_declared_negative() -> None:
    script = Path(__file__).parent.parent / "examples" / "repulsion_and_diagnose.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stdout
    assert "answer: None | reason: negative_match" in out
    assert "answer: Prod deploys need two reviews" in out
    assert "recommendation:" in out
