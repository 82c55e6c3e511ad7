"""Golden tests: one realistic object per Stripe type, redacted as the Stripe catalogs return it
(JSON inside a text content item), checked field by field."""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_guard.redaction import Redactor

ID = re.compile(r"^[a-z]+(?:_[a-z]+)?_[A-Za-z0-9]{8,}$")
SECRET_PREFIXES = ("sk_", "rk_", "ek_", "whsec_")
# Integers that are personal or card data and are meant to be masked.
MASKED_INTS = {"exp_month", "exp_year", "day", "month", "year"}
MASK = "[redacted:{}]"


def redact_as_tool_result(redactor: Redactor, obj: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    result = {"content": [{"type": "text", "text": json.dumps(obj)}], "isError": False}
    redacted = redactor.redact(result)
    assert redacted.value["content"][0]["type"] == "text"
    assert redacted.value["isError"] is False
    return json.loads(redacted.value["content"][0]["text"]), redacted


def assert_survivors(original: Any, redacted: Any, key: str = "") -> None:
    """Every id and every number (but card expiry and birth dates) is unchanged wherever it survived."""
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
    elif isinstance(original, bool) or original is None:
        assert redacted == original, key
    elif key not in MASKED_INTS:
        assert redacted == original, key


def assert_core_fields_identical(original: dict[str, Any], redacted: dict[str, Any]) -> None:
    for field in ("id", "object", "amount", "currency", "status", "created", "livemode"):
        if field in original:
            assert redacted[field] == original[field], field


def test_customer_loses_contact_pii_and_keeps_ids(test_redactor, stripe_object):
    original = stripe_object("customer")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert out["email"] == MASK.format("email")
    assert out["name"] == MASK.format("name")
    assert out["phone"] == MASK.format("phone")
    assert out["address"] == {k: (None if v is None else MASK.format("address")) for k, v in original["address"].items()}
    assert out["shipping"]["name"] == MASK.format("name")
    assert out["shipping"]["phone"] == MASK.format("phone")
    assert set(out["shipping"]["address"].values()) <= {MASK.format("address"), None}
    assert out["tax"]["ip_address"] == MASK.format("ip_address")
    assert out["tax"]["location"] == original["tax"]["location"]
    assert out["tax_ids"]["data"][0]["value"] == MASK.format("tax_id")
    assert out["tax_ids"]["data"][0]["id"] == "txi_1NuMB12eZvKYlo2CMecoWkZd"
    # test mode keeps free text but its detectors still catch the phone number in metadata
    assert out["description"] == original["description"]
    assert out["metadata"] == {"crm_note": "call her on [redacted:phone]"}
    assert out["balance"] == -2500 and out["invoice_prefix"] == "0759376C"
    assert out["invoice_settings"] == original["invoice_settings"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert redacted.counts == {"address": 2, "email": 1, "name": 2, "phone": 3, "ip_address": 1, "tax_id": 1}
    assert "/content/0/text#/email" in redacted.pointers


def test_customer_in_live_mode_also_loses_description_and_metadata(live_redactor, stripe_object):
    original = stripe_object("customer")
    out, redacted = redact_as_tool_result(live_redactor, original)
    assert out["description"] == MASK.format("description")
    assert out["metadata"] == {"crm_note": MASK.format("metadata")}
    assert redacted.counts["metadata"] == 1 and redacted.counts["description"] == 1
    assert_core_fields_identical(original, out)


def test_payment_intent_loses_client_secret_and_receipt_email(test_redactor, stripe_object):
    original = stripe_object("payment_intent")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert "client_secret" not in out
    assert out["receipt_email"] == MASK.format("email")
    assert out["description"] == "Order #1043 for [redacted:email]"  # the detector inside free text
    assert out["shipping"]["name"] == MASK.format("name")
    assert out["shipping"]["carrier"] == "USPS"
    assert out["shipping"]["tracking_number"] == "9400111899223197428490"  # 22 digits: not a card
    for field in ("amount", "amount_received", "amount_capturable", "customer", "latest_charge", "payment_method"):
        assert out[field] == original[field]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert redacted.counts["secret"] == 1
    assert "YrKJUKribcBjcG8HVhfZluoGH" not in json.dumps(redacted.value)


def test_charge_loses_billing_details_and_card_data_but_keeps_outcome(test_redactor, stripe_object):
    original = stripe_object("charge")
    out, _ = redact_as_tool_result(test_redactor, original)
    billing = out["billing_details"]
    assert billing["email"] == MASK.format("email")
    assert billing["name"] == MASK.format("name")
    assert billing["phone"] == MASK.format("phone")
    assert billing["address"]["line1"] == MASK.format("address")
    assert billing["tax_id"] is None
    card = out["payment_method_details"]["card"]
    for field in ("last4", "fingerprint", "exp_month", "exp_year"):
        assert card[field] == MASK.format("card"), field
    assert card["brand"] == "visa" and card["amount_authorized"] == 1099
    assert card["checks"] == original["payment_method_details"]["card"]["checks"]
    assert out["outcome"] == original["outcome"]
    assert out["receipt_email"] == MASK.format("email")
    assert out["receipt_url"] == original["receipt_url"]  # a policy choice: live mode hides it
    assert out["calculated_statement_descriptor"] == "Stripe"
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_charge_in_live_mode_loses_receipt_url(live_redactor, stripe_object):
    out, _ = redact_as_tool_result(live_redactor, stripe_object("charge"))
    assert out["receipt_url"] == MASK.format("url")


def test_card_payment_method_loses_card_and_contact_data(test_redactor, stripe_object):
    original = stripe_object("payment_method_card")
    out, _ = redact_as_tool_result(test_redactor, original)
    assert out["card"]["last4"] == MASK.format("card")
    assert out["card"]["fingerprint"] == MASK.format("card")
    assert out["card"]["exp_year"] == MASK.format("card")
    assert out["card"]["brand"] == "visa" and out["card"]["networks"] == original["card"]["networks"]
    assert out["billing_details"]["name"] == MASK.format("name")
    assert out["billing_details"]["phone"] == MASK.format("phone")
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_us_bank_account_payment_method_loses_routing_number_and_last4(test_redactor, stripe_object):
    original = stripe_object("payment_method_us_bank_account")
    out, redacted = redact_as_tool_result(test_redactor, original)
    bank = out["us_bank_account"]
    assert bank["routing_number"] == MASK.format("bank_account")
    assert bank["last4"] == MASK.format("card")
    assert bank["fingerprint"] == MASK.format("card")
    assert bank["bank_name"] == "STRIPE TEST BANK"
    assert bank["financial_connections_account"] == "fca_1Q0PsIJvEtkwdCNY7mZ2bVmc"
    # an all-null address has nothing to hide: left as is and not counted
    assert out["billing_details"]["address"] == original["billing_details"]["address"]
    assert "address" not in redacted.counts
    assert_survivors(original, out)


def test_invoice_loses_customer_fields_and_keeps_lines(test_redactor, stripe_object):
    original = stripe_object("invoice")
    out, _ = redact_as_tool_result(test_redactor, original)
    assert out["customer_email"] == MASK.format("email")
    assert out["customer_name"] == MASK.format("name")
    assert out["customer_phone"] == MASK.format("phone")
    assert out["customer_address"]["city"] == MASK.format("address")
    assert out["customer_shipping"]["name"] == MASK.format("name")
    assert out["customer_tax_ids"] == [{"type": "eu_vat", "value": MASK.format("tax_id")}]
    assert out["account_name"] == "Stripe Docs"
    assert out["number"] == "0759376C-0001"
    assert out["lines"] == original["lines"]
    assert out["hosted_invoice_url"] == original["hosted_invoice_url"]
    for field in ("amount_due", "amount_paid", "amount_remaining", "subtotal", "total"):
        assert out[field] == original[field]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_invoice_in_live_mode_loses_links_and_descriptions(live_redactor, stripe_object):
    original = stripe_object("invoice")
    out, _ = redact_as_tool_result(live_redactor, original)
    assert out["hosted_invoice_url"] == MASK.format("url")
    assert out["invoice_pdf"] == MASK.format("url")
    assert out["description"] == MASK.format("description")
    assert out["lines"]["data"][0]["description"] == MASK.format("description")
    assert out["lines"]["data"][0]["amount"] == 4500
    assert out["lines"]["url"] == original["lines"]["url"]  # a list's API path is not a sensitive url
    assert_survivors(original, out)


def test_subscription_passes_unchanged(test_redactor, stripe_object):
    original = stripe_object("subscription")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert out == original
    assert redacted.counts == {} and redacted.pointers == ()


def test_refund_passes_unchanged(test_redactor, stripe_object):
    original = stripe_object("refund")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert out == original
    assert not redacted.changed


def test_dispute_evidence_is_masked_field_by_field_keeping_file_ids(test_redactor, stripe_object):
    original = stripe_object("dispute")
    out, redacted = redact_as_tool_result(test_redactor, original)
    evidence = out["evidence"]
    assert set(evidence) == set(original["evidence"])
    assert evidence["customer_email_address"] == MASK.format("evidence")
    assert evidence["uncategorized_text"] == MASK.format("evidence")
    assert evidence["cancellation_policy"] is None
    assert evidence["receipt"] == "file_1MtJUT2eZvKYlo2CRcpt"
    assert out["evidence_details"] == original["evidence_details"]
    assert redacted.counts == {"evidence": 1}
    assert "198.51.100.23" not in json.dumps(redacted.value)
    assert_core_fields_identical(original, out)


def test_payout_with_expanded_bank_account_loses_bank_data(test_redactor, stripe_object):
    original = stripe_object("payout")
    out, _ = redact_as_tool_result(test_redactor, original)
    destination = out["destination"]
    assert destination["id"] == "ba_1MvoIJ2eZvKYlo2CO9f0MabO"
    assert destination["routing_number"] == MASK.format("bank_account")
    assert destination["account_holder_name"] == MASK.format("bank_account")
    assert destination["last4"] == MASK.format("card")
    assert destination["fingerprint"] == MASK.format("card")
    assert destination["bank_name"] == "STRIPE TEST BANK"
    assert out["arrival_date"] == original["arrival_date"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)


def test_balance_passes_untouched(test_redactor, live_redactor, stripe_object):
    original = stripe_object("balance")
    for redactor in (test_redactor, live_redactor):
        out, redacted = redact_as_tool_result(redactor, original)
        assert out == original
        assert redacted.counts == {}


def test_account_loses_individual_contacts_bank_data_and_tos_ip(test_redactor, stripe_object):
    original = stripe_object("account")
    out, _ = redact_as_tool_result(test_redactor, original)
    assert out["email"] == MASK.format("email")
    profile = out["business_profile"]
    assert profile["name"] == "Jane's Bakery" and profile["mcc"] == "5734" and profile["url"] == original["business_profile"]["url"]
    assert profile["support_email"] == MASK.format("email")
    assert profile["support_phone"] == MASK.format("phone")
    assert profile["support_url"] == MASK.format("url")
    assert profile["support_address"]["line1"] == MASK.format("address")
    individual = out["individual"]
    assert individual["id"] == "person_1Nv0FHQ9RKHgCVdKuAvhE5Uk" and individual["object"] == "person"
    assert individual["account"] == "acct_1Nv0FGQ9RKHgCVdK"
    assert individual["first_name"] == MASK.format("person")
    assert individual["dob"] == {"day": MASK.format("person"), "month": MASK.format("person"), "year": MASK.format("person")}
    assert individual["id_number_provided"] is True
    external = out["external_accounts"]["data"][0]
    assert external["routing_number"] == MASK.format("bank_account")
    assert external["account_holder_name"] == MASK.format("bank_account")
    assert out["tos_acceptance"] == {"date": 1695830751, "ip": MASK.format("ip_address"), "user_agent": MASK.format("user_agent")}
    assert out["capabilities"] == original["capabilities"]
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert "Jane" not in json.dumps(out).replace("Jane's Bakery", "")


def test_product_passes_untouched_with_its_name(test_redactor, stripe_object):
    original = stripe_object("product")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert out == original
    assert out["name"] == "Gold Plan"
    assert not redacted.changed


def test_product_in_live_mode_keeps_its_name_but_not_its_description(live_redactor, stripe_object):
    original = stripe_object("product")
    out, _ = redact_as_tool_result(live_redactor, original)
    assert out["name"] == "Gold Plan"
    assert out["description"] == MASK.format("description")


def test_price_passes_untouched(test_redactor, stripe_object):
    original = stripe_object("price")
    out, _ = redact_as_tool_result(test_redactor, original)
    assert out == original


def test_coupon_passes_untouched_with_its_name_and_percentage(test_redactor, live_redactor, stripe_object):
    original = stripe_object("coupon")
    for redactor in (test_redactor, live_redactor):
        out, _ = redact_as_tool_result(redactor, original)
        assert out == original
        assert out["percent_off"] == 25.5


def test_checkout_session_loses_its_url_and_customer_details(test_redactor, stripe_object):
    original = stripe_object("checkout_session")
    out, redacted = redact_as_tool_result(test_redactor, original)
    assert "url" not in out
    assert out["success_url"] == "https://example.com/success"
    details = out["customer_details"]
    assert details["email"] == MASK.format("email")
    assert details["name"] == MASK.format("name")
    assert details["tax_ids"] == [{"type": "es_cif", "value": MASK.format("tax_id")}]
    assert details["tax_exempt"] == "none"
    assert out["client_secret"] is None  # null hides nothing
    assert out["amount_total"] == 2198
    assert_core_fields_identical(original, out)
    assert_survivors(original, out)
    assert redacted.counts["url"] == 1


def test_webhook_endpoint_loses_its_signing_secret(test_redactor, stripe_object):
    original = stripe_object("webhook_endpoint")
    out, _ = redact_as_tool_result(test_redactor, original)
    assert "secret" not in out
    assert out["url"] == original["url"]  # the merchant's own endpoint, not an access link
    assert out["enabled_events"] == original["enabled_events"]
    assert_core_fields_identical(original, out)


def test_login_link_loses_its_url(test_redactor, stripe_object):
    out, redacted = redact_as_tool_result(test_redactor, stripe_object("login_link"))
    assert out == {"object": "login_link", "created": 1686089970}
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
