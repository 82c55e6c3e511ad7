"""The legacy catalog (`@stripe/mcp` 0.2.5) over stdio, through a real sandbox process."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession

from tests.sandbox.conftest import (journal_reader, result_json, result_text, sandbox_session,
                                   shared_session_fixture)

pytestmark = pytest.mark.anyio

legacy = shared_session_fixture("--catalog", "legacy")

# Copied from the reference table of @stripe/mcp 0.2.5: tool -> (params, readOnlyHint).
LEGACY_TOOLS = {
    "create_customer": ({"name", "email"}, False),
    "list_customers": ({"limit", "email"}, True),
    "create_product": ({"name", "description"}, False),
    "list_products": ({"limit"}, True),
    "create_price": ({"product", "unit_amount", "currency"}, False),
    "list_prices": ({"product", "limit"}, True),
    "create_payment_link": ({"price", "quantity", "redirect_url"}, False),
    "create_invoice": ({"customer", "days_until_due"}, False),
    "list_invoices": ({"customer", "limit"}, True),
    "create_invoice_item": ({"customer", "price", "invoice"}, False),
    "finalize_invoice": ({"invoice"}, False),
    "retrieve_balance": (set(), True),
    "create_refund": ({"payment_intent", "amount"}, False),
    "list_payment_intents": ({"customer", "limit"}, True),
    "list_subscriptions": ({"customer", "price", "status", "limit"}, True),
    "cancel_subscription": ({"subscription"}, False),
    "update_subscription": ({"subscription", "proration_behavior", "items"}, False),
    "search_stripe_documentation": ({"question", "language"}, True),
    "list_coupons": ({"limit"}, True),
    "create_coupon": ({"name", "percent_off", "amount_off", "currency", "duration",
                       "duration_in_months"}, False),
    "update_dispute": ({"dispute", "evidence", "submit"}, False),
    "list_disputes": ({"charge", "payment_intent", "limit"}, True),
}


async def test_legacy_catalog_has_exactly_the_22_tools_with_their_params_and_hints(
        legacy: ClientSession) -> None:
    with anyio.fail_after(20):
        tools = {t.name: t for t in (await legacy.list_tools()).tools}
    assert set(tools) == set(LEGACY_TOOLS) and len(tools) == 22
    for name, (params, read_only) in LEGACY_TOOLS.items():
        assert set(tools[name].input_schema["properties"]) == params, name
        assert tools[name].annotations.read_only_hint is read_only, name
    assert tools["cancel_subscription"].annotations.destructive_hint is True


async def test_legacy_list_tools_return_stripe_lists_full_of_pii(legacy: ClientSession) -> None:
    with anyio.fail_after(20):
        customers = result_json(await legacy.call_tool("list_customers", {"limit": 2}))
        by_email = result_json(await legacy.call_tool(
            "list_customers", {"email": customers["data"][1]["email"]}))
        intents = result_json(await legacy.call_tool(
            "list_payment_intents", {"customer": customers["data"][1]["id"]}))
        balance = result_json(await legacy.call_tool("retrieve_balance", {}))
    assert customers["object"] == "list" and len(customers["data"]) == 2
    assert [c["id"] for c in by_email["data"]] == [customers["data"][1]["id"]]
    assert intents["data"] and all(i["customer"] == customers["data"][1]["id"]
                                   for i in intents["data"])
    assert all("_secret_" in i["client_secret"] for i in intents["data"])
    assert balance["object"] == "balance"


async def test_legacy_failures_are_plain_text_without_is_error(legacy: ClientSession) -> None:
    with anyio.fail_after(20):
        bad_limit = await legacy.call_tool("list_payment_intents", {"limit": 0})
        missing = await legacy.call_tool("cancel_subscription", {"subscription": "sub_nope"})
    assert result_text(bad_limit) == "Failed to list payment intents"
    assert result_text(missing) == "Failed to cancel subscription"
    assert not bad_limit.is_error and not missing.is_error


async def test_legacy_refund_moves_money_once_and_is_journaled(tmp_path: Path) -> None:
    journal = tmp_path / "writes.jsonl"
    with anyio.fail_after(20):
        async with sandbox_session("--catalog", "legacy", "--journal", str(journal)) as session:
            intents = result_json(await session.call_tool("list_payment_intents", {"limit": 100}))
            paid = next(i for i in intents["data"] if i["status"] == "succeeded")
            refund = result_json(await session.call_tool(
                "create_refund", {"payment_intent": paid["id"], "amount": 100}))
            rest = result_json(await session.call_tool("create_refund",
                                                       {"payment_intent": paid["id"]}))
            nothing_left = await session.call_tool("create_refund", {"payment_intent": paid["id"]})
    assert refund["amount"] == 100 and rest["amount"] == paid["amount"] - 100
    assert result_text(nothing_left) == "Failed to create refund"
    assert journal_reader(journal)() == [
        {"tool": "create_refund", "operation": "PostRefunds", "object": "refund", "id": r["id"]}
        for r in (refund, rest)]


async def test_legacy_cancel_subscription_hides_it_from_the_default_list(tmp_path: Path) -> None:
    with anyio.fail_after(20):
        async with sandbox_session("--catalog", "legacy") as session:
            before = result_json(await session.call_tool("list_subscriptions", {"limit": 100}))
            target = before["data"][0]
            canceled = result_json(await session.call_tool(
                "cancel_subscription", {"subscription": target["id"]}))
            after = result_json(await session.call_tool("list_subscriptions", {"limit": 100}))
            everything = result_json(await session.call_tool(
                "list_subscriptions", {"status": "all", "limit": 100}))
    assert canceled["status"] == "canceled" and canceled["canceled_at"]
    assert target["id"] not in {s["id"] for s in after["data"]}
    assert len(after["data"]) == len(before["data"]) - 1
    assert target["id"] in {s["id"] for s in everything["data"]}
