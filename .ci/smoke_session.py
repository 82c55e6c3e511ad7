"""Start an installed client entry the way the client would, for one guarded session.

    smoke_session.py CLIENT_FILE SERVER_NAME -- UPSTREAM_COMMAND ARGS...

Reads the entry from the client's config file (`mcpServers` or `servers`), puts a made-up test key
where the client would substitute the key variable, appends `-- UPSTREAM...` (the sandbox, since
CI has no Stripe account), and with the MCP SDK's stdio client lists the tools, reads, and tries a
refund. Exit 0 when the read passes and the write is refused; 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

FAKE_TEST_KEY = "sk_test_51SMOKEmcpGuardNotARealKey000000000000000000000000"


def entry_of(path: Path, name: str) -> dict[str, Any]:
    document = json.loads(path.read_text())
    servers = document.get("mcpServers") or document.get("servers") or {}
    entry: dict[str, Any] = servers[name]
    return entry


async def session(entry: dict[str, Any], upstream: list[str]) -> list[str]:
    env = {name: FAKE_TEST_KEY if name.startswith("STRIPE_") else value for name, value in entry.get("env", {}).items()}
    params = StdioServerParameters(command=entry["command"], args=[*entry["args"], "--", *upstream], env=env)
    problems = []
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            names = {tool.name for tool in (await client.list_tools()).tools}
            if "stripe_api_read" not in names or "stripe_api_write" in names:
                problems.append(f"unexpected tools/list: {sorted(names)}")
            read_result = await client.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}})
            if read_result.is_error:
                problems.append(f"the read was refused: {read_result.content}")
            write_result = await client.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": {"amount": 1}})
            if not write_result.is_error:
                problems.append("the refund was not refused")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    entry = entry_of(Path(argv[0]), argv[1])
    problems = anyio.run(session, entry, argv[3:])
    for problem in problems:
        print(f"smoke session: {problem}", file=sys.stderr)
    print(f"smoke session through {entry['command']}: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
