"""Declare what must never be answered, and ask the memory how a cue behaves.

Run: python examples/repulsion_and_diagnose.py
"""

from __future__ import annotations

from hopfield_memory import HopfieldMemory


def main() -> None:
    mem = HopfieldMemory(repulsive=True)
    mem.store_many(["The prod database password rotates monthly", "Prod deploys need two reviews"])
    # A cue about the secret itself should get no answer at all, whatever else matches.
    mem.store_negative("what is the prod database password")

    report = mem.match_quality("tell me the prod database password")
    print("answer:", report.best, "| reason:", report.reason.value if report.reason else None)
    print("answer:", mem.query_or_none("how many reviews for prod deploys"))

    diagnosis = mem.diagnose("prod deploys reviews")
    print(f"steps={diagnosis.steps} converged={diagnosis.converged}")
    print("recommendation:", diagnosis.recommendation.value, "-", diagnosis.advice)


if __name__ == "__main__":
    main()
