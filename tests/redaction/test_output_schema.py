"""A redacted structuredContent that breaks the tool's outputSchema is reported, without values."""

from __future__ import annotations

from mcp_guard.redaction import Redactor

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "card"},
        "exp_month": {"type": "integer"},
        "email": {"type": "string", "format": "email"},
    },
    "required": ["id", "exp_month"],
}
CARD = {"id": "card_1MvoIJ2eZvKYlo2CO9f0MabO", "object": "card", "exp_month": 3}


def test_valid_structured_content_passes(test_redactor: Redactor):
    assert test_redactor.check_output_schema(CARD, SCHEMA) is None


def test_a_masked_integer_breaks_the_schema_and_is_reported(test_redactor: Redactor):
    redacted = test_redactor.redact({"structuredContent": CARD}).value["structuredContent"]
    assert redacted["exp_month"] == "[redacted:card]"
    reason = test_redactor.check_output_schema(redacted, SCHEMA)
    assert reason is not None
    assert "exp_month" in reason and "type" in reason
    assert "[redacted" not in reason


def test_a_removed_required_field_is_reported(test_redactor: Redactor):
    reason = test_redactor.check_output_schema({"object": "card", "exp_month": 3}, SCHEMA)
    assert reason is not None and "required" in reason


def test_an_invalid_schema_is_reported_not_raised(test_redactor: Redactor):
    reason = test_redactor.check_output_schema(CARD, {"type": 12})
    assert reason == "the tool's outputSchema is not a valid JSON Schema"


def test_an_unresolvable_ref_is_reported_not_raised(test_redactor: Redactor):
    reason = test_redactor.check_output_schema(CARD, {"$ref": "https://example.invalid/schema.json"})
    assert reason is not None and "could not be checked" in reason


def test_a_schema_checked_twice_gives_the_same_answer(test_redactor: Redactor):
    bad = {"id": "card_1MvoIJ2eZvKYlo2CO9f0MabO", "exp_month": "[redacted:card]"}
    assert test_redactor.check_output_schema(bad, SCHEMA) == test_redactor.check_output_schema(bad, SCHEMA) is not None
    assert test_redactor.check_output_schema(CARD, SCHEMA) is None
