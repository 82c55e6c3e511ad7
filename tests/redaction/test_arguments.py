"""Tool-call arguments as the audit trail keeps them: PII masked, Stripe search queries field by field."""

from __future__ import annotations

import json

from mcp_guard.redaction import RedactionSettings, Redactor, build_redactor
from tests.redaction.conftest import TEST_KEY


def read(operation: str, **parameters: object) -> dict[str, object]:
    return {"stripe_api_operation_id": operation, "parameters": parameters}


def test_a_search_on_an_email_keeps_the_field_and_masks_the_value(test_redactor: Redactor):
    out = test_redactor.redact_arguments(read("GetCustomersSearch", query="email:'jenny@example.com' AND name~\"Jenny\"", limit=10))
    assert out.value["parameters"] == {"query": 'email:"[redacted:email]" AND name~"[redacted:name]"', "limit": 10}
    assert out.counts["email"] == 1 and out.counts["name"] == 1


def test_a_search_on_safe_fields_and_a_kept_metadata_key_is_recorded_as_written():
    redactor = build_redactor(RedactionSettings(metadata_keep=["booking_id"]), "live", TEST_KEY)
    query = "status:'succeeded' AND amount>1000 AND metadata['booking_id']:'BK-2291' AND created>1680000000"
    out = redactor.redact_arguments(read("GetPaymentIntentsSearch", query=query))
    assert out.value["parameters"]["query"] == query
    assert not out.changed


def test_other_metadata_keys_and_unknown_fields_are_masked(live_redactor: Redactor):
    query = "metadata['crm_note']:'call Jenny' -future_field:'x y'"
    out = live_redactor.redact_arguments(read("GetChargesSearch", query=query))
    assert out.value["parameters"]["query"] == 'metadata[\'crm_note\']:"[redacted:metadata]" -future_field:"[redacted:unknown]"'


def test_a_nested_search_field_is_classified_by_the_table(live_redactor: Redactor):
    out = live_redactor.redact_arguments(read("GetChargesSearch", query="payment_method_details.card.last4:4242 AND currency:'usd'"))
    assert out.value["parameters"]["query"] == 'payment_method_details.card.last4:"[redacted:card]" AND currency:\'usd\''


def test_a_query_that_does_not_parse_is_masked_whole(live_redactor: Redactor):
    out = live_redactor.redact_arguments(read("GetCustomersSearch", query="email:'jenny@example.com"))
    assert out.value["parameters"]["query"] == "[redacted:query]"


def test_parameters_sent_as_json_text_are_masked_too(test_redactor: Redactor):
    args = {"stripe_api_operation_id": "GetCustomersSearch", "parameters": '{"query": "phone:\'+14155552671\'"}'}
    out = test_redactor.redact_arguments(args)
    assert "+14155552671" not in str(out.value) and "redacted:phone" in str(out.value)


def test_legacy_tool_arguments_lose_emails_and_keep_ids(test_redactor: Redactor):
    out = test_redactor.redact_arguments({"email": "jenny@example.com", "limit": 3, "customer": "cus_NffrFeUfNV2Hib"})
    assert out.value == {"email": "[redacted:email]", "limit": 3, "customer": "cus_NffrFeUfNV2Hib"}


def test_free_text_arguments_pass_the_detectors_and_learned_values(test_redactor: Redactor):
    test_redactor.redact({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Hiroshi Adeyemi"})
    out = test_redactor.redact_arguments({"question": "why did Hiroshi Adeyemi's card 4242 4242 4242 4242 fail?"})
    assert out.value == {"question": "why did [redacted:name]'s card [redacted:card_number] fail?"}


def test_the_callers_arguments_are_not_mutated(test_redactor: Redactor):
    args = read("GetCustomersSearch", query="email:'jenny@example.com'")
    test_redactor.redact_arguments(args)
    assert args == read("GetCustomersSearch", query="email:'jenny@example.com'")


def test_a_create_calls_body_is_recorded_without_the_persons_name_address_description_or_metadata(test_redactor: Redactor,
                                                                                                 live_redactor: Redactor):
    body = {"name": "Jenny Rosen", "email": "jenny@example.com", "phone": "+1 555 010 9999", "description": "Prefers calls after 6pm",
            "address": {"line1": "510 Townsend St", "city": "San Francisco", "postal_code": "94103", "country": "US"},
            "metadata": {"crm_note": "call Jenny at home"}, "currency": "usd", "limit": 10}
    for redactor in (test_redactor, live_redactor):
        for arguments in (body, {"stripe_api_operation_id": "PostCustomers", "parameters": body}):
            out = json.dumps(redactor.redact_arguments(arguments).value)
            hidden = ("Jenny", "jenny@example.com", "555 010", "6pm", "510 Townsend", "San Francisco", "94103", "call Jenny")
            assert not [value for value in hidden if value in out], out
            # What the name usually is in Stripe's model decides: a country and a currency are codes, kept.
            assert '"country": "US"' in out and '"currency": "usd"' in out and '"limit": 10' in out
            assert "PostCustomers" in out or "stripe_api_operation_id" not in arguments
