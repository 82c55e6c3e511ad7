"""Each guard proves it ran: redaction, livemode binding and fail-closed audit, end to end through
`mcp-guard run` and the sandbox, each with a control that shows what would pass without it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.relay.harness import RawClient, audit_records, sandbox_command, sdk_session, text_of, write_config

pytestmark = pytest.mark.anyio

LIVE_KEY = "rk_live_51FAKEmcpGuardRestrictedKey00000000000000000000"

# What must never reach the client, recognised independently of the redactor's own detectors.
LEAKS = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}"),
    "client secret": re.compile(r"_secret_[A-Za-z0-9]+"),
    "api key": re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{8,}"),
    "card number": re.compile(r"\b4242[ -]?4242[ -]?4242[ -]?4242\b|\b4000[ -]?0566[ -]?5566[ -]?5556\b"),
}
SURVIVORS = ("id", "amount", "amount_captured", "amount_refunded", "currency", "status", "created", "livemode", "object")

HOSTED_READS: list[tuple[str, dict[str, Any]]] = [
    ("stripe_api_read", {"stripe_api_operation_id": op, "parameters": params})
    for op, params in [
        ("GetCustomers", {"limit": 10}),
        ("GetCustomersSearch", {"query": "email:'a@b.c'"}),
        ("GetPaymentIntents", {"limit": 10, "expand": ["data.latest_charge"]}),
        ("GetCharges", {"limit": 10}),
        ("GetPaymentMethods", {"limit": 10}),
        ("GetInvoices", {"limit": 10}),
        ("GetSubscriptions", {"limit": 10}),
        ("GetRefunds", {"limit": 10}),
        ("GetDisputes", {"limit": 10}),
        ("GetPayouts", {"limit": 10, "expand": ["data.destination"]}),
        ("GetBalance", {}),
        ("GetAccount", {}),
    ]
] + [
    ("get_stripe_account_info", {}),
    ("get_balance_summary", {}),
    ("list_available_accounts_or_orgs", {}),
    ("search_stripe_documentation", {"question": "How do refunds work?"}),
    ("stripe_api_search", {"query": "refund"}),
    ("stripe_api_details", {"stripe_api_operation_id": "GetCustomers"}),
]
LEGACY_ARGUMENTS: dict[str, dict[str, Any]] = {"search_stripe_documentation": {"question": "refunds"}}



def leaks_in(text: str) -> dict[str, list[str]]:
    return {name: found for name, pattern in LEAKS.items() if (found := pattern.findall(text))}


def survivors(value: Any, path: str = "") -> dict[str, Any]:
    """Every id, amount, currency, status, timestamp and livemode flag, by path."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SURVIVORS and not isinstance(item, (dict, list)):
                found[f"{path}/{key}"] = item
            found.update(survivors(item, f"{path}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(survivors(item, f"{path}/{index}"))
    return found


async def read_all(config: Path, catalog: str, calls: list[tuple[str, dict[str, Any]]] | None) -> list[tuple[str, str]]:
    async with sdk_session(config, sandbox_command("--catalog", catalog)) as session:
        if calls is None:  # every tool the guard lists
            tools = (await session.list_tools()).tools
            calls = [(tool.name, LEGACY_ARGUMENTS.get(tool.name, {"limit": 10} if tool.name.startswith("list_") else {})) for tool in tools]
        results = []
        for tool, arguments in calls:
            result = await session.call_tool(tool, arguments)
            assert result.is_error is not True, f"{tool}: {text_of(result)}"
            results.append((tool, text_of(result)))
        return results


@pytest.mark.parametrize(("catalog", "calls"), [("hosted", HOSTED_READS), ("legacy", None)])
async def test_every_read_tool_comes_back_redacted_with_ids_and_amounts_intact(tmp_path: Path, catalog: str, calls: Any) -> None:
    (tmp_path / "guarded").mkdir()
    (tmp_path / "open").mkdir()
    guarded = write_config(tmp_path / "guarded")
    unredacted = write_config(tmp_path / "open", profile={"redaction": "off"})
    with anyio.fail_after(60):
        redacted_results = await read_all(guarded, catalog, calls)
        raw_results = await read_all(unredacted, catalog, calls)

    raw_text = "\n".join(text for _, text in raw_results)
    assert set(leaks_in(raw_text)) == set(LEAKS), "control: the sandbox must serve every kind of leak"
    for (tool, text), (_, raw) in zip(redacted_results, raw_results, strict=True):
        assert leaks_in(text) == {}, f"{tool} leaked"
        if raw.lstrip().startswith(("{", "[")):
            assert survivors(json.loads(text)) == survivors(json.loads(raw)), f"{tool} changed an id, amount or status"
    assert "[redacted:" in "\n".join(text for _, text in redacted_results)


async def test_live_profile_withholds_test_mode_objects(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile={"mode": "live", "api_key": LIVE_KEY, "allowed_operations": ["read", "list"]})
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "hosted")) as session:
            result = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 2}})
    assert result.is_error is True
    assert "livemode" in text_of(result) and "cus_" not in text_of(result)


