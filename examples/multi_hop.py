"""Multi-hop recall: follow a question through several stored facts.

Run: python examples/multi_hop.py
"""

from __future__ import annotations

from hopfield_memory import HopfieldMemory, chain_recall


def main() -> None:
    mem = HopfieldMemory()
    mem.store_many(
        [
            "Alice lives in France",
            "The capital of France is Paris",
            "Paris hosts the Louvre museum",
            "Bob owns a red bicycle",
        ]
    )
    chain = chain_recall(mem, "which museum is in the capital where Alice lives", max_hops=4)
    for hop, fact in enumerate(chain.hops, start=1):
        print(f"hop {hop}: {fact.text!r} (id {fact.id}, weight {fact.weight:.2f})")
    print("stopped:", chain.stop_reason)


if __name__ == "__main__":
    main()
