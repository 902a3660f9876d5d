"""The MCP server: one durable memory offered as tools to MCP clients (agents, Claude Desktop).

Run it with ``hopfield-memory mcp --path STORE [--namespace NS]``; it speaks MCP over stdio. The
server opens ``STORE`` once with :meth:`HopfieldMemory.open` (created if missing) and answers
every tool from that handle:

* **Durable and shared.** Every write tool returns after its rows are committed to the SQLite
  file (``synchronous=FULL``), so an acknowledged ``store`` survives a crash of the server. Several
  servers (one per agent) may serve the same path: each read first picks up what the others
  committed.
* **Never dies from input.** Arguments are checked against the advertised JSON schema (strict
  types, ranges, lengths) and again by the library; a bad call comes back as a tool error
  (``is_error``) with a message saying what was expected, and the server keeps serving.
* **No file access beyond the store.** No tool takes a path; the only file touched is ``STORE``
  (and SQLite's ``-wal``/``-shm`` files beside it).
* **Light import.** The ``mcp`` SDK is imported when the server is built, not when this module
  is; without it, :class:`~hopfield_memory.errors.MissingExtraError` names the extra to install.

Tools (results are JSON objects; texts come back with ids, weights, similarities, metadata):
``store``, ``store_many``, ``retrieve``, ``query_or_none``, ``match_quality``, ``get``,
``forget``, ``update``, ``list``, ``count``, ``stats``, ``chain`` (multi-hop recall) and
``check_and_store`` (store unless it duplicates or contradicts a stored fact).
"""

# No ``from __future__ import annotations`` here: the SDK reads the tool signatures at run time
# to build their JSON schemas, and the annotations use names imported inside build_server.

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from . import jsonable
from .contradiction import check_and_store
from .errors import HopfieldMemoryError, missing_extra
from .memory import HopfieldMemory, PathLike
from .multihop import chain_recall

logger = logging.getLogger(__name__)

SERVER_NAME = "hopfield-memory"
MAX_TEXT_CHARS = 100_000  # per fact or cue
MAX_BATCH = 10_000  # texts per store_many, ids per forget
MAX_TOP_K = 100
MAX_LIST = 1_000
MAX_HOPS = 10

TOOL_NAMES = (
    "store",
    "store_many",
    "retrieve",
    "query_or_none",
    "match_quality",
    "get",
    "forget",
    "update",
    "list",
    "count",
    "stats",
    "chain",
    "check_and_store",
)

INSTRUCTIONS = (
    "An associative memory of short text facts (Modern Hopfield Network). Store facts with "
    "`store`; ask with `query_or_none`, which returns answer=null when nothing stored fits the "
    "cue: treat that as 'the memory does not know', not as a failure. `match_quality` explains "
    "the decision (similarity, weight gap, sentinel weight and the thresholds), `retrieve` lists "
    "the closest facts without abstaining. Ids returned by `store` are stable: use them with "
    "`get`, `update` and `forget`. Writes are durable once the tool returns."
)

# Errors that mean "this call was wrong" (or the store is busy): answered as tool errors.
_EXPECTED_ERRORS = (HopfieldMemoryError, ValueError, TypeError, LookupError)


