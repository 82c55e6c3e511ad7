"""The made-up data and the store's Stripe semantics, in process (fast, no MCP)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mcp_guard.sandbox import (PLANTED_CARD_NUMBER, PLANTED_CUSTOMER_EMAIL, PLANTED_EMAIL,
                               PLANTED_SECRET_KEY, WEBHOOK_SECRET, Sandbox, SandboxStore,
                               StripeError, build_fixtures)
from mcp_guard.sandbox._operations import OPERATIONS

PREFIXES = {"customers": "cus_", "payment_intents": "pi_", "charges": "ch_",
            "payment_methods": "pm_", "invoices": "in_", "subscriptions": "sub_", "refunds": "re_",
            "disputes": "dp_", "payouts": "po_", "bank_accounts": "ba_", "products": "prod_",
            "prices": "price_", "webhook_endpoints": "we_"}


def luhn_valid(digits: str) -> bool:
    numbers = [int(d) for d in digits][::-1]
    total = sum(n if i % 2 == 0 else (n * 2 - 9 if n * 2 > 9 else n * 2)
                for i, n in enumerate(numbers))
    return total % 10 == 0


def walk(value: Any) -> Any:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def test_fixtures_are_deterministic_per_seed_and_differ_between_seeds() -> None:
    assert json.dumps(build_fixtures(3)) == json.dumps(build_fixtures(3))
    assert build_fixtures(3)["customers"][0]["id"] != build_fixtures(4)["customers"][0]["id"]


def test_every_object_is_test_mode_with_a_real_id_prefix() -> None:
    data = build_fixtures(0)
    assert len(data["customers"]) == 20
    for resource, prefix in PREFIXES.items():
        assert data[resource], resource
        assert all(o["id"].startswith(prefix) for o in data[resource]), resource
    assert all(o["livemode"] is False for o in walk(data) if "livemode" in o)
    assert data["account"]["id"].startswith("acct_")


def test_planted_leaks_are_present_and_the_card_number_passes_luhn() -> None:
    data = build_fixtures(0)
    text = json.dumps(data)
    first = data["customers"][0]
    assert first["email"] == PLANTED_CUSTOMER_EMAIL  # newest, so first in every list
    assert PLANTED_CARD_NUMBER in first["description"]
    assert PLANTED_EMAIL in text and PLANTED_SECRET_KEY in text and WEBHOOK_SECRET in text
    assert luhn_valid(PLANTED_CARD_NUMBER.replace(" ", ""))
    assert re.search(r"pi_\w+_secret_\w+", text)
    pm = next(p for p in data["payment_methods"] if p["type"] == "us_bank_account")
    assert pm["us_bank_account"]["routing_number"].isdigit()
    assert data["disputes"][0]["evidence"]["customer_email_address"]


def test_search_supports_and_or_negation_metadata_and_numbers() -> None:
    store = SandboxStore(0)
    customers = store.collection("customers")
    a, b = customers[1], customers[2]
    either = store.search("customers", {"query": f"email:'{a['email']}' OR email:'{b['email']}'"})
    crm = store.search("customers", {"query": f"metadata['crm_id']:'{a['metadata']['crm_id']}'"})
    big = store.search("payment_intents", {"query": "amount>100000 AND -status:'canceled'",
                                           "limit": 100})
    assert {c["id"] for c in either["data"]} == {a["id"], b["id"]}
    assert [c["id"] for c in crm["data"]] == [a["id"]]
    assert big["data"] and all(i["amount"] > 100000 for i in big["data"])
    with pytest.raises(StripeError):
        store.search("customers", {"query": "this is not a query"})


def test_ending_before_pages_backwards_and_limit_is_bounded() -> None:
    store = SandboxStore(0)
    ids = [c["id"] for c in store.collection("customers")]
    page = store.list("customers", {"ending_before": ids[10], "limit": 3})
    assert [c["id"] for c in page["data"]] == ids[7:10]
    with pytest.raises(StripeError):
        store.list("customers", {"limit": 101})


def test_every_operation_id_follows_its_http_method() -> None:
    for op_id, op in OPERATIONS.items():
        assert op_id.startswith({"GET": "Get", "POST": "Post", "DELETE": "Delete"}[op.method])
        assert op.is_write is (op.method != "GET")


def test_each_write_tool_of_the_hosted_catalog_journals_what_it_did(tmp_path: Any) -> None:
    journal = tmp_path / "j.jsonl"
    sandbox = Sandbox("hosted", journal_path=journal)
    sandbox.call_tool("send_stripe_mcp_feedback", {"feedback": "hi"})
    sandbox.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers"})
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(e["tool"], e["operation"]) for e in lines] == [
        ("send_stripe_mcp_feedback", "SendStripeMcpFeedback")]
