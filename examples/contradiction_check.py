"""Check a new fact against memory before storing it: contradictions and duplicates.

Run: python examples/contradiction_check.py
"""

from __future__ import annotations

from hopfield_memory import HopfieldMemory, check_and_store


def main() -> None:
    mem = HopfieldMemory()
    mem.store_many(["The capital of France is Paris", "Deploys are frozen on Fridays"])

    fact_id, result = check_and_store(mem, "The capital of France is Lyon")
    print("stored:", fact_id)  # None: the clash is reported, nothing stored
    print(result.explanation)

    fact_id, result = check_and_store(mem, "deploys are frozen on Fridays.")
    print("duplicate of:", fact_id, [c.text for c in result.duplicates])

    fact_id, _ = check_and_store(mem, "The capital of France is Lyon", auto_resolve=True)
    print("replaced fact", fact_id, "->", mem.get(fact_id).text)


if __name__ == "__main__":
    main()
