"""The command line, run as a user would: a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hopfield_memory", *args], capture_output=True, text=True, timeout=60
    )


def test_demo_answers_and_abstains_with_reason() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "-> 'The Eiffel Tower is in Paris'" in result.stdout
    assert "-> None (abstained: no_overlap)" in result.stdout
    assert "no model download" in result.stdout


def test_demo_json() -> None:
    result = run("demo", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    answers = {a["cue"]: a for a in data["answers"]}
    assert answers["capital of Japan"]["is_match"] is True
    assert answers["capital of Japan"]["candidates"][0]["text"] == "The capital of Japan is Tokyo"
    refused = answers["quantum chromodynamics lecture notes"]
    assert refused["is_match"] is False and refused["reason"] == "no_overlap"


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("no-such-command").returncode == 2
    assert run("--version").stdout.startswith("hopfield-memory ")
