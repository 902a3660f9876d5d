"""A memory larger than its hot layer: exact Hopfield over the hot facts, a cold tier behind.

Uses the exact numpy cold tier (no extra needed); `large_memory()` / `massive_memory()` put FAISS
tiers behind the same calls (`pip install 'mhn-ai-agent-memory[scale]'`).

Run: python examples/tiered_storage.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hopfield_memory import HopfieldMemory, TieredMemory


def main() -> None:
    mem = TieredMemory(max_hot=50, cold="exact")
    tickets = [f"Ticket {i} is assigned to team {i % 7} in region {i % 5}" for i in range(400)]
    mem.store_many(tickets)
    mem.store("The on-call phone number changed to extension 4471")
    print(f"{mem.num_facts} facts: {mem.num_hot} hot, {mem.num_cold} cold")

    # One softmax over hot facts + cold candidates + the sentinel: the same gate at any size.
    for cue in ["Ticket 17 team", "on-call phone extension", "office plant watering"]:
        report = mem.match_quality(cue)
        answer = report.best.text if report.best else f"None ({report.reason.value})"
        print(f"{cue!r} -> {answer}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiers.sqlite"
        mem.save(path)  # both tiers, one atomic snapshot in the memory file format
        again = TieredMemory.load(path)
        print("after reload:", again.query_or_none("on-call phone extension"))
        print(f"as a flat memory: {len(HopfieldMemory.load(path))} facts")


if __name__ == "__main__":
    main()
