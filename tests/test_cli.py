"""The command line, run as a user would: a subprocess per call, exit codes, stdout vs stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")


def env(**extra: str) -> dict[str, str]:
    """The environment of a child: this checkout's package first, no inherited store path."""
    out = {k: v for k, v in os.environ.items() if k != "HOPFIELD_MEMORY_PATH"}
    out["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    out.update(extra)
    return out


def run(
    *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hopfield_memory", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        env=env(**(extra_env or {})),
    )


@pytest.fixture
def store(tmp_path: Path) -> str:
    path = str(tmp_path / "mem.db")
    result = run(
        "store",
        "--path",
        path,
        "The Eiffel Tower is in Paris",
        "Alice owns the billing service",
        "--metadata",
        '{"source": "test"}',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "1"]
    return path


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


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run().returncode == 2
    assert run("no-such-command").returncode == 2
    assert run("--version").stdout.startswith("hopfield-memory ")
    missing_path = run("query", "x")
    assert missing_path.returncode == 2
    assert "--path STORE is required" in missing_path.stderr
    assert run("query", "--path", str(tmp_path / "m.db"), "x", "--top-k", "0").returncode == 2
    assert run("forget", "--path", str(tmp_path / "m.db"), "abc").returncode == 2
    assert run("import", "--path", str(tmp_path / "m.db"), "f", "--format", "xml").returncode == 2
    bad_meta = run("store", "--path", str(tmp_path / "m.db"), "x", "--metadata", "[1]")
    assert bad_meta.returncode == 2 and "JSON object" in bad_meta.stderr
    assert not (tmp_path / "m.db").exists()  # no usage error creates a store
    assert "exit codes:" in run("--help").stdout


def test_store_and_query(store: str) -> None:
    result = run("query", "--path", store, "who owns billing")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Alice owns the billing service\n"
    assert result.stderr == ""


def test_query_or_none_abstains_with_exit_1(store: str) -> None:
    result = run("query", "--path", store, "--or-none", "office coffee machine")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no answer (no_overlap)" in result.stderr
    # without --or-none the best candidate is printed whatever the gate says
    plain = run("query", "--path", store, "office coffee machine")
    assert plain.returncode == 0 and plain.stdout.strip()


def test_query_explain_shows_weights_and_signals(store: str) -> None:
    result = run("query", "--path", store, "--or-none", "--explain", "Eiffel Tower Paris")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1. [id 0] weight=" in out and "similarity=" in out
    assert "2. [id 1]" in out
    assert "signals: max_similarity=" in out and "sentinel_weight=" in out
    assert "match: 'The Eiffel Tower is in Paris'" in out
    assert out.rstrip().endswith("answer: The Eiffel Tower is in Paris")
    refused = run("query", "--path", store, "--or-none", "--explain", "quantum chromodynamics")
    assert refused.returncode == 1
    assert "no answer: no stored fact is similar enough" in refused.stdout


def test_query_json(store: str) -> None:
    result = run("query", "--path", store, "--json", "--or-none", "who owns billing")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer"]["text"] == "Alice owns the billing service"
    assert data["answer"]["metadata"] == {"source": "test"}
    assert data["is_match"] is True and data["reason"] is None
    assert len(data["candidates"]) == 2 and "explanation" in data
    refused = run("query", "--path", store, "--json", "--or-none", "quantum chromodynamics")
    assert refused.returncode == 1
    data = json.loads(refused.stdout)
    assert data["answer"] is None and data["reason"] == "no_overlap"


def test_reading_commands_never_create_a_store(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    for args in (["query", "x"], ["stats"], ["export"], ["forget", "0"]):
        result = run(args[0], "--path", str(path), *args[1:])
        assert result.returncode == 3, (args, result.stderr)
        assert result.stderr.startswith("hopfield-memory: error: no memory file at")
        assert result.stdout == ""
    assert not path.exists()


def test_a_file_that_is_not_a_memory_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n" * 20)
    for command in (["stats"], ["store", "x"], ["query", "x"]):
        result = run(command[0], "--path", str(path), *command[1:])
        assert result.returncode == 3
        assert "hopfield-memory: error:" in result.stderr and "not a hopfield-memory" in (
            result.stderr
        )
    assert path.read_text() == "just some notes\n" * 20


def test_unknown_namespace_exits_3(store: str) -> None:
    result = run("query", "--path", store, "--namespace", "other", "x")
    assert result.returncode == 3 and "namespace 'other'" in result.stderr


def test_namespaces_are_separate(store: str) -> None:
    assert run("store", "--path", store, "--namespace", "bob", "Bob likes tea").returncode == 0
    assert run("query", "--path", store, "--namespace", "bob", "tea").stdout == "Bob likes tea\n"
    refused = run("query", "--path", store, "--or-none", "Bob likes tea")
    assert refused.returncode == 1


def test_path_from_environment(store: str) -> None:
    result = run("query", "who owns billing", extra_env={"HOPFIELD_MEMORY_PATH": store})
    assert result.returncode == 0 and result.stdout == "Alice owns the billing service\n"


def test_store_rejects_empty_text(tmp_path: Path) -> None:
    result = run("store", "--path", str(tmp_path / "m.db"), "   ")
    assert result.returncode == 4 and "needs text" in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_import_text_lines_with_progress(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    facts = tmp_path / "facts.txt"
    facts.write_text("The cat sleeps on the sofa\n\n   \nThe dog barks at the mailman  \n")
    result = run("import", "--path", path, str(facts), "--progress")
    assert result.returncode == 0, result.stderr
    assert "imported 2 facts (ids 0..1)" in result.stderr
    assert run("query", "--path", path, "dog barks").stdout == "The dog barks at the mailman\n"
    as_json = run("import", "--path", path, "-", "--json", stdin="A third fact\n")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["ids"] == [2]
    assert "encoding" not in as_json.stderr  # no terminal, no --progress: no bar
    many = tmp_path / "many.txt"
    many.write_text("".join(f"fact number {i} about item {i * 7}\n" for i in range(5000)))
    big = run("import", "--path", path, str(many), "--progress")
    assert big.returncode == 0, big.stderr
    assert "encoding" in big.stderr  # batches of 4096 texts advance the bar
    assert "imported 5000 facts (ids 3..5002)" in big.stderr


def test_import_bad_input_exits_4_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    assert run("import", "--path", str(path), str(tmp_path / "nope.txt")).returncode == 4
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n")
    assert run("import", "--path", str(path), str(blank)).returncode == 4
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run("import", "--path", str(path), str(binary))
    assert result.returncode == 4 and "not UTF-8" in result.stderr
    assert not path.exists()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\n{"text": \n')
    result = run("import", "--path", str(path), str(broken))
    assert result.returncode == 4 and "line 2 is not JSON" in result.stderr
    assert json.loads(run("stats", "--path", str(path), "--json").stdout)["count"] == 0


def test_export_and_import_jsonl_round_trip(store: str, tmp_path: Path) -> None:
    out = tmp_path / "facts.jsonl"
    result = run("export", "--path", store, str(out), "--vectors")
    assert result.returncode == 0, result.stderr
    assert "exported 2 facts" in result.stderr
    to_stdout = run("export", "--path", store)
    assert to_stdout.returncode == 0
    lines = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert lines[0]["format"] == "hopfield-memory-jsonl"
    assert [line["text"] for line in lines[1:]] == [
        "The Eiffel Tower is in Paris",
        "Alice owns the billing service",
    ]
    other = str(tmp_path / "other.db")
    imported = run("import", "--path", other, str(out), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["count"] == 2
    answer = run("query", "--path", other, "--json", "who owns billing")
    assert json.loads(answer.stdout)["answer"]["metadata"] == {"source": "test"}


def test_stats(store: str) -> None:
    result = run("stats", "--path", store)
    assert result.returncode == 0, result.stderr
    assert "facts:       2" in result.stdout and "fingerprint:" in result.stdout
    data = json.loads(run("stats", "--path", store, "--json").stdout)
    assert data["count"] == 2 and data["dim"] == 512 and data["namespace"] == "default"
    assert data["encoder"]["backend"] == "hashing" and data["file_bytes"] > 0
    assert data["policy"]["min_similarity"] == pytest.approx(0.3)


def test_forget(store: str) -> None:
    unknown = run("forget", "--path", store, "0", "99")
    assert unknown.returncode == 4 and "no fact with id 99" in unknown.stderr
    result = run("forget", "--path", store, "0", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["forgotten"][0]["text"] == "The Eiffel Tower is in Paris"
    assert json.loads(run("stats", "--path", store, "--json").stdout)["count"] == 1
    assert run("query", "--path", store, "--or-none", "Eiffel Tower Paris").returncode == 1


def test_mcp_without_the_sdk_exits_5(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "mcp.py").write_text("raise ImportError('mcp is blocked for this test')\n")
    path = tmp_path / "m.db"
    result = subprocess.run(
        [sys.executable, "-m", "hopfield_memory", "mcp", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(PYTHONPATH=os.pathsep.join([str(blocker), SRC])),
    )
    assert result.returncode == 5, result.stderr
    assert "pip install 'mhn-ai-agent-memory[mcp]'" in result.stderr
    assert not path.exists()
