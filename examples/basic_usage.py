"""Store facts, ask for them back, and let the memory say "nothing" when nothing fits.

Run: python examples/basic_usage.py
"""

from __future__ import annotations

from hopfield_memory import HopfieldMemory


def main() -> None:
    mem = HopfieldMemory()  # offline hashing encoder, no model download
    ids = mem.store_many(
        [
            "The staging database lives on db-staging-02",
            "Deploys are frozen on Fridays after 15:00",
            "Alice owns the billing service",
        ],
        metadata=[{"source": "runbook"}, {"source": "policy"}, {"source": "org chart"}],
    )

    # Gate a decision on the memory: act only when a stored fact really matches.
    for cue in ["who owns billing", "staging database host", "office coffee machine"]:
        best = mem.recall_or_none(cue)
        if best is None:
            report = mem.match_quality(cue)
            print(f"{cue!r}: nothing stored fits ({report.reason.value})")
        else:
            print(f"{cue!r}: {best.text!r} (weight {best.weight:.2f}, from {best.metadata})")

    # Facts change: update in place (same id) or forget.
    mem.update(ids[2], "Bob owns the billing service")
    print(mem.query_or_none("who owns billing"))
    mem.forget(ids[1])
    print(len(mem), "facts left")


if __name__ == "__main__":
    main()
