"""The `hopfield-memory` command as a shell script would use it: exit codes and --json.

Run: python examples/command_line.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import hopfield_memory

# The command from the same copy of the package as this script (matters in a source checkout).
PACKAGE_ROOT = str(Path(hopfield_memory.__file__).resolve().parent.parent)


def hm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hopfield_memory", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": PACKAGE_ROOT},
        timeout=60,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "agent.db")
        notes = Path(tmp) / "notes.txt"
        notes.write_text("Alice owns the billing service\nDeploys are frozen on Fridays\n")
        print("import:", hm("import", "--path", store, str(notes)).stderr.strip())

        answer = hm("query", "--path", store, "--or-none", "who owns billing")
        print(f"query 'who owns billing' -> exit {answer.returncode}: {answer.stdout.strip()}")

        refused = hm("query", "--path", store, "--or-none", "office coffee machine")
        print(
            f"query 'office coffee machine' -> exit {refused.returncode}: {refused.stderr.strip()}"
        )

        report = json.loads(hm("query", "--path", store, "--json", "deploy freeze").stdout)
        print(
            "--json answer:", report["answer"]["text"], f"(weight {report['answer']['weight']:.2f})"
        )

        missing = hm("stats", "--path", str(Path(tmp) / "typo.db"))
        print(f"stats on a missing store -> exit {missing.returncode}: {missing.stderr.strip()}")


if __name__ == "__main__":
    main()
