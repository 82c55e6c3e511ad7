"""Nothing exported ever holds an argument value, a result or PII, even when the client sends some."""

from __future__ import annotations

import pytest

EMAIL = "jane.doe@example.com"
CARD = "4242424242424242"
KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKEkey00000000"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SENSITIVE = (EMAIL, CARD, "4242 4242 4242 4242", KEY, "jane.doe")

REQUEST = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {
        "name": "create_customer",
        "arguments": {"email": EMAIL, "description": "card 4242 4242 4242 4242", "payment_method": CARD, "note": KEY},
        "_meta": {"traceparent": TRACEPARENT, "progressToken": "p-1", "io.example/contact": EMAIL},
    },
}
RESULT = {"content": [{"type": "text", "text": f"customer {EMAIL} card {CARD}"}], "isError": False}


def relay_one_request(telemetry, request):
    """Drive the hooks the way the relay does, handing them the whole request."""
    params = request["params"]
    span = telemetry.start_request(
        request["method"],
        target=params["name"],
        request_id=request["id"],
        protocol_version="2025-06-18",
        client_meta=params["_meta"],
    )
    forwarded_meta = span.inject(params["_meta"])
    span.finish(
        outcome="denied",
        error_type="tool_error",
        decision="deny",
        rule="blocked.create",
        operation="create",
        redactions={"email": 1, "card_number": 1, "secret": 1},
    )
    return forwarded_meta


def assert_nothing_sensitive(text):
    assert "tools/call" in text  # the search ran over real exported content
    for value in SENSITIVE:
        assert value not in text


def test_a_request_full_of_pii_exports_none_of_it(recorded):
    forwarded_meta = relay_one_request(recorded.telemetry, REQUEST)

    text = recorded.exported_text()
    assert "tools/call create_customer" in text
    assert "mcp_guard.redactions" in text
    assert_nothing_sensitive(text)
    # The client's own _meta still travels upstream: forwarded, never exported.
    assert forwarded_meta["io.example/contact"] == EMAIL


@pytest.mark.parametrize(
    "field, value",
    [("name", EMAIL), ("name", KEY), ("name", CARD), ("id", EMAIL), ("id", KEY), ("id", int(CARD))],
)
def test_pii_in_a_tool_name_or_request_id_is_not_exported(recorded, field, value):
    request = {**REQUEST, "params": {**REQUEST["params"]}}
    if field == "id":
        request["id"] = value
    else:
        request["params"]["name"] = value

    relay_one_request(recorded.telemetry, request)

    assert_nothing_sensitive(recorded.exported_text())
