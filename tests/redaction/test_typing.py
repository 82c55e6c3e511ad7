"""Typing where Stripe omits `object`: events' previous attributes, expansions, sub-objects, operation ids."""

from __future__ import annotations

import json
from typing import Any

from mcp_guard.redaction import RedactionSettings, Redactor, build_redactor
from tests.redaction.conftest import TEST_KEY, redact_as_tool_result

CUSTOMER = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Hiroshi Adeyemi", "email": "hiroshi@example.com",
            "address": {"line1": "9 Harbor Way", "city": "Austin", "country": "US"}, "created": 1680893993, "livemode": False}


def event(obj: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "api_version": "2025-03-31.basil", "created": 1686089970,
            "type": f"{obj['object']}.updated", "livemode": False, "pending_webhooks": 0,
            "request": {"id": "req_Gt0TS7hLCkm7vJ", "idempotency_key": None},
            "data": {"object": obj, "previous_attributes": previous}}


def test_previous_attributes_are_typed_like_the_events_object(test_redactor: Redactor):
    previous = {"name": "Hiroshi Old-Name", "email": "old@example.com", "address": {"line1": "1 Old Road", "country": "JP"}}
    out, _ = redact_as_tool_result(test_redactor, event(CUSTOMER, previous))
    assert out["data"]["previous_attributes"] == {"name": "[redacted:name]", "email": "[redacted:email]",
                                                  "address": {"line1": "[redacted:address]", "country": "JP"}}
    assert out["data"]["object"]["name"] == "[redacted:name]"
    assert (out["id"], out["type"], out["created"], out["request"]) == ("evt_1NG8Du2eZvKYlo2CUI79vXWy", "customer.updated", 1686089970,
                                                                       {"id": "req_Gt0TS7hLCkm7vJ", "idempotency_key": None})


