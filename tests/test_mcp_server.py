"""The MCP server as a client sees it: a subprocess (`hopfield-memory mcp`) spoken to over stdio
with the SDK's own client."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

import anyio
from mcp import Client, StdioServerParameters, stdio_client

from hopfield_memory.mcp_server import TOOL_NAMES

SRC = str(Path(__file__).resolve().parent.parent / "src")


@asynccontextmanager
async def connect(path: Path, namespace: str = "default") -> AsyncIterator[Client]:
    """A client session with a fresh server process on ``path``; its stderr goes to a log file
    beside the store."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hopfield_memory", "mcp", "--path", str(path), "--namespace", namespace],
        env={"PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)},
    )
    with open(path.parent / f"server-{namespace}.log", "a", encoding="utf-8") as log:
        async with Client(stdio_client(params, errlog=log), read_timeout_seconds=60) as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool call that must succeed; returns its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, arguments, result.content)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def fails(client: Client, tool: str, **arguments: Any) -> str:
    """A tool call that must come back as a tool error; returns its message."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, arguments, result.structured_content)
    text = result.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


def run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def test_tools_store_query_and_abstain(tmp_path: Path) -> None:
    async def main() -> None:
        async with connect(tmp_path / "mem.db") as client:
            listed = await client.list_tools()
            assert {tool.name for tool in listed.tools} == set(TOOL_NAMES)
            schemas = {tool.name: tool.input_schema for tool in listed.tools}
            assert schemas["store"]["required"] == ["text"]
            assert schemas["retrieve"]["properties"]["top_k"]["maximum"] >= 10

            first = await call(
                client, "store", text="The Eiffel Tower is in Paris", metadata={"source": "a"}
            )
            assert first == {
                "id": 0,
                "text": "The Eiffel Tower is in Paris",
                "metadata": {"source": "a"},
            }
            many = await call(
                client,
                "store_many",
                texts=["Alice owns the billing service", "Alice lives in France"],
                metadata=[{"source": "b"}, None],
            )
            assert many == {"ids": [1, 2]}

            hit = await call(client, "query_or_none", cue="who owns billing")
            assert hit["answer"]["text"] == "Alice owns the billing service"
            assert hit["answer"]["metadata"] == {"source": "b"}
            assert hit["is_match"] is True and 0 < hit["answer"]["weight"] <= 1

            miss = await call(client, "query_or_none", cue="office coffee machine")
            assert miss["answer"] is None and miss["reason"] == "no_overlap"
            assert "no answer" in miss["explanation"]

            report = await call(client, "match_quality", cue="Eiffel Tower Paris", top_k=2)
            assert report["is_match"] is True and len(report["candidates"]) == 2
            assert {"max_similarity", "gap", "sentinel_weight", "policy"} <= set(report)

            ranked = await call(client, "retrieve", cue="Alice", top_k=3)
            assert [r["id"] for r in ranked["results"]][:2] in ([1, 2], [2, 1])

            assert (await call(client, "count")) == {"count": 3, "negatives": 0}
            page = await call(client, "list", offset=1, limit=1)
            assert page["count"] == 3 and [f["id"] for f in page["facts"]] == [1]

            updated = await call(
                client, "update", id=0, text="The Eiffel Tower is in Paris, France"
            )
            assert updated["text"].endswith("France") and updated["metadata"] == {"source": "a"}
            assert (await call(client, "get", id=0))["text"].endswith("France")

            hops = await call(client, "chain", question="capital of the country where Alice lives")
            assert hops["hops"] and hops["stop_reason"]

            dup = await call(client, "check_and_store", text="Alice lives in France")
            assert dup["action"] == "duplicate" and dup["id"] == 2 and dup["stored"] is False

            gone = await call(client, "forget", ids=[1])
            assert gone["forgotten"][0]["text"] == "Alice owns the billing service"
            assert (await call(client, "query_or_none", cue="who owns billing"))["answer"] is None

            stats = await call(client, "stats")
            assert stats["count"] == 2 and stats["path"] == str(tmp_path / "mem.db")
            assert stats["encoder"]["backend"] == "hashing" and stats["file_bytes"] > 0

    run(main)


def test_bad_arguments_are_tool_errors_and_the_server_keeps_working(tmp_path: Path) -> None:
    async def main() -> None:
        async with connect(tmp_path / "mem.db") as client:
            await call(client, "store", text="The capital of Japan is Tokyo")
            bad: list[tuple[str, dict[str, Any], str]] = [
                ("store", {}, "text"),
                ("store", {"text": 42}, "string"),
                ("store", {"text": ""}, "at least 1"),
                ("store", {"text": "   "}, "empty or whitespace"),
                ("store", {"text": "x", "metadata": ["not", "an", "object"]}, "metadata"),
                ("store_many", {"texts": []}, "at least 1"),
                ("store_many", {"texts": ["a", "b"], "metadata": [{}]}, "1 metadata entries"),
                ("retrieve", {"cue": "Tokyo", "top_k": 0}, "greater than or equal"),
                ("retrieve", {"cue": "Tokyo", "top_k": "3"}, "integer"),
                ("retrieve", {"cue": "Tokyo", "top_k": True}, "integer"),
                ("query_or_none", {"cue": None}, "string"),
                ("get", {"id": 99}, "no fact with id 99"),
                ("get", {"id": -1}, "greater than or equal"),
                ("forget", {"ids": [0, 99]}, "no fact with id 99"),
                ("forget", {"ids": [0, 0]}, "more than once"),
                ("update", {"id": 99, "text": "x"}, "99"),
                ("chain", {"question": "Tokyo", "max_hops": 0}, "greater than or equal"),
                ("list", {"limit": 10**9}, "less than or equal"),
                ("no_such_tool", {}, "Unknown tool"),
            ]
            for tool, arguments, expected in bad:
                message = await fails(client, tool, **arguments)
                assert expected in message, (tool, arguments, message)
            # nothing above changed the memory, and the server still answers
            assert (await call(client, "count"))["count"] == 1
            answer = await call(client, "query_or_none", cue="capital of Japan")
            assert answer["answer"]["text"] == "The capital of Japan is Tokyo"

    run(main)


def test_restart_finds_the_facts_again(tmp_path: Path) -> None:
    path = tmp_path / "mem.db"

    async def main() -> None:
        async with connect(path) as client:
            await call(client, "store", text="The server room door code changes every Monday")
            await call(client, "store_many", texts=["Bob plays the violin", "Water boils at 100C"])
        async with connect(path) as client:
            assert (await call(client, "count"))["count"] == 3
            found = await call(client, "query_or_none", cue="server room door code")
            assert found["answer"]["id"] == 0

    run(main)


def test_two_clients_on_one_store_see_each_others_facts(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"

    async def main() -> None:
        async with connect(path) as a, connect(path) as b, connect(path, "private") as other:
            await call(a, "store", text="Alice owns the billing service")
            seen = await call(b, "query_or_none", cue="who owns billing")
            assert seen["answer"]["text"] == "Alice owns the billing service"
            await call(b, "store", text="Bob owns the deploy pipeline")
            seen = await call(a, "query_or_none", cue="who owns the deploy pipeline")
            assert seen["answer"]["text"] == "Bob owns the deploy pipeline"
            assert (await call(a, "count"))["count"] == 2
            # another namespace in the same file is another memory
            assert (await call(other, "count"))["count"] == 0
            alone = await call(other, "query_or_none", cue="who owns billing")
            assert alone["answer"] is None and alone["reason"] == "empty_memory"

    run(main)


def test_a_store_that_is_not_a_memory_stops_the_server_with_exit_3(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "notes.txt"
    path.write_text("not a memory\n" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "hopfield_memory", "mcp", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        input="",
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert result.returncode == 3
    assert result.stderr.startswith("hopfield-memory: error:")
    assert result.stdout == ""