def _import_sdk() -> tuple[Any, Any, Any, Any]:
    """``(MCPServer, ToolError, ToolAnnotations, pydantic.Field)``, or MissingExtraError."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        from mcp.types import ToolAnnotations
        from pydantic import Field
    except ImportError as exc:
        raise missing_extra("mcp", "mcp") from exc
    return MCPServer, ToolError, ToolAnnotations, Field


def build_server(memory: HopfieldMemory, *, log_level: str = "WARNING") -> Any:
    """An ``mcp.server.mcpserver.MCPServer`` whose tools answer from ``memory``.

    The caller owns ``memory`` (and closes it). Call ``.run("stdio")`` on the result, or connect
    to it in-process with ``mcp.Client(server)``.
    """
    from typing import Annotated

    mcp_server_cls, tool_error, tool_annotations, field = _import_sdk()

    text_arg = Annotated[
        str,
        field(strict=True, min_length=1, max_length=MAX_TEXT_CHARS, description="the fact's text"),
    ]
    cue_arg = Annotated[
        str,
        field(strict=True, min_length=1, max_length=MAX_TEXT_CHARS, description="what to recall"),
    ]
    id_arg = Annotated[int, field(strict=True, ge=0, description="a fact id returned by store")]
    top_k_arg = Annotated[
        int, field(strict=True, ge=1, le=MAX_TOP_K, description="how many facts to return")
    ]
    metadata_arg = Annotated[
        dict[str, Any] | None,
        field(description="an optional JSON object kept with the fact and returned with it"),
    ]

    @contextlib.contextmanager
    def tool_errors() -> Iterator[None]:
        try:
            yield
        except _EXPECTED_ERRORS as exc:
            raise tool_error(_message(exc)) from exc

    read_only = tool_annotations(read_only_hint=True, open_world_hint=False)
    writes = tool_annotations(read_only_hint=False, open_world_hint=False)
    destructive = tool_annotations(
        read_only_hint=False, destructive_hint=True, open_world_hint=False
    )

    server = mcp_server_cls(
        SERVER_NAME,
        version=_version(),
        instructions=INSTRUCTIONS,
        log_level=log_level,
    )

    def store(text: text_arg, metadata: metadata_arg = None) -> dict[str, Any]:
        """Store one fact (with optional metadata); returns its stable id."""
        with tool_errors():
            fact_id = memory.store(text, metadata)
            return jsonable.fact_dict(memory.get(fact_id))

    def store_many(
        texts: Annotated[list[text_arg], field(min_length=1, max_length=MAX_BATCH)],
        metadata: Annotated[
            list[dict[str, Any] | None] | None,
            field(description="one object (or null) per text, or omit"),
        ] = None,
    ) -> dict[str, Any]:
        """Store several facts in one transaction (all or nothing); returns their ids in order."""
        with tool_errors():
            return {"ids": memory.store_many(texts, metadata, progress=False)}

    def retrieve(cue: cue_arg, top_k: top_k_arg = 3) -> dict[str, Any]:
        """The closest stored facts with their weights, best first, without abstaining."""
        with tool_errors():
            return {
                "cue": cue,
                "results": [jsonable.recall_dict(r) for r in memory.recall(cue, top_k)],
            }

    def query_or_none(cue: cue_arg) -> dict[str, Any]:
        """The stored fact that answers the cue, or answer=null when nothing stored fits."""
        with tool_errors():
            report = memory.match_quality(cue, top_k=2)
            return {
                "cue": cue,
                "answer": None if report.best is None else jsonable.recall_dict(report.best),
                "is_match": report.is_match,
                "reason": None if report.reason is None else report.reason.value,
                "explanation": report.explanation,
            }

    def match_quality(cue: cue_arg, top_k: top_k_arg = 3) -> dict[str, Any]:
        """Whether the cue matches and why: the gate's signals, thresholds and top candidates."""
        with tool_errors():
            return jsonable.report_dict(memory.match_quality(cue, top_k=top_k), cue)

    def get(id: id_arg) -> dict[str, Any]:
        """The fact with this id (text and metadata)."""
        with tool_errors():
            return jsonable.fact_dict(memory.get(id))

    def forget(
        ids: Annotated[list[id_arg], field(min_length=1, max_length=MAX_BATCH)],
    ) -> dict[str, Any]:
        """Delete facts by id (all or nothing: an unknown id deletes none); returns them."""
        with tool_errors():
            return {"forgotten": [jsonable.fact_dict(f) for f in memory.forget_many(ids)]}

    def update(id: id_arg, text: text_arg, metadata: metadata_arg = None) -> dict[str, Any]:
        """Replace a fact's text (and metadata, when given); the id stays."""
        with tool_errors():
            memory.update(id, text, metadata)
            return jsonable.fact_dict(memory.get(id))

    def list_facts(
        offset: Annotated[int, field(strict=True, ge=0)] = 0,
        limit: Annotated[int, field(strict=True, ge=1, le=MAX_LIST)] = 100,
    ) -> dict[str, Any]:
        """Stored facts in storage order, a page at a time."""
        with tool_errors():
            facts = list(memory)
            page = facts[offset : offset + limit]
            return {
                "count": len(facts),
                "offset": offset,
                "facts": [jsonable.fact_dict(f) for f in page],
            }

    def count() -> dict[str, Any]:
        """How many facts (and negative patterns) the memory holds."""
        with tool_errors():
            return {"count": len(memory), "negatives": memory.num_negatives}

    def stats() -> dict[str, Any]:
        """Counts, encoder, gate policy, parameters, namespace and store file size."""
        with tool_errors():
            return jsonable.stats_dict(memory)

    def chain(
        question: cue_arg,
        max_hops: Annotated[int, field(strict=True, ge=1, le=MAX_HOPS)] = 3,
        min_confidence: Annotated[float, field(ge=0.0, le=1.0)] = 0.1,
    ) -> dict[str, Any]:
        """Multi-hop recall: each fact found is added to the cue to reach the next one."""
        with tool_errors():
            return jsonable.chain_dict(
                chain_recall(memory, question, max_hops, min_confidence), question
            )

    def check_and_store_tool(
        text: text_arg,
        metadata: metadata_arg = None,
        auto_resolve: Annotated[bool, field(strict=True)] = False,
    ) -> dict[str, Any]:
        """Store a fact unless it duplicates or contradicts a stored one (auto_resolve=true
        replaces the contradicted fact instead)."""
        with tool_errors():
            fact_id, result = check_and_store(
                memory, text, auto_resolve=auto_resolve, metadata=metadata
            )
            return jsonable.conflict_dict(fact_id, result)

    tools: list[tuple[Any, str, Any]] = [
        (store, "store", writes),
        (store_many, "store_many", writes),
        (retrieve, "retrieve", read_only),
        (query_or_none, "query_or_none", read_only),
        (match_quality, "match_quality", read_only),
        (get, "get", read_only),
        (forget, "forget", destructive),
        (update, "update", destructive),
        (list_facts, "list", read_only),
        (count, "count", read_only),
        (stats, "stats", read_only),
        (chain, "chain", read_only),
        (check_and_store_tool, "check_and_store", writes),
    ]
    for fn, name, annotations in tools:
        server.add_tool(fn, name=name, annotations=annotations, structured_output=True)
    return server


def serve(
    path: PathLike,
    *,
    namespace: str = "default",
    durability: str = "full",
    log_level: str = "WARNING",
) -> None:
    """Open the durable memory at ``path`` and serve it over stdio until the client leaves."""
    _import_sdk()  # fail before creating a store file when the extra is missing
    memory = HopfieldMemory.open(path, namespace=namespace, durability=durability)
    try:
        server = build_server(memory, log_level=log_level)
        logger.info("serving %s namespace %r over stdio", memory.path, namespace)
        server.run("stdio")
    finally:
        memory.close()


def _message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, KeyError) and not isinstance(exc, HopfieldMemoryError):
        text = str(exc.args[0]) if exc.args else text
    return text or type(exc).__name__


def _version() -> str:
    from . import __version__

    return __version__


__all__ = ["INSTRUCTIONS", "TOOL_NAMES", "build_server", "serve"]
