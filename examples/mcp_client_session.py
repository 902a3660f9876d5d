"""An agent's MCP session with the memory server: start it, store, ask, get "nothing" back.

The server is `hopfield-memory mcp --path STORE` (needs `pip install 'mhn-ai-agent-memory[mcp]'`),
started here as a subprocess on a temporary store and spoken to with the official SDK's client
over stdio, exactly as Claude Desktop or another MCP client would.

Run: python examples/mcp_client_session.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters, stdio_client

import hopfield_memory


def server_parameters(store: Path) -> StdioServerParameters:
    # Run the server from the same copy of the package as this script (it matters in a source
    # checkout; for an installed package it changes nothing).
    package_root = str(Path(hopfield_memory.__file__).resolve().parent.parent)
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "hopfield_memory", "mcp", "--path", str(store)],
        env={"PYTHONPATH": package_root},
    )


async def session(store: Path) -> None:
    with open(store.parent / "server.log", "w", encoding="utf-8") as log:
        async with Client(stdio_client(server_parameters(store), errlog=log)) as client:
            tools = await client.list_tools()
            print("tools:", ", ".join(tool.name for tool in tools.tools))

            await client.call_tool(
                "store_many",
                {
                    "texts": [
                        "The staging database lives on db-staging-02",
                        "Deploys are frozen on Fridays after 15:00",
                        "Alice owns the billing service",
                    ],
                    "metadata": [{"source": "runbook"}, {"source": "policy"}, None],
                },
            )
            for cue in ["who owns billing", "staging database host", "office coffee machine"]:
                result = await client.call_tool("query_or_none", {"cue": cue})
                data = result.structured_content or {}
                if data.get("answer") is None:
                    print(f"{cue!r}: the memory does not know ({data.get('reason')})")
                else:
                    answer = data["answer"]
                    print(f"{cue!r}: {answer['text']!r} (weight {answer['weight']:.2f})")

            bad = await client.call_tool("retrieve", {"cue": "billing", "top_k": 0})
            print("bad arguments are a tool error:", bad.is_error)

        # A new server process on the same file finds everything again.
        async with Client(stdio_client(server_parameters(store), errlog=log)) as client:
            count = await client.call_tool("count", {})
            print("facts after a restart:", (count.structured_content or {}).get("count"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(session, Path(tmp) / "agent-memory.db")


if __name__ == "__main__":
    main()
