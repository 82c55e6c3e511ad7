"""The hosted catalog over stdio: a real `python -m mcp_guard.sandbox` process and the SDK client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp_types import CallToolResult

from tests.sandbox.conftest import (journal_reader, result_json, sandbox_session,
                                   shared_session_fixture)

pytestmark = pytest.mark.anyio

# Read-only tests share this process; tests that write start their own for fresh state.
hosted = shared_session_fixture("--catalog", "hosted")

HOSTED_TOOLS = {
    "stripe_api_search", "stripe_api_details", "stripe_api_read", "stripe_api_write",
    "get_stripe_account_info", "get_balance_summary", "search_stripe_documentation",
    "stripe_analytics", "send_stripe_mcp_feedback", "list_available_accounts_or_orgs",
    "create_refund",
}


async def read(session: ClientSession, operation_id: str, **parameters: Any) -> CallToolResult:
    return await session.call_tool("stripe_api_read", {"stripe_api_operation_id": operation_id,
                                                        "parameters": parameters})


async def test_hosted_catalog_lists_the_generic_dispatchers_with_hints(hosted: ClientSession) -> None:
    with anyio.fail_after(20):
        tools = {t.name: t for t in (await hosted.list_tools()).tools}
    assert set(tools) == HOSTED_TOOLS
    assert tools["stripe_api_read"].annotations.read_only_hint is True
    assert tools["stripe_api_write"].annotations.read_only_hint is False
    assert tools["stripe_api_write"].annotations.destructive_hint is True
    props = tools["stripe_api_write"].input_schema["properties"]
    assert {"stripe_api_operation_id", "parameters", "livemode", "stripe_context"} <= set(props)


async def test_list_result_is_one_text_item_holding_a_test_mode_stripe_list(hosted: ClientSession) -> None:
    with anyio.fail_after(20):
        result = await read(hosted, "GetCustomers", limit=3)
    body = result_json(result)
    assert result.is_error is not True
    assert body["object"] == "list" and body["url"] == "/v1/customers"
    assert body["has_more"] is True and len(body["data"]) == 3
    for customer in body["data"]:
        assert customer["id"].startswith("cus_") and customer["livemode"] is False
        assert "@" in customer["email"] and customer["address"]["line1"]


async def test_pagination_with_starting_after_visits_every_customer_once(hosted: ClientSession) -> None:
    seen: list[str] = []
    pages = 0
    with anyio.fail_after(20):
        cursor: dict[str, str] = {}
        while True:
            page = result_json(await read(hosted, "GetCustomers", limit=7, **cursor))
            pages += 1
            seen += [c["id"] for c in page["data"]]
            if not page["has_more"]:
                break
            cursor = {"starting_after": page["data"][-1]["id"]}
    assert pages == 3
    assert len(seen) == len(set(seen)) == 20


async def test_expand_inlines_the_latest_charge_with_card_details(hosted: ClientSession) -> None:
    with anyio.fail_after(20):
        plain = result_json(await read(hosted, "GetPaymentIntents", limit=2))
        expanded = result_json(await read(hosted, "GetPaymentIntents", limit=2,
                                          expand=["data.latest_charge"]))
        payout = result_json(await read(hosted, "GetPayouts", limit=1,
                                        expand=["data.destination"]))["data"][0]
    assert plain["data"][0]["latest_charge"].startswith("ch_")
    intent = expanded["data"][0]
    assert "_secret_" in intent["client_secret"]
    charge = intent["latest_charge"]
    assert charge["id"] == plain["data"][0]["latest_charge"]
    card = charge["payment_method_details"]["card"]
    assert {"brand", "last4", "exp_month", "exp_year", "fingerprint", "country", "checks"} <= set(card)
    assert charge["outcome"]["risk_level"] in {"normal", "elevated", "highest"}
    assert payout["destination"]["object"] == "bank_account"
    assert payout["destination"]["routing_number"].isdigit()


async def test_search_by_email_finds_the_customer_with_planted_leaks(hosted: ClientSession) -> None:
    from mcp_guard.sandbox import PLANTED_CARD_NUMBER, PLANTED_CUSTOMER_EMAIL, PLANTED_SECRET_KEY

    with anyio.fail_after(20):
        found = result_json(await read(hosted, "GetCustomersSearch",
                                       query=f"email:'{PLANTED_CUSTOMER_EMAIL}'"))
    assert found["object"] == "search_result"
    [customer] = found["data"]
    assert PLANTED_CARD_NUMBER in customer["description"]
    assert PLANTED_SECRET_KEY in customer["metadata"]["support_note"]


async def test_a_refund_sent_through_stripe_api_read_really_happens_and_is_journaled(
        tmp_path: Path) -> None:
    journal = tmp_path / "writes.jsonl"
    entries = journal_reader(journal)
    with anyio.fail_after(20):
        async with sandbox_session("--journal", str(journal)) as session:
            intents = result_json(await read(session, "GetPaymentIntents", limit=100))["data"]
            paid = next(i for i in intents if i["status"] == "succeeded")
            before = result_json(await read(session, "GetRefunds", limit=100))["data"]
            assert entries() == []  # reads never touch the journal
            refund = result_json(await read(session, "PostRefunds", payment_intent=paid["id"]))
            after = result_json(await read(session, "GetRefunds", limit=100))["data"]
            again = await read(session, "PostRefunds", payment_intent=paid["id"])
    assert refund["object"] == "refund" and refund["amount"] == paid["amount"]
    assert refund["payment_intent"] == paid["id"]
    assert [r["id"] for r in after] == [refund["id"]] + [r["id"] for r in before]
    assert entries() == [{"tool": "stripe_api_read", "operation": "PostRefunds",
                          "object": "refund", "id": refund["id"]}]
    assert again.is_error is True  # nothing left to refund: the first refund changed state
    assert result_json(again)["error"]["code"] == "charge_already_refunded"


async def test_deleted_customer_is_gone_from_retrieve_and_list(tmp_path: Path) -> None:
    journal = tmp_path / "writes.jsonl"
    with anyio.fail_after(20):
        async with sandbox_session("--journal", str(journal)) as session:
            first = result_json(await read(session, "GetCustomers", limit=1))["data"][0]
            deleted = await session.call_tool("stripe_api_write", {
                "stripe_api_operation_id": "DeleteCustomersCustomer",
                "parameters": {"customer": first["id"]}})
            missing = await read(session, "GetCustomersCustomer", customer=first["id"])
            listed = result_json(await read(session, "GetCustomers", limit=100))["data"]
    assert result_json(deleted) == {"id": first["id"], "object": "customer", "deleted": True}
    assert missing.is_error is True
    assert result_json(missing)["error"]["code"] == "resource_missing"
    assert first["id"] not in {c["id"] for c in listed} and len(listed) == 19
    assert journal_reader(journal)() == [{"tool": "stripe_api_write",
                                          "operation": "DeleteCustomersCustomer",
                                          "object": "customer", "id": first["id"]}]


async def test_update_and_finalize_change_state_for_later_reads() -> None:
    with anyio.fail_after(20):
        async with sandbox_session() as session:
            customer = result_json(await read(session, "GetCustomers", limit=1))["data"][0]
            await session.call_tool("stripe_api_write", {
                "stripe_api_operation_id": "PostCustomersCustomer",
                "parameters": {"customer": customer["id"], "metadata": {"tier": "gold"}}})
            updated = result_json(await read(session, "GetCustomersCustomer",
                                             customer=customer["id"]))
            invoices = result_json(await read(session, "GetInvoices", limit=100))["data"]
            draft = next(i for i in invoices if i["status"] == "draft")
            finalized = result_json(await read(session, "PostInvoicesInvoiceFinalize",
                                               invoice=draft["id"]))
    assert updated["metadata"]["tier"] == "gold"
    assert updated["metadata"]["crm_id"] == customer["metadata"]["crm_id"]
    assert finalized["status"] == "open" and finalized["hosted_invoice_url"].startswith("https://")


async def test_unknown_operation_and_unknown_tool_are_errors(hosted: ClientSession) -> None:
    from mcp.shared.exceptions import MCPError

    with anyio.fail_after(20):
        unknown_op = await read(hosted, "GetNoSuchThing")
        with pytest.raises(MCPError, match="no_such_tool"):
            await hosted.call_tool("no_such_tool", {})
    assert unknown_op.is_error is True
    assert "GetNoSuchThing" in result_json(unknown_op)["error"]["message"]


async def test_account_balance_docs_and_api_metadata_tools_answer(hosted: ClientSession) -> None:
    with anyio.fail_after(20):
        account = result_json(await hosted.call_tool("get_stripe_account_info", {}))
        balance = result_json(await hosted.call_tool("get_balance_summary", {}))
        docs = result_json(await hosted.call_tool(
            "search_stripe_documentation", {"question": "How do I refund?", "language": "python"}))
        ops = result_json(await hosted.call_tool("stripe_api_search", {"query": "refunds"}))
        details = result_json(await hosted.call_tool(
            "stripe_api_details", {"stripe_api_operation_id": "PostRefunds"}))
    assert account["id"].startswith("acct_") and account["tos_acceptance"]["ip"]
    assert balance["object"] == "balance" and balance["available"][0]["amount"] > 0
    assert docs[0]["url"].startswith("https://docs.stripe.com/")
    assert {"GetRefunds", "PostRefunds"} <= {o["stripe_api_operation_id"] for o in ops}
    assert details["method"] == "POST" and details["dispatcher"] == "stripe_api_write"
