"""Ids the merchant chose, and field names of other API versions, redacted by what they are.

- A field Stripe declares an id (expandable, or named after a type) keeps any id, generated or
  chosen by the merchant (`Z4OV52SU`, `gold-plan`), and a field declared a plain string named
  after a type keeps its value (`report_type: balance.summary.1`), in live mode too. What no id
  holds (an email, words with spaces, a secret) is still masked.
- A field name Stripe's current model does not have at all (an older API version's `zip`, an
  issuing settlement's `bin`) is classed by the generator's rules on names alone: sensitive names
  are masked in both modes; names those rules call safe keep lowercase codes and numbers written
  as strings (`invoiceitem`, `usd`, `"1000"`), and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_guard.redaction import Redactor
from tests.redaction.conftest import redact_as_tool_result


def schedule_with_coupon(coupon: str) -> dict[str, Any]:
    """A subscription schedule whose phase discounts name a coupon (an expandable `x@coupon` field)."""
    return {"id": "sub_sched_1MzuftLkdIwHu7ixm5lH0XEV", "object": "subscription_schedule", "status": "active",
            "phases": [{"add_invoice_items": [{"discounts": [{"coupon": coupon}], "price": "price_1MzuftLkdIwHu7ixQp0KWrSp"}],
                        "start_date": 1682000000, "end_date": 1684592000}]}


@pytest.mark.parametrize("coupon", ["Z4OV52SU", "gold-plan", "SUMMER_25", "co_1MzuftLkdIwHu7ix"])
def test_an_expandable_field_keeps_ids_the_merchant_chose_in_live_mode(live_redactor: Redactor, coupon: str) -> None:
    out, _ = redact_as_tool_result(live_redactor, schedule_with_coupon(coupon))
    assert out["phases"][0]["add_invoice_items"][0]["discounts"][0]["coupon"] == coupon


@pytest.mark.parametrize("value", ["jenny.rosen@example.com", "Jenny Rosen", "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH"])
def test_an_expandable_field_still_masks_what_no_id_holds(live_redactor: Redactor, value: str) -> None:
    out, _ = redact_as_tool_result(live_redactor, schedule_with_coupon(value))
    assert out["phases"][0]["add_invoice_items"][0]["discounts"][0]["coupon"].startswith("[redacted:")


def test_a_plain_string_named_after_a_type_keeps_its_value_in_live_mode(live_redactor: Redactor) -> None:
    run = {"id": "frr_1MzuftLkdIwHu7ixBWRM5ZCN", "object": "reporting.report_run", "report_type": "balance.summary.1",
           "status": "succeeded", "parameters": {"interval_start": 1680000000}}
    out, _ = redact_as_tool_result(live_redactor, run)
    assert out == run


@pytest.mark.parametrize("mode", ["test", "live"])
def test_an_old_api_versions_address_and_card_fields_are_masked_in_both_modes(mode: str, test_redactor: Redactor, live_redactor: Redactor) -> None:
    redactor = test_redactor if mode == "test" else live_redactor
    report = {"id": "vr_1MzuftLkdIwHu7ixqNCHhwQ2", "object": "identity.verification_report", "type": "document",
              "document": {"status": "verified", "address": {"zip": "94111", "billing_zip": "10001", "country": "US"}}}
    out, _ = redact_as_tool_result(redactor, report)
    assert out["document"]["address"] == {"zip": "[redacted:address]", "billing_zip": "[redacted:address]", "country": "US"}
    settlement = {"id": "ise_1MzuftLkdIwHu7ixHRWQ6rGq", "object": "issuing.settlement", "bin": "424242", "network": "visa",
                  "currency": "usd", "net_total": 4200, "livemode": mode == "live"}
    out, _ = redact_as_tool_result(redactor, settlement)
    assert out == {**settlement, "bin": "[redacted:card]"}


def test_unknown_fields_with_safe_names_keep_codes_and_decimal_amounts_in_live_mode(live_redactor: Redactor) -> None:
    line = {"id": "il_1MzuftLkdIwHu7ixZ4yA6n2F", "object": "line_item", "amount": 1000, "currency": "usd",
            "unit_amount_excluding_tax": "1000", "settlement_type": "invoiceitem", "rebate_amounts": ["250", "12.5"]}
    out, _ = redact_as_tool_result(live_redactor, line)
    assert out == line


@pytest.mark.parametrize(("field", "value"), [("settlement_type", "Jenny Rosen"), ("settlement_type", "Jenny"),
                                              ("key", "sk_live_abcdefgh12345678"), ("key", "rk_live_abcdefgh12345678"),
                                              ("rebate_amount", "Jenny Rosen, 1 Main St")])
def test_unknown_fields_with_safe_names_mask_anything_but_codes_in_live_mode(live_redactor: Redactor, field: str, value: str) -> None:
    line = {"id": "il_1MzuftLkdIwHu7ixZ4yA6n2F", "object": "line_item", "amount": 1000, field: value}
    out, _ = redact_as_tool_result(live_redactor, line)
    assert out[field] == "[redacted:unknown]"
    assert out["amount"] == 1000 and out["id"] == line["id"]


@pytest.mark.parametrize("mode", ["test", "live"])
def test_a_secret_in_an_object_type_the_table_does_not_know_is_removed_not_a_failure(mode: str, test_redactor: Redactor,
                                                                                      live_redactor: Redactor) -> None:
    # `client_secret` is removed wherever Stripe has it; in a type of a newer API version too, and in
    # JSON no schema describes (a log notification's data).
    redactor = test_redactor if mode == "test" else live_redactor
    secret = "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH"
    thing = {"id": "bnt_1MzuftLkdIwHu7ix", "object": "brand_new_thing", "client_secret": secret, "amount": 1099}
    out, _ = redact_as_tool_result(redactor, thing)
    assert out == {"id": "bnt_1MzuftLkdIwHu7ix", "object": "brand_new_thing", "amount": 1099}
    assert redactor.redact_free_form({"client_secret": secret, "amount": 1099}).value == {"amount": 1099}
