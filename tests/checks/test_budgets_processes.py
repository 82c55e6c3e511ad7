"""Data budgets through real processes: several `mcp-guard run` of one profile, each over its own
sandbox, share one budget. Every proof has a control without budgets that shows all the calls
would have gone through."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.checks.guarded import start_guard
from tests.relay.harness import RawClient, audit_records, sandbox_command, write_config

pytestmark = pytest.mark.anyio

PROCESSES = 3
BALANCE = {"name": "get_balance_summary", "arguments": {}}
CUSTOMERS = {"name": "stripe_api_read", "arguments": {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 10}}}


async def start_all(config: Path) -> list[RawClient]:
    return list(await asyncio.gather(*(start_guard(config, sandbox_command()) for _ in range(PROCESSES))))


async def close_all(clients: list[RawClient]) -> None:
    for client in clients:
        await client.close_stdin()
    for client in clients:
        assert await client.wait() == 0
        await client.aclose()


async def burst(clients: list[RawClient], params: dict[str, Any], per_client: int) -> list[dict[str, Any]]:
    """Every client sends `per_client` calls at once, all processes together; their results."""
    ids = [[await client.request("tools/call", params) for _ in range(per_client)] for client in clients]

    async def collect(client: RawClient, mine: list[Any]) -> list[dict[str, Any]]:
        return [(await client.response(request_id, 30))["result"] for request_id in mine]  # one reader per pipe

    per_process = await asyncio.gather(*(collect(client, mine) for client, mine in zip(clients, ids, strict=True)))
    return [result for results in per_process for result in results]


def refused_by(results: list[dict[str, Any]], budget: str) -> int:
    return sum(1 for r in results if r.get("isError") and f"the {budget} budget of profile 'test' is used up" in r["content"][0]["text"])


async def test_several_processes_of_one_profile_share_one_calls_per_minute_budget(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile={"budgets": {"calls_per_minute": 4}})
    clients = await start_all(config)
    try:
        results = await burst(clients, BALANCE, per_client=3)
    finally:
        await close_all(clients)
    assert sum(1 for r in results if not r.get("isError")) == 4  # of 9 calls from 3 processes racing for the lock
    assert refused_by(results, "calls_per_minute") == 5
    assert all("it resets at " in r["content"][0]["text"] for r in results if r.get("isError"))
    state = json.loads((tmp_path / "audit" / "budgets-test.json").read_text())
    assert state["windows"]["calls_per_minute"]["used"] == 4
    denied = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call" and r["decision"] == "deny"]
    assert len(denied) == 5 and {r["rule"] for r in denied} == {"profiles.test.budgets.calls_per_minute"}
    assert len({r["pid"] for r in audit_records(tmp_path / "audit")}) == PROCESSES


async def test_control_without_budgets_every_call_of_every_process_goes_through(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    clients = await start_all(config)
    try:
        results = await burst(clients, BALANCE, per_client=3)
    finally:
        await close_all(clients)
    assert len(results) == 9 and not any(r.get("isError") for r in results)
    assert not (tmp_path / "audit" / "budgets-test.json").exists()


async def test_objects_read_by_one_process_stop_another_from_paging_on(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile={"budgets": {"objects_per_hour": 15, "bytes_per_hour": 10**9}})
    clients = await start_all(config)
    try:
        first = await clients[0].call("tools/call", CUSTOMERS, 30)  # 10 objects
        second = await clients[1].call("tools/call", CUSTOMERS, 30)  # 20: crosses the limit, still answered
        third = await clients[2].call("tools/call", CUSTOMERS, 30)
    finally:
        await close_all(clients)
    assert [len(json.loads(r["result"]["content"][0]["text"])["data"]) for r in (first, second)] == [10, 10]
    assert refused_by([third["result"]], "objects_per_hour") == 1
    windows = json.loads((tmp_path / "audit" / "budgets-test.json").read_text())["windows"]
    assert windows["objects_per_hour"]["used"] == 20 and windows["bytes_per_hour"]["used"] > 2000


async def test_control_without_budgets_a_third_page_is_served(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    clients = await start_all(config)
    try:
        results = [await client.call("tools/call", CUSTOMERS, 30) for client in clients]
    finally:
        await close_all(clients)
    assert [len(json.loads(r["result"]["content"][0]["text"])["data"]) for r in results] == [10, 10, 10]