def test_previous_attributes_of_a_charge_mask_nested_billing_names(live_redactor: Redactor):
    charge = {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": 1099, "status": "succeeded"}
    previous = {"billing_details": {"name": "Ama Mensah"}, "metadata": {"order": "42"}, "amount": 1000}
    out, _ = redact_as_tool_result(live_redactor, event(charge, previous))
    assert out["data"]["previous_attributes"] == {"billing_details": {"name": "[redacted:name]"}, "metadata": {"order": "[redacted:metadata]"},
                                                  "amount": 1000}


def test_an_expansion_without_object_takes_its_type_from_the_table(test_redactor: Redactor):
    customer = {k: v for k, v in CUSTOMER.items() if k != "object"}
    charge = {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": 1099, "customer": customer}
    out, _ = redact_as_tool_result(test_redactor, charge)
    assert out["customer"]["name"] == "[redacted:name]" and out["customer"]["address"]["line1"] == "[redacted:address]"
    assert out["customer"]["id"] == "cus_NffrFeUfNV2Hib"


def test_an_expansion_with_object_is_typed_by_it(test_redactor: Redactor):
    out, _ = redact_as_tool_result(test_redactor, {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "customer": CUSTOMER})
    assert out["customer"]["email"] == "[redacted:email]"


def test_an_expandable_field_holding_an_id_keeps_it(test_redactor: Redactor):
    charge = {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "customer": "cus_NffrFeUfNV2Hib", "balance_transaction": "txn_1MiN3gLkdIwHu7ixxapQrznl"}
    out, redacted = redact_as_tool_result(test_redactor, charge)
    assert out == charge and not redacted.changed


def test_an_expandable_field_holding_a_name_instead_of_an_id_fails_closed():
    live = build_redactor(RedactionSettings(), "live", TEST_KEY)
    out, _ = redact_as_tool_result(live, {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "customer": "Hiroshi Adeyemi"})
    assert out["customer"] == "[redacted:unknown]"


def test_sub_objects_are_typed_by_their_path(test_redactor: Redactor):
    charge = {"id": "ch_1", "object": "charge", "payment_method_details": {"type": "card", "card": {
        "brand": "visa", "wallet": {"type": "masterpass", "masterpass": {"name": "Ama Mensah", "email": "ama@example.com",
                                                                        "billing_address": {"line1": "2 Elm", "country": "GH"}}}}}}
    out, _ = redact_as_tool_result(test_redactor, charge)
    masterpass = out["payment_method_details"]["card"]["wallet"]["masterpass"]
    assert masterpass == {"name": "[redacted:name]", "email": "[redacted:email]", "billing_address": {"line1": "[redacted:address]", "country": "GH"}}
    assert out["payment_method_details"]["card"]["brand"] == "visa"


def test_a_polymorphic_field_is_typed_by_the_objects_own_type(test_redactor: Redactor):
    card = {"id": "card_1MvoIJ2eZvKYlo2C", "object": "card", "name": "Ama Mensah", "last4": "4242", "brand": "Visa", "address_zip": "94107"}
    out, _ = redact_as_tool_result(test_redactor, {"id": "ch_1", "object": "charge", "source": card})
    assert out["source"] == {"id": "card_1MvoIJ2eZvKYlo2C", "object": "card", "name": "[redacted:name]", "last4": "[redacted:card]",
                             "brand": "Visa", "address_zip": "[redacted:address]"}


def test_the_operation_id_types_a_result_without_object(test_redactor: Redactor):
    bare = {k: v for k, v in CUSTOMER.items() if k != "object"}
    typed, _ = redact_as_tool_result(test_redactor, bare, operation_id="GetCustomersCustomer")
    assert typed["name"] == "[redacted:name]" and typed["address"]["city"] == "[redacted:address]"
    untyped, _ = redact_as_tool_result(build_redactor(RedactionSettings(), "test", TEST_KEY), bare)
    assert untyped["name"] == "Hiroshi Adeyemi"  # `name` is not sensitive everywhere: a product has one too
    assert untyped["email"] == "[redacted:email]"


def test_the_operation_id_types_the_items_of_a_list_page(test_redactor: Redactor):
    bare = {k: v for k, v in CUSTOMER.items() if k != "object"}
    page = {"object": "list", "data": [bare, bare], "has_more": False, "url": "/v1/customers"}
    out, _ = redact_as_tool_result(test_redactor, page, operation_id="GetCustomers")
    assert [item["name"] for item in out["data"]] == ["[redacted:name]", "[redacted:name]"]
    search = {"object": "search_result", "data": [bare], "has_more": True, "next_page": "WzE2ODA4OTM5OTNd", "url": "/v1/customers/search"}
    out, _ = redact_as_tool_result(test_redactor, search, operation_id="GetCustomersSearch")
    assert out["data"][0]["name"] == "[redacted:name]" and out["next_page"] == "WzE2ODA4OTM5OTNd"


def test_a_legacy_tool_name_types_its_result(test_redactor: Redactor):
    bare = {k: v for k, v in CUSTOMER.items() if k != "object"}
    out, _ = redact_as_tool_result(test_redactor, [bare], tool="list_customers")
    assert out[0]["name"] == "[redacted:name]"


def test_a_stripe_error_body_is_not_typed_by_the_operation(test_redactor: Redactor):
    error = {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such customer: 'cus_NffrFeUfNV2Hib'",
                       "param": "customer", "doc_url": "https://stripe.com/docs/error-codes/resource-missing"}}
    out, redacted = redact_as_tool_result(test_redactor, error, operation_id="GetCustomersCustomer")
    assert out == error and not redacted.changed


def test_an_object_of_a_type_the_table_does_not_know_fails_closed():
    future = {"id": "fut_1NG8Du2eZvKYlo2C", "object": "future.thing", "holder": "Ama Mensah", "amount": 5, "customer": "cus_NffrFeUfNV2Hib"}
    live = build_redactor(RedactionSettings(), "live", TEST_KEY)
    out, _ = redact_as_tool_result(live, future)
    assert out == {**future, "holder": "[redacted:unknown]"}


def test_structured_content_is_typed_like_json_text(test_redactor: Redactor):
    bare = {k: v for k, v in CUSTOMER.items() if k != "object"}
    out = test_redactor.redact({"content": [], "structuredContent": bare}, operation_id="GetCustomersCustomer").value
    assert out["structuredContent"]["name"] == "[redacted:name]"


def test_the_balance_object_survives_byte_identical(test_redactor: Redactor):
    balance = {"object": "balance", "available": [{"amount": 1234567, "currency": "usd", "source_types": {"card": 1234567}}],
               "pending": [{"amount": 0, "currency": "eur", "source_types": {"bank_account": 0}}], "livemode": False}
    text = json.dumps(balance)
    out = test_redactor.redact({"content": [{"type": "text", "text": text}]}, operation_id="GetBalance")
    assert out.value["content"][0]["text"] == text


def test_an_id_field_the_sdk_types_as_a_string_is_still_typed_when_it_holds_an_object(test_redactor: Redactor):
    method = {"id": "pm_1MqjB62eZvKYlo2C", "object": "payment_method", "billing_details": {"name": "Ama Mensah", "email": "ama@example.com"}}
    out, _ = redact_as_tool_result(test_redactor, {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "payment_method": method})
    assert out["payment_method"]["billing_details"] == {"name": "[redacted:name]", "email": "[redacted:email]"}
