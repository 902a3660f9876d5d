"""The ``hopfield-memory`` command line.

``hopfield-memory demo`` stores a small built-in fact set with the default (offline) encoder,
answers cues, and shows an abstention with its reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .memory import HopfieldMemory

DEMO_FACTS = (
    "The Eiffel Tower is in Paris",
    "Alice is a mathematician who works on topology",
    "Bob plays the violin in the city orchestra",
    "The capital of Japan is Tokyo",
    "Water boils at 100 degrees Celsius at sea level",
    "Python was created by Guido van Rossum",
    "Mount Everest is the highest mountain on Earth",
    "The server room door code is changed every Monday",
)
DEMO_CUES = (
    "Eiffel Tower Paris",
    "who works on topology",
    "capital of Japan",
    "highest mountain on earth",
    "Pariss eifel towr",
    "quantum chromodynamics lecture notes",
    "what will the weather be tomorrow",
)


def _demo(args: argparse.Namespace) -> int:
    mem = HopfieldMemory()
    mem.store_many(list(DEMO_FACTS))
    reports = mem.match_quality_many(list(DEMO_CUES), top_k=2)
    if args.json:
        out = [{"cue": cue, **r.as_dict()} for cue, r in zip(DEMO_CUES, reports, strict=True)]
        print(json.dumps({"facts": list(DEMO_FACTS), "answers": out}, indent=2))
        return 0
    print(f"Stored {len(mem)} facts with {mem.encoder!r} (offline, no model download).\n")
    for cue, report in zip(DEMO_CUES, reports, strict=True):
        print(f"cue: {cue!r}")
        if report.best is not None:
            print(f"  -> {report.best.text!r}  weight={report.best.weight:.3f}")
        else:
            reason = report.reason.value if report.reason else "?"
            print(f"  -> None (abstained: {reason})")
        print(f"     {report.explanation}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hopfield-memory",
        description="Associative memory for AI agents (Modern Hopfield Networks).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="store a built-in fact set and answer cues, offline")
    demo.add_argument("--json", action="store_true", help="print the answers as JSON")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hopfield-memory`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
