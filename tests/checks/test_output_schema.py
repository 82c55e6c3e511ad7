"""A redacted structuredContent that breaks the tool's outputSchema is reported, without values."""

from __future__ import annotations

import pytest

from mcp_guard.checks.output_schema import OutputSchemaFilter
from mcp_guard.config import Mode
from mcp_guard.redaction import RedactionSettings, Redactor, build_redactor
from tests.factories import PSEUDONYM_KEY

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


@pytest.fixture
def checker() -> OutputSchemaFilter:
    return OutputSchemaFilter()


@pytest.fixture
def test_redactor() -> Redactor:
    return build_redactor(RedactionSettings(), Mode.TEST, PSEUDONYM_KEY)


def test_valid_structured_content_passes(checker: OutputSchemaFilter):
    assert checker.problem(CARD, SCHEMA) is None


def test_a_masked_integer_breaks_the_schema_and_is_reported(checker: OutputSchemaFilter, test_redactor: Redactor):
    redacted = test_redactor.redact({"structuredContent": CARD}).value["structuredContent"]
    assert redacted["exp_month"] == "[redacted:card]"
    reason = checker.problem(redacted, SCHEMA)
    assert reason is not None
    assert "exp_month" in reason and "type" in reason
    assert "[redacted" not in reason


def test_a_removed_required_field_is_reported(checker: OutputSchemaFilter):
    reason = checker.problem({"object": "card", "exp_month": 3}, SCHEMA)
    assert reason is not None and "required" in reason


def test_an_invalid_schema_is_reported_not_raised(checker: OutputSchemaFilter):
    reason = checker.problem(CARD, {"type": 12})
    assert reason == "the tool's outputSchema is not a valid JSON Schema"


def test_an_unresolvable_ref_is_reported_not_raised(checker: OutputSchemaFilter):
    reason = checker.problem(CARD, {"$ref": "https://example.invalid/schema.json"})
    assert reason is not None and "could not be checked" in reason


def test_a_schema_checked_twice_gives_the_same_answer(checker: OutputSchemaFilter):
    bad = {"id": "card_1MvoIJ2eZvKYlo2CO9f0MabO", "exp_month": "[redacted:card]"}
    assert checker.problem(bad, SCHEMA) == checker.problem(bad, SCHEMA) is not None
    assert checker.problem(CARD, SCHEMA) is None
