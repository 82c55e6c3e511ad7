"""The sandbox example runs as a client would start it, and the README's set-up is what CI runs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.anyio
async def test_the_sandbox_example_runs_with_only_mcp_guard_on_path(home: Path) -> None:
    entry = json.loads((ROOT / "examples" / "sandbox" / "mcp.json").read_text())["mcpServers"]["stripe-sandbox"]
    # The client's PATH holds mcp-guard's directory and the system's, and no other python.
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env={"PATH": path, "HOME": str(home)})
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}
            balance = await session.call_tool("get_balance_summary", {})
    assert "get_balance_summary" in names and "create_refund" not in names
    assert not balance.is_error


def commands(text: str, venv: str) -> list[str]:
    """The mcp-guard, pip and venv command lines of a shell text, comments dropped, with the venv written as ~/.mcp-guard."""
    lines = []
    for line in text.replace(venv, "~/.mcp-guard").splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if re.match(r"^(python3 -m venv|~/\.mcp-guard/bin/(pip|mcp-guard) )", line) and "--quiet" not in line:
            lines.append(line)
    return lines


def test_the_readme_set_up_is_what_the_wheel_smoke_step_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Set up\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    smoke = (ROOT / ".ci" / "wheel-smoke").read_text()
    shown = [line for line in commands(block, "~/.mcp-guard") if "/bin/mcp-guard " in line]
    run = [line for line in commands(smoke, '"$MCP_GUARD_VENV"') if "/bin/mcp-guard " in line]
    assert shown == run
    assert len(shown) == 4  # demo, test, tools, install
    for step in ("-m venv", "/bin/pip wheel ", "--no-deps", "/bin/pip install "):  # the build and install, into a temporary dir in CI
        assert step in block and step in smoke
    assert "make wheel-smoke" in (ROOT / ".ci" / "run").read_text()