async def test_test_profile_refuses_to_start_with_a_live_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile={"api_key": LIVE_KEY})
    client = await RawClient.start(config, sandbox_command())
    try:
        assert await client.wait() == 1
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert "live" in stderr and LIVE_KEY not in stderr


async def call_reads_until_refused(client: RawClient, count: int) -> list[dict[str, Any]]:
    await client.initialize()
    arguments = {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}}
    return [await client.call("tools/call", {"name": "stripe_api_read", "arguments": arguments}) for _ in range(count)]


async def test_request_is_refused_when_its_audit_record_cannot_be_written(tmp_path: Path) -> None:
    # The audit files may grow to 6 KB: the first records fit, then the disk is "full".
    client = await RawClient.start(write_config(tmp_path), sandbox_command(), file_size_limit=6000)
    try:
        answers = await call_reads_until_refused(client, 12)
    finally:
        await client.aclose()
    served = [a for a in answers if "result" in a]
    refused = [a for a in answers if "error" in a]
    assert served and refused, "the limit must fall inside the session"
    assert all("audit record" in a["error"]["message"] and "File too large" in a["error"]["message"] for a in refused)
    assert all("cus_" not in json.dumps(a) for a in refused)
    assert answers.index(refused[0]) > answers.index(served[-1])  # once full, nothing more is served


async def test_audit_failure_serves_anyway_when_the_profile_says_allow(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile={"audit": {"dir": str(tmp_path / "audit"), "on_failure": "allow"}})
    client = await RawClient.start(config, sandbox_command(), file_size_limit=6000)
    try:
        answers = await call_reads_until_refused(client, 12)
    finally:
        await client.aclose()
    assert all("result" in a for a in answers)
    assert len(audit_records(tmp_path / "audit")) < 13


async def test_once_the_audit_log_is_failing_requests_are_refused_before_they_reach_the_upstream(tmp_path: Path) -> None:
    """The first record that does not fit is refused after its call ran (the answer was ready);
    from then on the guard knows the log is failing and refuses before forwarding."""
    from tests.relay.faults import hostile_command, hostile_profile, received_lines

    received = tmp_path / "received.jsonl"
    config = write_config(tmp_path, profile=hostile_profile())
    client = await RawClient.start(config, hostile_command("--received", str(received)), file_size_limit=4000)
    try:
        with anyio.fail_after(30):
            await client.initialize()
            answers = []
            for index in range(12):
                answers.append(await client.call("tools/call", {"name": "echo", "arguments": {"text": f"call-{index}"}}))
    finally:
        await client.aclose()
    refused = [index for index, answer in enumerate(answers) if "error" in answer]
    assert refused and refused == list(range(refused[0], 12)), "once the disk is full, every later call is refused"
    reached = [line for line in received_lines(received) if '"tools/call"' in line]
    # Only the first refused call ran upstream (its record failed after the answer was ready).
    assert len(reached) == refused[0] + 1
    assert all("audit" in answers[index]["error"]["message"] for index in refused)
