#!/usr/bin/env python3
"""A stdio MCP server answering `stripe_api_read` from a corpus file, as Stripe's hosted server would.

    python tests/upstreams/corpus_server.py --corpus FILE

FILE is JSON: {operation id: response body}. `stripe_api_read` with a known
`stripe_api_operation_id` answers that body as JSON in one text content item; an unknown one is a
tool error. Built on the MCP SDK's low-level server, like the sandbox (mcp_guard/sandbox/_server.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

READ_TOOL = {
    "name": "stripe_api_read",
    "description": "Execute a read-only Stripe API operation (GET) and return the Stripe response.",
    "inputSchema": {"type": "object", "properties": {"stripe_api_operation_id": {"type": "string"}, "parameters": {"type": "object"}},
                    "required": ["stripe_api_operation_id"]},
    "annotations": {"readOnlyHint": True},
}


def build_server(corpus: dict[str, Any]) -> Server[Any]:
    async def list_tools(ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None) -> dict[str, Any]:
        return {"tools": [READ_TOOL]}

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> dict[str, Any]:
        operation = (params.arguments or {}).get("stripe_api_operation_id")
        if params.name != "stripe_api_read" or operation not in corpus:
            return {"content": [{"type": "text", "text": f"no such corpus operation: {operation!r}"}], "isError": True}
        return {"content": [{"type": "text", "text": json.dumps(corpus[operation])}]}

    return Server("stripe-corpus", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve(corpus: dict[str, Any]) -> None:
    server = build_server(corpus)
    async with stdio_server() as (read_stream, write_stream):
        try:
            await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            await write_stream.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args()
    anyio.run(serve, json.loads(args.corpus.read_text()))


if __name__ == "__main__":
    main()
