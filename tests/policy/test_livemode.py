"""Results whose objects contradict the profile's mode are found, in JSON and in JSON text."""

from __future__ import annotations

import json

import pytest

from mcp_guard.config import Mode
from mcp_guard.livemode import find_livemode_mismatch


def customer(livemode: bool) -> dict:
    return {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "livemode": livemode}


def test_matching_objects_pass() -> None:
    result = {"object": "list", "data": [customer(False), customer(False)], "livemode": False}
    assert find_livemode_mismatch(result, Mode.TEST) is None
    assert find_livemode_mismatch({"data": [customer(True)]}, Mode.LIVE) is None


def test_a_live_object_in_a_test_result_is_found_with_its_pointer() -> None:
    result = {"object": "list", "data": [customer(False), customer(True)]}
    assert find_livemode_mismatch(result, Mode.TEST) == "/data/1"


def test_a_test_object_in_a_live_result_is_found() -> None:
    assert find_livemode_mismatch(customer(False), Mode.LIVE) == ""


def test_a_mismatch_inside_json_text_content_is_found() -> None:
    result = {"content": [{"type": "text", "text": json.dumps({"data": [customer(False), customer(True)]})}], "isError": False}
    assert find_livemode_mismatch(result, Mode.TEST) == "/content/0/text/data/1"


def test_a_mismatch_inside_structured_content_is_found() -> None:
    result = {"content": [], "structuredContent": {"charge": {"id": "ch_1", "livemode": True}}}
    assert find_livemode_mismatch(result, Mode.TEST) == "/structuredContent/charge"


def test_unicode_escaped_keys_in_json_text_do_not_hide_a_mismatch() -> None:
    text = '{"id": "cus_1", "livem\\u006fde": true}'
    assert find_livemode_mismatch({"content": [{"type": "text", "text": text}]}, Mode.TEST) == "/content/0/text"


def test_the_first_mismatch_in_document_order_is_reported() -> None:
    result = {"a": [customer(True)], "b": customer(True)}
    assert find_livemode_mismatch(result, Mode.TEST) == "/a/0"


def test_non_json_text_and_non_boolean_livemode_are_ignored() -> None:
    result = {"content": [{"type": "text", "text": "Failed to list payment intents"}], "metadata": {"livemode": "true"}}
    assert find_livemode_mismatch(result, Mode.TEST) is None


def test_pathologically_deep_nesting_is_refused() -> None:
    deep: dict = {"livemode": False}
    for _ in range(200):
        deep = {"x": deep}
    assert find_livemode_mismatch(deep, Mode.TEST) is not None


@pytest.mark.parametrize(
    "text",
    [
        '{"object": "customer", "livemode": true}',
        '{"object": "customer", "livemode" :\n\ttrue}',
        '{"data": [{"live\\u006dode": true}]}',
        '{"note": "{\\"object\\": \\"charge\\", \\"livemode\\": true}"}',
        '{"outer": "{\\"inner\\": \\"{\\\\\\"livemode\\\\\\": true}\\"}"}',
        '[{"livemode": false}, {"livemode": true}]',
    ],
    ids=["plain", "whitespace", "unicode-escaped-key", "json-in-json", "json-in-json-in-json", "second-item"],
)
def test_live_object_in_text_is_found_whatever_its_spelling(text: str) -> None:
    result = {"content": [{"type": "text", "text": text}]}
    assert find_livemode_mismatch(result, Mode.TEST) is not None


def test_test_object_in_text_is_found_under_a_live_profile() -> None:
    result = {"content": [{"type": "text", "text": '{"data": [{"id": "cus_1", "livemode": false}]}'}]}
    assert find_livemode_mismatch(result, Mode.LIVE) == "/content/0/text/data/0"
