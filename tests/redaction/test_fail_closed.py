"""Fail closed: what the redactor cannot process raises RedactionError, never half a value."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mcp_guard.errors import RedactionError
from mcp_guard.redaction import MAX_DEPTH, Redactor


@pytest.mark.parametrize(
    "value",
    [
        {"content": [{"type": "text", "text": b"jenny@example.com"}]},
        {"amounts": {1, 2}},
        {"when": object()},
        {"price": Decimal("10.5")},
        {1: "integer key"},
        [("tuple", "is not JSON")],
        {"object": "customer", "metadata": {"k": b"bytes in metadata"}},
        {"object": "customer", "preview": b"bytes in an unknown field"},
    ],
)
def test_a_value_that_is_not_json_raises(test_redactor: Redactor, value):
    with pytest.raises(RedactionError, match="not JSON"):
        test_redactor.redact(value)


@pytest.mark.parametrize(
    "value",
    [
        {"object": "customer", "address": {"line1": b"Hiroshi's bytes"}},
        {"object": "event", "data": {"object": {"object": "customer", "email": {"nested": "hiroshi@example.com"}}}},
    ],
)
def test_whatever_a_sensitive_field_holds_is_masked_whole(test_redactor: Redactor, value):
    out = str(test_redactor.redact(value).value)
    assert "Hiroshi" not in out and "hiroshi" not in out and "[redacted:" in out


def test_a_value_nested_too_deeply_raises(test_redactor: Redactor):
    value: object = "jenny@example.com"
    for _ in range(MAX_DEPTH + 5):
        value = {"a": [value]}
    with pytest.raises(RedactionError, match="nests"):
        test_redactor.redact(value)


def test_json_text_nested_too_deeply_raises(test_redactor: Redactor):
    text = "[" * 5000 + "]" * 5000
    with pytest.raises(RedactionError, match="nests"):
        test_redactor.redact({"content": [{"type": "text", "text": text}]})


def test_json_text_nested_past_the_limit_but_parseable_raises(test_redactor: Redactor):
    text = json.dumps(json.loads("[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10)))
    with pytest.raises(RedactionError, match="nests"):
        test_redactor.redact({"content": [{"type": "text", "text": text}]})


def test_redact_text_refuses_a_non_string(test_redactor: Redactor):
    with pytest.raises(RedactionError):
        test_redactor.redact_text(b"bytes")  # type: ignore[arg-type]


def test_an_unexpected_internal_error_becomes_a_redaction_error(test_redactor: Redactor, monkeypatch):
    from mcp_guard.redaction import _walk

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(_walk.Walk, "text", broken)
    with pytest.raises(RedactionError, match="KeyError"):
        test_redactor.redact({"note": "jenny@example.com"})


def test_an_unreadable_field_table_refuses_instead_of_passing(monkeypatch):
    from mcp_guard.redaction import RedactionSettings, _table, build_redactor

    monkeypatch.setattr(_table, "_loaded", None)
    monkeypatch.setattr(_table, "_read", lambda: b"{not json")
    redactor = build_redactor(RedactionSettings(), "live", bytes(32))
    with pytest.raises(RedactionError, match="field table"):
        redactor.redact({"content": [{"type": "text", "text": '{"object": "customer", "name": "Jenny Rosen"}'}]})


def test_a_field_table_of_another_format_is_refused(monkeypatch):
    from mcp_guard.redaction import RedactionSettings, _table, build_redactor

    monkeypatch.setattr(_table, "_loaded", None)
    monkeypatch.setattr(_table, "_read", lambda: b'{"format": 99, "objects": {}}')
    with pytest.raises(RedactionError, match="corrupt"):
        build_redactor(RedactionSettings(), "test", bytes(32)).redact({"a": 1})


@pytest.mark.parametrize("number", [2**70, 123456789012345678901234567890, -(2**63) - 1, 2**64])
def test_big_integers_and_non_ascii_text_round_trip(test_redactor: Redactor, number: int):
    # Integers beyond 64 bits must come back digit for digit: a parser that reads them as doubles
    # would turn an amount into 1.2345678901234568e+29 (equal as a float, but not the same number).
    payload = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "a@example.com", "balance": number, "preferred_locales": ["Zürich 東京"]}
    out = test_redactor.redact({"content": [{"type": "text", "text": json.dumps(payload, ensure_ascii=False)}]})
    text = out.value["content"][0]["text"]
    inner = json.loads(text)
    assert inner == {**payload, "email": "[redacted:email]"}
    assert type(inner["balance"]) is int and f'"balance":{number}' in text.replace(" ", "")
    assert "Zürich 東京" in text


def test_building_a_redactor_for_redaction_off_is_refused():
    from mcp_guard.redaction import build_redactor

    with pytest.raises(RedactionError, match="settings expected"):
        build_redactor("off", "test", bytes(32))  # type: ignore[arg-type]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_a_text_round_trip_as_written(test_redactor: Redactor, number: str):
    # Not JSON, but Python's json reads it; a faster serializer would write null in its place.
    text = '{"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "a@example.com", "balance": ' + number + "}"
    out = test_redactor.redact({"content": [{"type": "text", "text": text}]}).value["content"][0]["text"]
    assert "a@example.com" not in out and "null" not in out
    assert out.replace(" ", "").endswith('"balance":' + ("Infinity" if number == "1e400" else number) + "}")
