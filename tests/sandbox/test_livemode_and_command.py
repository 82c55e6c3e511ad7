"""The live-mode data set (`--livemode`) and the `mcp-guard sandbox` subcommand (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcp_guard.cli_commands.sandbox import CATALOG_CHOICES
from mcp_guard.sandbox import CATALOGS, LIVE_PLANTED_SECRET_KEY, PLANTED_SECRET_KEY, Sandbox, build_fixtures
from tests.sandbox.conftest import result_json

MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")


def livemode_flags(value: Any) -> list[bool]:
    if isinstance(value, dict):
        own = [value["livemode"]] if isinstance(value.get("livemode"), bool) else []
        return own + [flag for v in value.values() for flag in livemode_flags(v)]
    if isinstance(value, list):
        return [flag for v in value for flag in livemode_flags(v)]
    return []


def test_the_live_data_set_is_the_test_data_with_every_flag_live_and_live_shaped_keys() -> None:
    test, live = build_fixtures(7), build_fixtures(7, livemode=True)
    text = json.dumps(live)
    assert set(livemode_flags(test)) == {False} and set(livemode_flags(live)) == {True}
    assert len(livemode_flags(live)) == len(livemode_flags(test))
    assert [c["id"] for c in live["customers"]] == [c["id"] for c in test["customers"]]
    assert LIVE_PLANTED_SECRET_KEY.startswith("sk_live_") and LIVE_PLANTED_SECRET_KEY in text
    assert "sk_test_" not in text and PLANTED_SECRET_KEY not in text
    assert all("/live_" in i["hosted_invoice_url"] for i in live["invoices"] if i["hosted_invoice_url"])


def test_a_live_sandbox_creates_live_objects_and_refuses_a_write_that_says_test_mode() -> None:
    sandbox = Sandbox("hosted", livemode=True)
    created = result_json(_typed(sandbox.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostCustomers", "parameters": {"name": "X"}})))
    refused = sandbox.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostCustomers", "parameters": {}, "livemode": False})
    assert created["livemode"] is True
    assert refused.get("isError") is True and "livemode must be true" in refused["content"][0]["text"]


def _typed(result: dict[str, Any]) -> Any:
    import mcp_types as types

    return types.CallToolResult.model_validate(result)


@pytest.mark.anyio
async def test_mcp_guard_sandbox_serves_the_live_data_set_over_stdio() -> None:
    params = StdioServerParameters(command=MCP_GUARD, args=["sandbox", "--livemode", "--seed", "3"])
    with anyio.fail_after(30):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            balance = result_json(await session.call_tool("get_balance_summary", {}))
    assert balance["livemode"] is True
    assert init.server_info.title is not None and "live mode" in init.server_info.title


def test_the_subcommand_offers_exactly_the_sandbox_catalogs() -> None:
    assert tuple(CATALOG_CHOICES) == tuple(CATALOGS)


def test_building_the_cli_imports_neither_the_sandbox_nor_the_oauth_client() -> None:
    code = "import sys; from mcp_guard.cli import build_parser; build_parser(); print(sorted(m for m in sys.modules if m.startswith(('mcp_guard.sandbox', 'mcp_guard.oauth'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_oauth_without_http_is_bad_usage() -> None:
    result = subprocess.run([MCP_GUARD, "sandbox", "--oauth"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "--oauth needs --http PORT" in result.stderr
