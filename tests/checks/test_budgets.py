"""Data budgets' logic, in process: the shared ledger under a fake clock, what a result counts for,
and the check in a real guard. The cross-process proofs are in test_budgets_processes.py."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mcp_guard import jsonrpc
from mcp_guard.checks.budgets.check import count_objects, result_size
from mcp_guard.checks.budgets.ledger import STATE_BYTES, BudgetLedger, state_path
from mcp_guard.errors import BudgetStateError
from mcp_guard.guard import Answer, Forward, Guard
from tests.factories import build_guard, make_profile

START = 1_764_650_000.0  # 2025-12-02T04:33:20Z


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def ledger(tmp_path: Path, clock: Clock) -> BudgetLedger:
    return BudgetLedger(state_path(tmp_path / "audit", "p"), clock=clock)


def listing(count: int) -> dict[str, Any]:
    page = {"object": "list", "data": [{"id": f"cus_{i}", "object": "customer"} for i in range(count)], "has_more": True}
    return {"content": [{"type": "text", "text": json.dumps(page)}]}


# ---- the ledger -----------------------------------------------------------------------------


def test_calls_beyond_the_budget_are_refused_until_the_window_that_began_with_the_first_call_ends(tmp_path: Path) -> None:
    clock = Clock()
    budget = ledger(tmp_path, clock)
    assert [budget.admit({"calls_per_minute": 2}) for _ in range(2)] == [None, None]
    clock.now += 59
    refused = budget.admit({"calls_per_minute": 2})
    assert refused is not None and (refused.budget, refused.limit, refused.resets_at) == ("calls_per_minute", 2, START + 60)
    clock.now = START + 60
    assert budget.admit({"calls_per_minute": 2}) is None  # a fresh window, starting now
    assert budget.usage()["calls_per_minute"].start == START + 60


def test_two_ledgers_on_one_state_file_share_every_count(tmp_path: Path) -> None:
    clock = Clock()
    first, second = ledger(tmp_path, clock), ledger(tmp_path, clock)
    assert first.admit({"calls_per_minute": 2}) is None and second.admit({"calls_per_minute": 2}) is None
    assert first.admit({"calls_per_minute": 2}) is not None
    first.spend(objects=10, size=1000)
    second.spend(objects=5, size=24)
    usage = second.usage()
    assert (usage["objects_per_hour"].used, usage["bytes_per_hour"].used) == (15, 1024)


def test_the_refusal_names_the_budget_that_resets_last_when_several_are_used_up(tmp_path: Path) -> None:
    clock = Clock()
    budget = ledger(tmp_path, clock)
    assert budget.admit({"calls_per_minute": 1, "objects_per_hour": 10}) is None
    budget.spend(objects=10, size=0)
    refused = budget.admit({"calls_per_minute": 1, "objects_per_hour": 10})
    assert refused is not None and (refused.budget, refused.resets_at) == ("objects_per_hour", START + 3600)


def test_the_state_file_is_private_and_always_the_same_size(tmp_path: Path) -> None:
    budget = ledger(tmp_path, Clock())
    budget.admit({"calls_per_minute": 5})
    budget.spend(objects=2, size=10**12)
    stat = os.stat(budget.path)
    assert stat.st_mode & 0o777 == 0o600 and stat.st_size == STATE_BYTES
    assert json.loads(budget.path.read_text())["windows"]["bytes_per_hour"]["used"] == 10**12


def test_a_state_file_that_is_not_valid_is_refused_not_guessed_at(tmp_path: Path) -> None:
    budget = ledger(tmp_path, Clock())
    budget.path.parent.mkdir(parents=True)
    budget.path.write_text('{"version": 1, "windows": {"calls_per_minute": {"start": 0, "used": -3}}}')
    with pytest.raises(BudgetStateError, match=r"budgets-p\.json is not valid .*delete it to start this profile's budgets afresh"):
        budget.admit({"calls_per_minute": 5})


def test_a_deleted_state_file_is_followed_by_every_ledger_holding_it(tmp_path: Path) -> None:
    clock = Clock()
    first, second = ledger(tmp_path, clock), ledger(tmp_path, clock)
    first.admit({"calls_per_minute": 9})
    second.admit({"calls_per_minute": 9})
    first.path.unlink()
    first.admit({"calls_per_minute": 9})
    second.admit({"calls_per_minute": 9})
    assert first.usage()["calls_per_minute"].used == 2  # both counted in the new file, not in the orphan


# ---- what a result counts for ---------------------------------------------------------------


def test_objects_are_a_list_results_data_items_or_one_retrieved_object() -> None:
    assert count_objects(listing(25)) == 25
    assert count_objects({"content": [{"type": "text", "text": '{"id": "cus_1", "object": "customer"}'}]}) == 1
    assert count_objects({"content": [{"type": "text", "text": "Thank you, your feedback was sent."}]}) == 0
    assert count_objects({"content": [], "structuredContent": {"object": "search_result", "data": [{}, {}]}}) == 2
    big = '{"object": "list", "data": [{"id": "x", "object": "charge", "amount": 123456789012345678901234567890}]}'
    assert count_objects({"content": [{"type": "text", "text": big}]}) == 1  # beyond orjson's integers, still counted


def test_bytes_are_the_results_size_as_compact_json() -> None:
    result = listing(3)
    assert result_size(result) == len(json.dumps(result, separators=(",", ":")).encode())


# ---- the check in a guard -------------------------------------------------------------------


def make_guard(tmp_path: Path, clock: Clock, **budgets: int) -> Guard:
    profile = make_profile(tmp_path, name="p", budgets=budgets)
    return build_guard(profile, redactor=None, budget_ledger=ledger(tmp_path, clock))


async def call(guard: Guard, request_id: int, tool: str = "list_customers") -> Forward | Answer:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": tool, "arguments": {"limit": 10}}}
    return await guard.admit(message)


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((tmp_path / "audit").glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.mark.anyio
async def test_a_call_over_budget_gets_an_is_error_result_naming_the_budget_and_its_reset_and_a_record(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, Clock(), calls_per_minute=1)
    assert isinstance(await call(guard, 1), Forward)
    answer = await call(guard, 2)
    assert isinstance(answer, Answer)
    result = json.loads(answer.line)["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "mcp-guard denied this call: the calls_per_minute budget of profile 'p' is used up (1 calls per minute, counted across every "
        "mcp-guard of this profile); it resets at 2025-12-02T04:34:20Z (UTC). Try again after that. (rule: profiles.p.budgets.calls_per_minute)"
    )
    [record] = records(tmp_path)
    assert (record["decision"], record["rule"], record["outcome"], record["operation"]) == ("deny", "profiles.p.budgets.calls_per_minute", "denied", "list")


@pytest.mark.anyio
async def test_objects_returned_count_so_the_next_call_is_refused_once_the_budget_is_used_up(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, Clock(), objects_per_hour=15)
    for request_id in (1, 2):  # 10 objects, then 20: the call that crosses the limit is still answered
        admission = await call(guard, request_id)
        assert isinstance(admission, Forward)
        line = json.loads(await guard.respond(admission.call, {"jsonrpc": "2.0", "id": 1, "result": listing(10)}))
        assert line["result"].get("isError") is not True
    answer = await call(guard, 3)
    assert isinstance(answer, Answer) and "objects_per_hour budget" in answer.line.decode()


@pytest.mark.anyio
async def test_a_state_file_that_cannot_be_used_refuses_the_call(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, Clock(), calls_per_minute=5)
    state = state_path(tmp_path / "audit", "p")
    state.mkdir(parents=True)  # a directory where the state file should be
    answer = await call(guard, 1)
    assert isinstance(answer, Answer)
    error = json.loads(answer.line)["error"]
    assert error["code"] == jsonrpc.REFUSED and "budget state file" in error["message"] and "cannot be opened" in error["message"]


@pytest.mark.anyio
async def test_a_result_that_cannot_be_counted_is_withheld(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, Clock(), bytes_per_hour=10**6)
    admission = await call(guard, 1)
    assert isinstance(admission, Forward)
    state = state_path(tmp_path / "audit", "p")
    state.unlink()
    state.mkdir()  # the file is gone and cannot be re-created
    line = json.loads(await guard.respond(admission.call, {"jsonrpc": "2.0", "id": 1, "result": listing(10)}))
    assert line["result"]["isError"] is True and "cannot be counted against the profile's budgets" in line["result"]["content"][0]["text"]
    assert "cus_0" not in json.dumps(line)


@pytest.mark.anyio
async def test_a_profile_without_budgets_never_touches_a_state_file(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, Clock())
    admission = await call(guard, 1)
    assert isinstance(admission, Forward)
    await guard.respond(admission.call, {"jsonrpc": "2.0", "id": 1, "result": listing(10)})
    assert not state_path(tmp_path / "audit", "p").exists()
