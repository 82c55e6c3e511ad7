"""JSON inside a text that is not one document as a whole is redacted as JSON, not as prose.

Prose around a Stripe object, a Markdown code fence, a byte order mark, one document per line:
field rules apply to each document (typed by its `object`), the text around them passes the
detectors. A text crafted so that every bracket starts an almost-document is refused (fail
closed) in bounded time, never scanned for minutes or passed unchecked.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mcp_guard.errors import RedactionError
from mcp_guard.json_in_text import json_documents
from mcp_guard.redaction import Redactor

CUSTOMER = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Hiroshi Adeyemi", "email": "hiroshi@example.com",
            "address": {"line1": "9 Harbor Way", "city": "Austin", "country": "US"}, "description": "Prefers calls after 6pm",
            "balance": 1250, "created": 1680893993, "livemode": False}
PII = ("Hiroshi", "Adeyemi", "hiroshi@example.com", "9 Harbor Way", "Austin", "Prefers calls")

WRAPPINGS = {
    "prose before": lambda doc: "Customer: " + doc,
    "prose after": lambda doc: doc + "\n(1 result)",
    "markdown fence": lambda doc: "Here it is:\n```json\n" + doc + "\n```\n",
    "byte order mark": lambda doc: "\ufeff" + doc,
    "one per line": lambda doc: doc + "\n" + doc + "\n",
    "brackets in the prose": lambda doc: "[1] see {name} and [redacted:email]: " + doc,
}


def redact_text(redactor: Redactor, text: str) -> str:
    out: str = redactor.redact({"content": [{"type": "text", "text": text}]}).value["content"][0]["text"]
    return out


@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "indented"])
@pytest.mark.parametrize("wrap", WRAPPINGS.values(), ids=WRAPPINGS.keys())
@pytest.mark.parametrize("mode", ["test", "live"])
def test_a_stripe_object_wrapped_in_text_loses_its_sensitive_fields(mode: str, wrap: Any, pretty: bool, test_redactor: Redactor,
                                                                  live_redactor: Redactor) -> None:
    redactor = test_redactor if mode == "test" else live_redactor
    out = redact_text(redactor, wrap(json.dumps(CUSTOMER, indent=2 if pretty else None)))
    assert not [value for value in PII if value in out], out
    documents = [value for _, _, value in json_documents(out) if isinstance(value, dict)]
    assert documents and all(doc["id"] == CUSTOMER["id"] and doc["balance"] == 1250 and doc["created"] == 1680893993 for doc in documents)
    assert all(doc["name"] == "[redacted:name]" and doc["address"]["country"] == "US" for doc in documents)


def test_the_text_around_the_documents_still_passes_the_detectors(test_redactor: Redactor) -> None:
    out = redact_text(test_redactor, "Ask ops@example.com about " + json.dumps(CUSTOMER) + " or card 4242 4242 4242 4242")
    assert "ops@example.com" not in out and "4242 4242 4242 4242" not in out and "Hiroshi" not in out
    assert out.startswith("Ask [redacted:email] about {")


def test_a_text_with_brackets_but_no_json_is_returned_as_it_was(test_redactor: Redactor) -> None:
    text = "Use [0-9]{4} for the last four and {name} for the customer's name; see [docs](https://docs.stripe.com)."
    assert redact_text(test_redactor, text) == text


@pytest.mark.parametrize("size", [10_000, 1_000_000])
def test_a_text_of_almost_documents_is_refused_in_bounded_time(test_redactor: Redactor, size: int) -> None:
    hostile = '{"a":"' * (size // 6)  # every bracket starts an object whose string never ends
    started = time.monotonic()
    try:
        redact_text(test_redactor, hostile)
    except RedactionError as exc:
        assert "fragments" in str(exc)
    # Not a speed test: a quadratic scan of 1 MB takes minutes; linear takes well under this bound.
    assert time.monotonic() - started < 20
