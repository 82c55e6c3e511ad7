"""Issue 3, end to end: through `mcp-guard run` to the sandbox, a blocked write is neither listed nor
executed (the sandbox's own write journal proves it), and reads still work."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from tests.relay.harness import audit_records, journal_entries, sandbox_command, sdk_session, text_of, write_config

pytestmark = pytest.mark.anyio

# Ids are filled in from the sandbox's own data, so each write would really succeed if let through.
WRITE_ATTEMPTS = [
    ("stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "{pi}"}}),
    ("stripe_api_write", {"stripe_api_operation_id": "DeleteCustomersCustomer", "parameters": {"customer": "{cus}"}}),
    ("stripe_api_read", {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "{pi}"}}),
    ("stripe_api_read", {"stripe_api_operation_id": "DeleteCustomersCustomer", "parameters": {"customer": "{cus}"}}),
    ("create_refund", {"payment_intent": "{pi}"}),
]


async def real_ids(session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A succeeded payment intent and a customer, read through the guard."""
    intents = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents", "parameters": {"limit": 20}})
    succeeded = next(pi for pi in json.loads(text_of(intents))["data"] if pi["status"] == "succeeded")
    customers = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}})
    return {"pi": succeeded["id"], "cus": json.loads(text_of(customers))["data"][0]["id"]}


def with_ids(arguments: dict, ids: dict[str, str]) -> dict:
    text = json.dumps(arguments)
    for name, value in ids.items():
        text = text.replace("{" + name + "}", value)
    return json.loads(text)



async def test_hosted_catalog_hides_write_tools_and_keeps_reads(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "hosted")) as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
    assert "stripe_api_read" in names and "get_balance_summary" in names
    assert not names & {"stripe_api_write", "create_refund", "send_stripe_mcp_feedback"}


async def test_legacy_catalog_lists_only_read_tools(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "legacy")) as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
    assert {"list_customers", "list_payment_intents", "retrieve_balance"} <= names
    assert not {name for name in names if name.split("_")[0] in {"create", "update", "cancel", "finalize"}}


@pytest.mark.parametrize(("tool", "arguments"), WRITE_ATTEMPTS, ids=[f"{t}:{a.get('stripe_api_operation_id', '')}" for t, a in WRITE_ATTEMPTS])
async def test_blocked_write_is_refused_and_never_executed(tmp_path: Path, tool: str, arguments: dict) -> None:
    journal = tmp_path / "journal.jsonl"
    config = write_config(tmp_path)
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "hosted", "--journal", str(journal))) as session:
            result = await session.call_tool(tool, with_ids(arguments, await real_ids(session)))
    assert result.is_error is True
    assert "mcp-guard denied" in text_of(result)
    assert journal_entries(journal) == []
    calls = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert [r["decision"] for r in calls] == ["allow", "allow", "deny"]
    assert calls[-1]["outcome"] == "denied" and calls[-1]["tool"] == tool


async def test_the_sandbox_would_execute_a_write_if_the_guard_let_it(tmp_path: Path) -> None:
    """The control for the test above: the same write, allowed by a permissive profile, lands in the journal."""
    journal = tmp_path / "journal.jsonl"
    config = write_config(tmp_path, profile={"allowed_operations": ["read", "list", "search", "create"], "blocked_operations": []})
    tool, arguments = WRITE_ATTEMPTS[0]
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "hosted", "--journal", str(journal))) as session:
            result = await session.call_tool(tool, with_ids(arguments, await real_ids(session)))
    assert result.is_error is not True, text_of(result)
    assert [entry["operation"] for entry in journal_entries(journal)] == ["PostRefunds"]


async def test_allowed_read_returns_stripe_data_with_ids_and_amounts(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with anyio.fail_after(30):
        async with sdk_session(config, sandbox_command("--catalog", "hosted")) as session:
            result = await session.call_tool(
                "stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents", "parameters": {"limit": 3}}
            )
    assert result.is_error is not True
    payload = json.loads(text_of(result))
    assert payload["object"] == "list" and len(payload["data"]) == 3
    for intent in payload["data"]:
        assert intent["id"].startswith("pi_") and isinstance(intent["amount"], int)
        assert "_secret_" not in json.dumps(intent)


async def test_the_shipped_live_profile_searches_by_booking_id_and_refuses_an_email_search(tmp_path: Path) -> None:
    """The packaged default, live profile, against the sandbox's live-mode data."""
    from mcp_guard.config import default_config_path
    from tests.factories import FAKE_LIVE_KEY

    env = {"STRIPE_LIVE_KEY": FAKE_LIVE_KEY}
    with anyio.fail_after(30):
        async with sdk_session(default_config_path(), sandbox_command("--livemode"), profile="live", env=env) as session:
            page = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents", "parameters": {"limit": 5}})
            booking = json.loads(text_of(page))["data"][0]["metadata"]["booking_id"]
            query = f"metadata['booking_id']:'{booking}'"
            found = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntentsSearch", "parameters": {"query": query}})
            probe = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomersSearch", "parameters": {"query": "email~'jenny'"}})
    assert not found.is_error
    hits = json.loads(text_of(found))["data"]
    assert hits and all(hit["metadata"]["booking_id"] == booking for hit in hits)
    assert probe.is_error and "search_fields" in text_of(probe) and "email" in text_of(probe)
