"""MCP envelopes survive: only Stripe objects get field rules; detectors still run everywhere."""

from __future__ import annotations

import copy
import json

from mcp_guard.redaction import Redactor

TOOLS_LIST = {
    "tools": [
        {
            "name": "list_customers",
            "description": "This tool will fetch a list of Customers from Stripe. It takes: limit (int, optional), email (str, optional).",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "A limit on the number of objects."},
                    "email": {"type": "string", "description": "A case-sensitive filter on the list based on the customer's email field."},
                    "name": {"type": "string", "description": "The customer's name."},
                    "phone": {"type": "string"},
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["email"],
            },
            "annotations": {"title": "List customers", "readOnlyHint": True},
        },
        {
            "name": "stripe_api_read",
            "description": "Read any Stripe API resource by its operation id, e.g. GetCustomersCustomer.",
            "inputSchema": {"type": "object", "properties": {"stripe_api_operation_id": {"type": "string"}, "parameters": {"type": "object"}}},
            "outputSchema": {"type": "object", "properties": {"url": {"type": "string"}, "address": {"type": "object"}}},
        },
    ],
    "nextCursor": "eyJwYWdlIjogMn0=",
}

RESOURCES_LIST = {
    "resources": [
        {"uri": "stripe://docs/customers", "name": "Customers guide", "description": "How customers work", "mimeType": "text/markdown",
         "annotations": {"audience": ["assistant"]}},
        {"uri": "https://docs.stripe.com/api/customers/object", "name": "customer object", "title": "The Customer object", "size": 4096},
    ]
}

PROMPT = {
    "description": "Summarise a customer's account",
    "messages": [{"role": "user", "content": {"type": "resource", "resource": {"uri": "stripe://customer/cus_NffrFeUfNV2Hib", "mimeType": "application/json",
                                                                                  "text": json.dumps({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Jenny Rosen"})}}}],
}


def test_a_tools_list_result_passes_unchanged(test_redactor: Redactor, live_redactor: Redactor):
    for redactor in (test_redactor, live_redactor):
        redacted = redactor.redact(copy.deepcopy(TOOLS_LIST))
        assert redacted.value == TOOLS_LIST
        assert redacted.counts == {} and redacted.pointers == ()


def test_a_resources_list_result_passes_unchanged(test_redactor: Redactor, live_redactor: Redactor):
    for redactor in (test_redactor, live_redactor):
        redacted = redactor.redact(copy.deepcopy(RESOURCES_LIST))
        assert redacted.value == RESOURCES_LIST


def test_an_embedded_resource_is_redacted_but_its_envelope_is_not(test_redactor: Redactor):
    redacted = test_redactor.redact(copy.deepcopy(PROMPT))
    message = redacted.value["messages"][0]["content"]
    assert redacted.value["description"] == PROMPT["description"]
    assert message["resource"]["uri"] == "stripe://customer/cus_NffrFeUfNV2Hib"
    assert json.loads(message["resource"]["text"]) == {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "[redacted:name]"}
    assert redacted.pointers == ("/messages/0/content/resource/text#/name",)


def test_keys_sensitive_wherever_stripe_uses_them_fire_outside_stripe_objects(test_redactor: Redactor):
    # e.g. an upstream's own tool returning {"email": ...} without an `object` field
    redacted = test_redactor.redact({"structuredContent": {"email": "x@example.com", "routing_number": "110000000",
                                                           "name": "Jenny", "client_secret": "abc", "description": "VIP"}})
    assert redacted.value["structuredContent"] == {"email": "[redacted:email]", "routing_number": "[redacted:bank_account]",
                                                   "name": "Jenny", "description": "VIP"}


def test_keys_that_differ_by_object_type_are_not_sensitive_everywhere(test_redactor: Redactor):
    # `name` is a person in a customer but a product's name elsewhere; `description` is an MCP tool's too
    value = {"structuredContent": {"name": "Gold Plan", "description": "Monthly", "url": "https://docs.stripe.com/x"}}
    assert test_redactor.redact(value).value == value


def test_detectors_run_on_envelope_text_error_messages_and_logs(test_redactor: Redactor):
    error = {"code": -32603, "message": "Stripe error for sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE: card 4000 0566 5566 5556 declined"}
    assert test_redactor.redact(error).value == {"code": -32603, "message": "Stripe error for [redacted:secret]: card [redacted:card_number] declined"}
    log = {"level": "error", "logger": "stripe", "data": {"msg": "retry for jenny@example.com", "attempt": 3}}
    assert test_redactor.redact(log).value["data"] == {"msg": "retry for [redacted:email]", "attempt": 3}
    tool_error = {"content": [{"type": "text", "text": "Failed to list customers for jenny@example.com"}], "isError": True}
    assert test_redactor.redact(tool_error).value["content"][0]["text"] == "Failed to list customers for [redacted:email]"


def test_pretty_printed_json_text_stays_pretty(test_redactor: Redactor):
    text = json.dumps({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "a@example.com"}, indent=2)
    out = test_redactor.redact({"content": [{"type": "text", "text": text}]}).value["content"][0]["text"]
    assert out == json.dumps({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "[redacted:email]"}, indent=2)


def test_text_that_only_looks_like_json_gets_the_detectors(test_redactor: Redactor):
    out = test_redactor.redact("{not json} write to jenny@example.com").value
    assert out == "{not json} write to [redacted:email]"


def test_redact_text_applies_detectors_to_a_stderr_line(test_redactor: Redactor):
    line = 'Error: {"email": "jenny@example.com"} key=rk_live_51H7dEFAKEFAKEFAKE1234 whsec_abcdefgh12345678'
    redacted = test_redactor.redact_text(line)
    assert redacted.value == 'Error: {"email": "[redacted:email]"} key=[redacted:secret] [redacted:secret]'
    assert redacted.counts == {"email": 1, "secret": 2}
    assert test_redactor.redact_text("upstream ready on stdio").value == "upstream ready on stdio"
