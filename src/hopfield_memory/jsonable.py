"""Plain JSON-ready views of results, shared by the command line (``--json``) and the MCP server.

Every function returns dicts, lists, strings, numbers, booleans and None only, so the output of
``hopfield-memory query --json`` and the MCP ``match_quality`` tool have the same shape.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contradiction import ConflictResult
    from .memory import HopfieldMemory
    from .multihop import Chain
    from .results import MatchReport, Recall
    from .store import StoredFact


def fact_dict(fact: StoredFact) -> dict[str, Any]:
    """``{"id", "text", "metadata"}`` of a stored fact."""
    return {"id": fact.id, "text": fact.text, "metadata": fact.metadata}


def recall_dict(recall: Recall) -> dict[str, Any]:
    """``{"id", "text", "weight", "similarity", "metadata"}`` of a fact as it answered a cue."""
    return {
        "id": recall.id,
        "text": recall.text,
        "weight": float(recall.weight),
        "similarity": float(recall.similarity),
        "metadata": recall.metadata,
    }


def report_dict(report: MatchReport, cue: str | None = None) -> dict[str, Any]:
    """The gate's decision for one cue: ``answer`` (a recall, or None when it abstains), the
    documented signals, ``reason``, ``candidates`` (with metadata), ``explanation`` and the
    ``policy`` thresholds."""
    out: dict[str, Any] = {} if cue is None else {"cue": cue}
    best = report.best
    out["answer"] = None if best is None else recall_dict(best)
    out.update(report.as_dict())
    out["candidates"] = [recall_dict(c) for c in report.candidates]
    out["explanation"] = report.explanation
    out["policy"] = dataclasses.asdict(report.policy)
    return out


def chain_dict(chain: Chain, question: str) -> dict[str, Any]:
    """The hops of a multi-hop query, in order, and why it stopped."""
    return {
        "question": question,
        "hops": [recall_dict(hop) for hop in chain.hops],
        "texts": chain.texts,
        "stop_reason": chain.stop_reason,
    }


def conflict_dict(fact_id: int | None, result: ConflictResult) -> dict[str, Any]:
    """What ``check_and_store`` did: ``action`` is "stored", "duplicate" (nothing stored, ``id``
    is the fact that already says it), "contradiction" (nothing stored, ``id`` is None) or
    "replaced" (the contradicted fact ``id`` now holds the new text)."""
    if result.duplicates:
        action = "duplicate"
    elif result.contradictions:
        action = "contradiction" if fact_id is None else "replaced"
    else:
        action = "stored"
    return {
        "id": fact_id,
        "action": action,
        "stored": action in ("stored", "replaced"),
        "conflicts": [
            {
                "id": c.id,
                "text": c.text,
                "similarity": float(c.similarity),
                "kind": c.kind,
                "stored_words": list(c.stored_words),
                "new_words": list(c.new_words),
            }
            for c in result.conflicts
        ],
        "explanation": result.explanation,
    }


def stats_dict(memory: HopfieldMemory) -> dict[str, Any]:
    """Counts, encoder, gate policy, parameters and (for a durable memory) the file's size."""
    spec = memory.encoder.spec
    out: dict[str, Any] = {
        "count": len(memory),
        "negatives": memory.num_negatives,
        "dim": memory.dim,
        "namespace": memory.namespace,
        "encoder": spec.to_dict(),
        "fingerprint": spec.fingerprint,
        "policy": dataclasses.asdict(memory.policy),
        "parameters": {
            "beta": memory.beta,
            "sentinel": memory.sentinel,
            "num_steps": memory.num_steps,
            "max_steps": memory.max_steps,
            "tol": memory.tol,
            "repulsive": memory.repulsive,
        },
        "path": memory.path,
    }
    if memory.path is not None:
        out["file_bytes"] = _size(memory.path)
        out["wal_bytes"] = _size(memory.path + "-wal")
    return out


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
