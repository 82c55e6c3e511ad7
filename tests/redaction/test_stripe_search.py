"""Stripe's search query language: what a query touches, which queries a profile refuses, masking values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_guard import stripe_search
from mcp_guard.stripe_search import SearchQueryError, denial, fields, mask, parse
from tests.factories import examples

ALLOWED = {"status", "amount", "currency", "created", "metadata[booking_id]"}


@pytest.mark.parametrize(
    ("query", "touched"),
    [
        ("email:'jenny@example.com'", {"email"}),
        ('email:"amy@rocketrides.io" metadata["key"]:"value"', {"email", "metadata[key]"}),
        ("status:'active' AND amount>1000", {"status", "amount"}),
        ("status:'active' or status:'past_due'", {"status"}),
        ("-currency:'usd'", {"currency"}),
        ("name~\"jen\"", {"name"}),
        ("created>=1609459200 created<=1612137600", {"created"}),
        ("payment_method_details.card.last4:4242", {"payment_method_details.card.last4"}),
        ("metadata['booking_id']:'BK-1' AND -metadata['x']:null", {"metadata[booking_id]", "metadata[x]"}),
        ("description:'it\\'s \"quoted\"'", {"description"}),
    ],
)
def test_the_fields_a_query_touches(query: str, touched: set[str]):
    assert fields(query) == touched


def test_a_clause_records_operator_value_negation_and_where_the_value_sits():
    query = "-email:'a@example.com' AND amount>=5"
    clauses = parse(query).clauses
    assert [(c.field, c.operator, c.value, c.negated) for c in clauses] == [("email", ":", "a@example.com", True), ("amount", ">=", "5", False)]
    assert query[clauses[0].start:clauses[0].end] == "'a@example.com'"
    assert clauses[0].metadata_key is None and parse("metadata['k']:'v'").clauses[0].metadata_key == "k"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "email",
        "email:",
        "email:'unclosed",
        "status:'a' AND status:'b' OR status:'c'",
        "metadata[key]:'v'",
        "name~'ab'",
        "status:'a' AND",
        " ".join(f"amount>{i}" for i in range(11)),
        ".email:'x'",
    ],
)
def test_text_that_is_not_a_valid_query_is_refused(query: str):
    with pytest.raises(SearchQueryError):
        parse(query)


def test_a_query_on_allowed_fields_only_is_allowed():
    assert denial("status:'succeeded' AND amount>1000 AND metadata['booking_id']:'BK-2291'", ALLOWED) is None


def test_a_query_on_email_or_name_is_denied_with_a_reason_naming_the_fields():
    reason = denial("email:'jenny@example.com' AND status:'active' OR name~'jen'", ALLOWED)
    assert reason is not None and "not valid" in reason  # AND and OR mixed
    reason = denial("email:'jenny@example.com' name~'jen' status:'active'", ALLOWED)
    assert reason is not None
    assert "email, name" in reason and "allowed:" in reason and "jenny" not in reason


def test_a_metadata_key_not_on_the_list_is_denied_unless_all_metadata_is_allowed():
    assert denial("metadata['crm_note']:'x'", ALLOWED) is not None
    assert denial("metadata['crm_note']:'x'", ALLOWED | {"metadata[*]"}) is None


def test_a_query_that_does_not_parse_is_denied():
    reason = denial("email:'unclosed", ALLOWED)
    assert reason is not None and "not valid Stripe search syntax" in reason


def test_mask_replaces_chosen_values_and_keeps_the_rest_as_written():
    query = "email:'jenny@example.com'   AND status:'active' AND metadata[\"note\"]:\"call \\\"Jenny\\\"\""
    masked = mask(query, lambda c: "[redacted:email]" if c.field == "email" else ("[x]" if c.metadata_key else None))
    assert masked == "email:\"[redacted:email]\"   AND status:'active' AND metadata[\"note\"]:\"[x]\""
    assert parse(masked).clauses[0].value == "[redacted:email]"


def test_the_module_is_pure_and_exports_its_api():
    assert {"parse", "fields", "denial", "mask", "SearchQueryError", "Clause", "SearchQuery"} <= set(vars(stripe_search))


FIELD_NAMES = ["email", "name", "status", "amount", "created", "payment_method_details.card.last4", "metadata['booking_id']", 'metadata["note"]']


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A random valid query and the values of its clauses, in order."""
    clauses, values = [], []
    for _ in range(draw(st.integers(1, 6))):
        field = draw(st.sampled_from(FIELD_NAMES))
        value = draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\\"), min_size=3, max_size=12))
        quote = draw(st.sampled_from(["'", '"']))
        escaped = value.replace(quote, "\\" + quote)
        operator = draw(st.sampled_from([":", "~"]))
        clauses.append(f"{draw(st.sampled_from(['', '-']))}{field}{operator}{quote}{escaped}{quote}")
        values.append(value)
    joiner = draw(st.sampled_from([" ", " AND ", " OR ", " and "]))
    return joiner.join(clauses), values


@settings(max_examples=examples(300), deadline=None)
@given(queries())
def test_any_valid_query_parses_to_its_values_and_masks_every_one(generated: tuple[str, list[str]]):
    query, values = generated
    parsed = parse(query)
    assert [clause.value for clause in parsed.clauses] == values
    masked = mask(parsed, lambda clause: "[x]")
    assert [clause.value for clause in parse(masked).clauses] == ["[x]"] * len(values)
    assert fields(masked) == fields(query)
