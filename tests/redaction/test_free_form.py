"""JSON no schema describes, from the upstream: a log notification's `data`, a sampling request's `metadata`.

MCP leaves their shape to the server, so a customer can arrive there whole, without `object`.
Every field gets the unknown-field rule: a key takes the most sensitive class its name has in
Stripe's model, and any other string is masked in live and scanned in test. Ids and numbers stay.
"""

from __future__ import annotations

import json

from mcp_guard.checks.redaction import RedactionFilter
from mcp_guard.redaction import Redactor

LOGGED = {"customer": {"id": "cus_NffrFeUfNV2Hib", "name": "Jenny Rosen", "email": "jenny@example.com", "balance": 1250,
                       "address": {"line1": "510 Townsend St", "city": "San Francisco"}}, "remark": "Jenny Rosen called about her refund"}


def test_a_customer_logged_by_the_upstream_reaches_the_client_without_name_email_or_address(test_redactor: Redactor,
                                                                                           live_redactor: Redactor) -> None:
    for redactor in (test_redactor, live_redactor):
        message = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "logger": "stripe", "data": LOGGED}}
        out = RedactionFilter(redactor).on_upstream_message(message)
        assert out is not None
        shown = json.dumps(out)
        assert not [value for value in ("Jenny Rosen", "jenny@example.com", "510 Townsend", "San Francisco") if value in shown], shown
        data = out["params"]["data"]
        assert data["customer"]["id"] == "cus_NffrFeUfNV2Hib" and data["customer"]["balance"] == 1250
        assert out["params"]["level"] == "info" and out["params"]["logger"] == "stripe"


def test_in_live_the_logged_text_is_masked_and_in_test_it_is_scanned_with_what_was_learned(test_redactor: Redactor,
                                                                                          live_redactor: Redactor) -> None:
    message = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": LOGGED}}
    live = RedactionFilter(live_redactor).on_upstream_message(message)
    test = RedactionFilter(test_redactor).on_upstream_message(message)
    assert live is not None and test is not None
    assert live["params"]["data"]["remark"] == "[redacted:unknown]"
    assert test["params"]["data"]["remark"] == "[redacted:name] called about her refund"  # learned from the logged customer


def test_sampling_metadata_is_free_form_too(live_redactor: Redactor) -> None:
    request = {"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage",
               "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "Summarise the account"}}], "maxTokens": 200,
                          "metadata": {"name": "Jenny Rosen", "customer": "cus_NffrFeUfNV2Hib"}}}
    out = RedactionFilter(live_redactor).on_upstream_message(request)
    assert out is not None
    assert out["params"]["metadata"] == {"name": "[redacted:name]", "customer": "cus_NffrFeUfNV2Hib"}
    assert out["params"]["messages"] == request["params"]["messages"] and out["params"]["maxTokens"] == 200
