"""What the data budget and catalog pinning checks add per request, in process.

    .venv/bin/python benchmarks/checks_bench.py                 # 5000 calls per scenario, 5 runs
    .venv/bin/python benchmarks/checks_bench.py --calls 20000 --processes 4

Budgets: one tools/call is `DataBudget.check` (a locked read-modify-write of the state file) and,
when objects or bytes are budgeted, `DataBudget.on_result` (counting a result, then a second
locked write). Scenarios: only calls_per_minute (one touch per call); all three budgets on a
small and on a 4 KB list result (two touches, plus parsing and sizing the result); and the same
with --processes processes hammering one state file at once (lock contention). Pinning: the
request check per tools/call, and the tools/list filter over the sandbox's hosted (11 tools)
and legacy (22 tools) catalogs. Limits are set too high to be reached, so every call counts.
Machines here are noisy: read the ratios, not the absolute numbers; medians of --runs runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp_guard.checks import Call
from mcp_guard.checks.budgets.check import DataBudget
from mcp_guard.checks.catalog_pin.check import CatalogPin
from mcp_guard.checks.catalog_pin.lock import ProfileLock, lock_catalog
from mcp_guard.config import GuardConfig, Profile
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision
from mcp_guard.sandbox import Sandbox
from mcp_guard.telemetry import Telemetry

HIGH = 10**12
ALL_BUDGETS = {"calls_per_minute": HIGH, "objects_per_hour": HIGH, "bytes_per_hour": HIGH}


def profile(audit_dir: Path, **fields: Any) -> Profile:
    return GuardConfig.model_validate({"profiles": {"bench": {"mode": "test", "audit": {"dir": str(audit_dir)}, **fields}}}).profiles["bench"]


def tool_call(tool: str = "stripe_api_read") -> Call:
    call = Call(client_id=1, method="tools/call", params={"name": tool}, span=Telemetry().start_request("tools/call", target=tool,
                request_id=1, protocol_version=None, client_meta=None), tool=tool, arguments={})
    call.decision = Decision(True, Operation.LIST, "profiles.bench.allowed_operations", "list operations are allowed.")
    return call


def list_result(objects: int) -> dict[str, Any]:
    page = {"object": "list", "url": "/v1/charges", "has_more": True, "data": [
        {"id": f"ch_{i:024d}", "object": "charge", "amount": 4999, "currency": "usd", "status": "succeeded", "livemode": False,
         "created": 1764650000 + i, "customer": f"cus_{i:014d}", "description": "[redacted:description]"} for i in range(objects)]}
    return {"content": [{"type": "text", "text": json.dumps(page, indent=2)}]}


def per_call_us(step: Callable[[], None], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - started) / calls * 1e6


def budget_step(audit_dir: Path, budgets: dict[str, int], result: dict[str, Any] | None) -> Callable[[], None]:
    check = DataBudget("bench", profile(audit_dir, budgets=budgets))
    call = tool_call()

    def step() -> None:
        assert check.check(call) is None
        if result is not None:
            check.on_result(call, result)

    return step


def _hammer(audit_dir: str, calls: int, result: dict[str, Any], out: Any) -> None:
    out.put(per_call_us(budget_step(Path(audit_dir), ALL_BUDGETS, result), calls))


def contended_us(audit_dir: Path, calls: int, processes: int, result: dict[str, Any]) -> float:
    queue: Any = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=_hammer, args=(str(audit_dir), calls, result, queue)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    times = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    return float(statistics.mean(times))


def pin_list_step(catalog: str) -> Callable[[], None]:
    tools = Sandbox(catalog).list_tools()  # type: ignore[arg-type]
    pinned = profile(Path(tempfile.gettempdir()), pinning="enforce")
    check = CatalogPin("bench", pinned, ProfileLock("bench", Path("mcp-guard.lock"), lock_catalog(pinned, tools)))
    call = Call(client_id=1, method="tools/list", params={}, span=Telemetry().start_request("tools/list", target=None, request_id=1,
                protocol_version=None, client_meta=None))
    result = {"tools": tools}

    def step() -> None:
        assert len(check.on_result(call, result)["tools"]) == len(tools)

    return step


def pin_call_step() -> Callable[[], None]:
    tools = Sandbox("hosted").list_tools()
    pinned = profile(Path(tempfile.gettempdir()), pinning="enforce")
    check = CatalogPin("bench", pinned, ProfileLock("bench", Path("mcp-guard.lock"), lock_catalog(pinned, tools)))
    call = tool_call()

    def step() -> None:
        assert check.check(call) is None

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    small, page = list_result(1), list_result(10)
    print(f"per tools/call, median of {args.runs} runs of {args.calls} calls; the 10-object page is {len(json.dumps(page)) // 1024} KB")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        scenarios: list[tuple[str, Callable[[int], float]]] = [
            ("budgets: calls_per_minute only (1 touch)", lambda n: per_call_us(budget_step(root / f"a{n}", {"calls_per_minute": HIGH}, small), args.calls)),
            ("budgets: all three, 1-object result (2 touches)", lambda n: per_call_us(budget_step(root / f"b{n}", ALL_BUDGETS, small), args.calls)),
            ("budgets: all three, 10-object page", lambda n: per_call_us(budget_step(root / f"c{n}", ALL_BUDGETS, page), args.calls)),
            (f"budgets: all three, 10-object page, {args.processes} processes on one file",
             lambda n: contended_us(root / f"d{n}", args.calls, args.processes, page)),
            ("budgets: none set (the check returns at once)", lambda n: per_call_us(budget_step(root / f"e{n}", {}, small), args.calls)),
            ("pinning: tools/call check", lambda n: per_call_us(pin_call_step(), args.calls)),
            ("pinning: tools/list filter, hosted catalog (11 tools)", lambda n: per_call_us(pin_list_step("hosted"), args.calls // 10)),
            ("pinning: tools/list filter, legacy catalog (22 tools)", lambda n: per_call_us(pin_list_step("legacy"), args.calls // 10)),
        ]
        for name, scenario in scenarios:
            runs = [scenario(run) for run in range(args.runs)]
            print(f"{name:<62} {statistics.median(runs):9.1f} us  (runs {min(runs):.1f}-{max(runs):.1f})")


if __name__ == "__main__":
    main()
