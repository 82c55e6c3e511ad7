"""Golden tests: one realistic object per Stripe type, redacted as the Stripe catalogs return it
(JSON inside a text content item), checked field by field in both profiles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mcp_guard.redaction import Redactor
from tests.redaction.conftest import redact_as_tool_result

ID = re.compile(r"^[a-z]+(?:_[a-z]+)?_[A-Za-z0-9]{8,}$")
SECRET_PREFIXES = ("sk_", "rk_", "ek_", "whsec_")
MASKED_INTS = {"exp_month", "exp_year", "day", "month", "year"}  # card expiry and birth dates


def mask(cls: str) -> str:
    return f"[redacted:{cls}]"


def assert_survivors(original: Any, redacted: Any, key: str = "") -> None:
    """Every id, number and boolean is unchanged wherever it survived (but expiry and birth dates)."""
    if isinstance(original, dict):
        assert isinstance(redacted, dict), key
        for k, v in original.items():
            if k in redacted:
                assert_survivors(v, redacted[k], k)
    elif isinstance(original, list):
        if isinstance(redacted, list):
            for a, b in zip(original, redacted, strict=True):
                assert_survivors(a, b, key)
    elif isinstance(original, str):
        if ID.match(original) and "_secret_" not in original and not original.startswith(SECRET_PREFIXES):
            assert redacted == original, key
    elif isinstance(original, bool) or original is None or key not in MASKED_INTS:
        assert redacted == original, key


def assert_core_fields_identical(original: dict[str, Any], redacted: dict[str, Any]) -> None:
    for field in ("id", "object", "amount", "currency", "status", "created", "livemode"):
        if field in original:
            assert redacted[field] == original[field], field


@pytest.fixture(params=["test", "live"])
def redactor(request: pytest.FixtureRequest, test_redactor: Redactor, live_redactor: Redactor) -> Redactor:
    return test_redactor if request.param == "test" else live_redactor


def test_customer_loses_contact_pii_free_text_and_metadata_and_keeps_ids(redactor, stripe_object):
    original = stripe_object("customer")
    out, redacted = redact_as_tool_result(redactor, original)
    assert out["email"] == mask("email") and out["name"] == mask("name") and out["phone"] == mask("phone")
    assert out["address"] == {"city": mask("address"), "country": "US", "line1": mask("address"), "line2": None,
                              "postal_code": mask("address"), "state": mask("address")}
    assert out["shipping"]["name"] == mask("name") and out["shipping"]["phone"] == mask("phone")
    assert out["shipping"]["address"]["country"] == "US"
    assert out["tax"]["ip_address"] == mask("ip_address")
    assert out["tax"]["location"] == {"country": "US", "source": "ip_address", "state": mask("address")}
    assert out["tax_ids"]["data"][0]["value"] == mask("tax_id")
    assert out["tax_ids"]["data"][0]["id"] == "txi_1NuMB12eZvKYlo2CMecoWkZd"
    assert out["description"] == mask("free_text")
    assert out["metadata"] == {"crm_note": mask("metadata")}
    assert out["balance"] == -2500 and out["invoice_prefix"] == "0759376C"
    assert out["invoice_settings"] == original["invoice_settings"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert "/content/0/text#/email" in redacted.pointers
    assert redacted.counts["name"] == 2 and redacted.counts["email"] == 1


def test_payment_intent_loses_client_secret_receipt_email_and_shipping(redactor, stripe_object):
    original = stripe_object("payment_intent")
    out, redacted = redact_as_tool_result(redactor, original)
    assert "client_secret" not in out
    assert out["receipt_email"] == mask("email")
    assert out["description"] == mask("free_text")
    assert out["shipping"]["name"] == mask("name")
    assert out["shipping"]["carrier"] == "USPS"
    assert out["shipping"]["tracking_number"] == mask("free_text")
    for field in ("amount", "amount_received", "amount_capturable", "customer", "latest_charge", "payment_method"):
        assert out[field] == original[field]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert redacted.counts["secret"] == 1
    assert "YrKJUKribcBjcG8HVhfZluoGH" not in json.dumps(redacted.value)


def test_charge_loses_billing_details_card_data_and_receipt_url_but_keeps_outcome(redactor, stripe_object):
    original = stripe_object("charge")
    out, _ = redact_as_tool_result(redactor, original)
    billing = out["billing_details"]
    assert (billing["email"], billing["name"], billing["phone"]) == (mask("email"), mask("name"), mask("phone"))
    assert billing["address"]["line1"] == mask("address") and billing["address"]["country"] == "DE"
    assert billing["tax_id"] is None
    card = out["payment_method_details"]["card"]
    for field in ("last4", "fingerprint", "exp_month", "exp_year"):
        assert card[field] == mask("card"), field
    assert card["brand"] == "visa" and card["amount_authorized"] == 1099 and card["country"] == "US"
    assert card["checks"] == original["payment_method_details"]["card"]["checks"]
    assert out["outcome"] == original["outcome"] | {"seller_message": mask("free_text")}
    assert out["outcome"]["risk_level"] == "normal" and out["outcome"]["network_status"] == "approved_by_network"
    assert out["receipt_email"] == mask("email")
    assert out["receipt_url"] == mask("url")
    assert out["calculated_statement_descriptor"] == "Stripe"
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_card_payment_method_loses_card_and_contact_data(redactor, stripe_object):
    original = stripe_object("payment_method_card")
    out, _ = redact_as_tool_result(redactor, original)
    assert out["card"]["last4"] == out["card"]["fingerprint"] == out["card"]["exp_year"] == mask("card")
    assert out["card"]["brand"] == "visa" and out["card"]["networks"] == original["card"]["networks"]
    assert out["billing_details"]["name"] == mask("name")
    assert out["billing_details"]["phone"] == mask("phone")
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_us_bank_account_payment_method_loses_routing_number_last4_and_fingerprint(redactor, stripe_object):
    original = stripe_object("payment_method_us_bank_account")
    out, redacted = redact_as_tool_result(redactor, original)
    bank = out["us_bank_account"]
    assert bank["routing_number"] == bank["last4"] == bank["fingerprint"] == mask("bank_account")
    assert bank["bank_name"] == "STRIPE TEST BANK"
    assert bank["financial_connections_account"] == "fca_1Q0PsIJvEtkwdCNY7mZ2bVmc"
    # an all-null address has nothing to hide: left as is and not counted
    assert out["billing_details"]["address"] == original["billing_details"]["address"]
    assert "address" not in redacted.counts
    assert_survivors(original, out)


def test_invoice_loses_customer_fields_links_and_descriptions_but_keeps_lines_amounts(redactor, stripe_object):
    original = stripe_object("invoice")
    out, _ = redact_as_tool_result(redactor, original)
    assert out["customer_email"] == mask("email") and out["customer_name"] == mask("name")
    assert out["customer_phone"] == mask("phone")
    assert out["customer_address"]["city"] == mask("address")
    assert out["customer_shipping"]["name"] == mask("name")
    assert out["customer_tax_ids"] == [{"type": "eu_vat", "value": mask("tax_id")}]
    assert out["account_name"] == mask("business_contact")
    assert out["number"] == "0759376C-0001"
    assert out["hosted_invoice_url"] == out["invoice_pdf"] == mask("url")
    assert out["description"] == mask("free_text")
    line = out["lines"]["data"][0]
    assert line["description"] == mask("free_text") and line["amount"] == 4500
    assert out["lines"]["url"] == original["lines"]["url"]  # a list's API path is not a bearer URL
    for field in ("amount_due", "amount_paid", "amount_remaining", "subtotal", "total"):
        assert out[field] == original[field]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_subscription_passes_unchanged(redactor, stripe_object):
    original = stripe_object("subscription")
    out, redacted = redact_as_tool_result(redactor, original)
    assert out == original
    assert redacted.counts == {} and redacted.pointers == ()


def test_refund_keeps_everything_but_the_card_reference(redactor, stripe_object):
    original = stripe_object("refund")
    out, redacted = redact_as_tool_result(redactor, original)
    assert out["destination_details"]["card"]["reference"] == mask("free_text")
    del out["destination_details"]["card"]["reference"], original["destination_details"]["card"]["reference"]
    assert out == original
    assert redacted.counts == {"free_text": 1}


def test_dispute_evidence_is_masked_field_by_field_keeping_file_ids(redactor, stripe_object):
    original = stripe_object("dispute")
    out, redacted = redact_as_tool_result(redactor, original)
    evidence = out["evidence"]
    assert set(evidence) == set(original["evidence"])
    assert evidence["customer_email_address"] == mask("email")
    assert evidence["customer_name"] == mask("name")
    assert evidence["customer_purchase_ip"] == mask("ip_address")
    assert evidence["uncategorized_text"] == mask("free_text")
    assert evidence["billing_address"] == mask("address")
    assert evidence["cancellation_policy"] is None
    assert evidence["receipt"] == "file_1MtJUT2eZvKYlo2CRcpt"
    assert out["evidence_details"] == original["evidence_details"]
    assert "198.51.100.23" not in json.dumps(redacted.value)
    assert_core_fields_identical(original, out)


def test_payout_with_expanded_bank_account_loses_bank_data(redactor, stripe_object):
    original = stripe_object("payout")
    out, _ = redact_as_tool_result(redactor, original)
    destination = out["destination"]
    assert destination["id"] == "ba_1MvoIJ2eZvKYlo2CO9f0MabO"
    assert destination["routing_number"] == destination["last4"] == destination["fingerprint"] == mask("bank_account")
    assert destination["account_holder_name"] == mask("name")
    assert destination["bank_name"] == "STRIPE TEST BANK"
    assert out["arrival_date"] == original["arrival_date"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_balance_passes_untouched(redactor, stripe_object):
    original = stripe_object("balance")
    out, redacted = redact_as_tool_result(redactor, original)
    assert out == original
    assert redacted.counts == {}


def test_account_loses_individual_contacts_bank_data_and_tos_ip(redactor, stripe_object):
    original = stripe_object("account")
    out, _ = redact_as_tool_result(redactor, original)
    assert out["email"] == mask("email")
    profile = out["business_profile"]
    assert profile["mcc"] == "5734"
    assert profile["name"] == profile["support_email"] == profile["support_phone"] == profile["url"] == mask("business_contact")
    assert profile["support_address"]["line1"] == mask("business_contact") and profile["support_address"]["country"] == "US"
    individual = out["individual"]
    assert individual["id"] == "person_1Nv0FHQ9RKHgCVdKuAvhE5Uk" and individual["object"] == "person"
    assert individual["account"] == "acct_1Nv0FGQ9RKHgCVdK"
    assert individual["first_name"] == mask("name")
    assert individual["dob"] == {"day": mask("dob"), "month": mask("dob"), "year": mask("dob")}
    assert individual["id_number_provided"] is True
    external = out["external_accounts"]["data"][0]
    assert external["routing_number"] == mask("bank_account")
    assert external["account_holder_name"] == mask("name")
    assert out["tos_acceptance"] == {"date": 1695830751, "ip": mask("ip_address"), "user_agent": mask("user_agent")}
    assert out["capabilities"] == original["capabilities"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert "Jane" not in json.dumps(out)


def test_product_keeps_its_name_but_not_its_description(redactor, stripe_object):
    original = stripe_object("product")
    out, _ = redact_as_tool_result(redactor, original)
    assert out["name"] == "Gold Plan"
    assert out["description"] == mask("free_text")
    assert {k: v for k, v in out.items() if k != "description"} == {k: v for k, v in original.items() if k != "description"}


def test_price_and_coupon_pass_untouched_with_names_and_percentages(redactor, stripe_object):
    for name in ("price", "coupon"):
        original = stripe_object(name)
        out, redacted = redact_as_tool_result(redactor, original)
        assert out == original, name
        assert redacted.counts == {}
    assert stripe_object("coupon")["percent_off"] == 25.5


def test_checkout_session_loses_its_url_and_customer_details(redactor, stripe_object):
    original = stripe_object("checkout_session")
    out, redacted = redact_as_tool_result(redactor, original)
    assert out["url"] == mask("url")
    assert out["success_url"] == "https://example.com/success"
    details = out["customer_details"]
    assert details["email"] == mask("email") and details["name"] == mask("name")
    assert details["tax_ids"] == [{"type": "es_cif", "value": mask("tax_id")}]
    assert details["tax_exempt"] == "none"
    assert out["client_secret"] is None  # null hides nothing
    assert out["amount_total"] == 2198
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert redacted.counts["url"] == 1


def test_webhook_endpoint_loses_its_signing_secret_but_keeps_its_own_url(redactor, stripe_object):
    original = stripe_object("webhook_endpoint")
    out, _ = redact_as_tool_result(redactor, original)
    assert "secret" not in out
    assert out["url"] == original["url"]  # the merchant's own endpoint, not an access link
    assert out["enabled_events"] == original["enabled_events"]
    assert_core_fields_identical(original, out)


def test_login_link_loses_its_url(redactor, stripe_object):
    out, redacted = redact_as_tool_result(redactor, stripe_object("login_link"))
    assert out == {"object": "login_link", "created": 1686089970, "url": mask("url")}
    assert redacted.counts == {"url": 1}


def test_a_list_of_every_object_redacts_like_each_object_alone(test_redactor, stripe_objects):
    listing = {"object": "list", "data": list(stripe_objects.values()), "has_more": False, "url": "/v1/x"}
    out, _ = redact_as_tool_result(test_redactor, listing)
    for name, item in zip(stripe_objects, out["data"], strict=True):
        alone, _ = redact_as_tool_result(test_redactor, stripe_objects[name])
        assert item == alone, name


def test_the_input_is_never_mutated(test_redactor, stripe_objects):
    before = json.dumps(stripe_objects)
    for obj in stripe_objects.values():
        test_redactor.redact({"structuredContent": obj, "content": [{"type": "text", "text": json.dumps(obj)}]})
    assert json.dumps(stripe_objects) == before
