"""A profile's `redaction:` settings: unknown fields, kept metadata keys, actions per class and per field."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from mcp_guard.config import Mode
from mcp_guard.redaction import Action, DetectorSettings, RedactionSettings, Redactor, UnknownFields, build_redactor

KEY = bytes(range(32))
CUSTOMER = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "Jenny@Example.com", "name": "Jenny Rosen",
            "description": "VIP", "metadata": {"tier": "gold", "booking_id": "BK-2291"}, "created": 1680893993}


def redact(settings: RedactionSettings, value, mode: Mode | str = Mode.TEST, **hints):
    return build_redactor(settings, mode, KEY).redact(value, **hints)


def test_both_modes_mask_free_text_and_metadata_by_default():
    for mode in (Mode.TEST, Mode.LIVE):
        out = redact(RedactionSettings(), CUSTOMER, mode).value
        assert out["description"] == "[redacted:free_text]"
        assert out["metadata"] == {"tier": "[redacted:metadata]", "booking_id": "[redacted:metadata]"}


def test_unknown_fields_are_masked_in_live_and_detected_in_test_by_default():
    value = {**CUSTOMER, "preview_field": "Hiroshi Adeyemi", "preview_mail": "hiroshi@example.com", "preview_ref": "pm_1MqjB62eZvKYlo2C",
             "preview_count": 3, "preview_flag": True}
    live = redact(RedactionSettings(), value, Mode.LIVE)
    assert live.value["preview_field"] == live.value["preview_mail"] == "[redacted:unknown]"
    assert live.value["preview_ref"] == "pm_1MqjB62eZvKYlo2C" and live.value["preview_count"] == 3 and live.value["preview_flag"] is True
    assert live.counts["unknown"] == 2
    test = redact(RedactionSettings(), value, Mode.TEST).value
    assert test["preview_field"] == "Hiroshi Adeyemi"  # no detector knows a name
    assert test["preview_mail"] == "[redacted:email]"


@pytest.mark.parametrize("mode", [Mode.TEST, Mode.LIVE])
def test_an_unknown_field_named_like_a_sensitive_field_elsewhere_takes_that_class_in_both_modes(mode: Mode):
    """A newer API version's field the pinned table does not know: its name decides before the
    unknown-field rule, so a test profile (which only scans unknown strings) does not pass a name."""
    charge = {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": 1099, "currency": "usd", "status": "succeeded",
              "new_section": {"account_holder_name": "Hiroshi Adeyemi", "receipt_url": "https://pay.stripe.com/receipts/x/y",
                              "line1": "1 Harbor Way", "last4": "4242", "attempt_count": 2, "type": "wallet"},
              "cardholder": {"name": "Hiroshi Adeyemi"}}
    out = redact(RedactionSettings(), charge, mode).value
    section = out["new_section"]
    assert section["account_holder_name"] == "[redacted:name]"
    assert section["receipt_url"] == "[redacted:url]" and section["line1"] == "[redacted:address]"
    assert section["last4"] != "4242" and section["attempt_count"] == 2
    assert out["cardholder"]["name"] == "[redacted:name]"
    assert (out["id"], out["amount"], out["status"]) == (charge["id"], 1099, "succeeded")
    assert "Hiroshi" not in json.dumps(out)


def test_unknown_fields_follow_the_profile_setting_in_either_mode():
    value = {**CUSTOMER, "preview_field": "Hiroshi Adeyemi"}
    assert redact(RedactionSettings(unknown_fields=UnknownFields.MASK), value, Mode.TEST).value["preview_field"] == "[redacted:unknown]"
    assert redact(RedactionSettings(unknown_fields=UnknownFields.DETECT), value, Mode.LIVE).value["preview_field"] == "Hiroshi Adeyemi"


def test_an_unknown_nested_object_is_masked_leaf_by_leaf_but_typed_objects_inside_it_keep_their_rules():
    value = {**CUSTOMER, "preview": {"holder": "Hiroshi Adeyemi", "charge": {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge",
                                                                         "amount": 1099, "status": "succeeded", "receipt_email": "a@example.com"}}}
    out = redact(RedactionSettings(), value, Mode.LIVE).value["preview"]
    assert out["holder"] == "[redacted:unknown]"
    assert out["charge"] == {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": 1099, "status": "succeeded",
                             "receipt_email": "[redacted:email]"}


def test_metadata_keep_keeps_those_values_but_still_scans_them():
    settings = RedactionSettings(metadata_keep=["booking_id", "note"])
    value = {**CUSTOMER, "metadata": {"booking_id": "BK-2291", "note": "paid by Jenny Rosen, jenny@example.org", "tier": "gold"}}
    out = redact(settings, value, Mode.LIVE).value
    assert out["metadata"] == {"booking_id": "BK-2291", "note": "paid by [redacted:name], [redacted:email]", "tier": "[redacted:metadata]"}


def test_metadata_keep_is_validated():
    with pytest.raises(ValidationError, match="metadata_keep"):
        RedactionSettings(metadata_keep=["booking id"])


def test_an_action_per_class_changes_every_field_of_that_class():
    out = redact(RedactionSettings(actions={"free_text": Action.KEEP, "email": Action.REMOVE}), CUSTOMER).value
    assert out["description"] == "VIP"
    assert "email" not in out


def test_kept_free_text_still_passes_the_detectors():
    value = {**CUSTOMER, "description": "call +14155552671"}
    out = redact(RedactionSettings(actions={"free_text": Action.KEEP}), value).value
    assert out["description"] == "call [redacted:phone]"


def test_an_unknown_class_in_actions_is_a_config_error():
    with pytest.raises(ValidationError, match="unknown class"):
        RedactionSettings(actions={"emial": Action.MASK})


def test_a_field_action_wins_over_its_class_and_can_mask_a_safe_field():
    settings = RedactionSettings(fields={"customer.description": Action.KEEP, "*.invoice_prefix": Action.MASK})
    value = {**CUSTOMER, "invoice_prefix": "0759376C"}
    out = redact(settings, value).value
    assert out["description"] == "VIP"
    assert out["invoice_prefix"] == "[redacted:field]"
    product = {"id": "prod_NWjs8kKbJWmuuc", "object": "product", "description": "Gold plan"}
    assert redact(settings, product).value["description"] == "[redacted:free_text]"  # only the customer's is kept


def test_a_field_action_can_keep_an_unknown_field():
    settings = RedactionSettings(fields={"customer.preview_tier": Action.KEEP})
    out = redact(settings, {**CUSTOMER, "preview_tier": "platinum", "preview_other": "x y"}, Mode.LIVE).value
    assert out["preview_tier"] == "platinum" and out["preview_other"] == "[redacted:unknown]"


def test_a_field_path_that_is_not_object_dot_path_is_a_config_error():
    with pytest.raises(ValidationError, match=r"object\.path"):
        RedactionSettings(fields={"description": Action.KEEP})


def test_unknown_settings_fields_are_rejected_and_settings_are_frozen():
    with pytest.raises(ValidationError):
        RedactionSettings.model_validate({"disable": ["description"]})
    settings = RedactionSettings()
    with pytest.raises(ValidationError):
        settings.unknown_fields = UnknownFields.MASK  # type: ignore[misc]


def test_every_settings_field_is_documented():
    for model in (RedactionSettings, DetectorSettings):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_product_and_coupon_names_survive_while_a_customer_name_does_not():
    product = {"id": "prod_NWjs8kKbJWmuuc", "object": "product", "name": "Gold Plan"}
    assert redact(RedactionSettings(), product).value == product
    assert redact(RedactionSettings(), CUSTOMER).value["name"] == "[redacted:name]"


def test_mask_action_names_the_class():
    assert redact(RedactionSettings(), CUSTOMER).value["email"] == "[redacted:email]"


def test_secrets_are_removed_by_default_and_other_classes_masked():
    intent = {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8"}
    assert "client_secret" not in redact(RedactionSettings(), intent).value
    # inside text a removal cannot drop a key: the hit is masked
    assert redact(RedactionSettings(actions={"email": Action.REMOVE}), "to a@example.com").value == "to [redacted:email]"


def test_last4_action_keeps_the_last_four_characters():
    settings = RedactionSettings(actions={"card_number": Action.LAST4, "card": Action.LAST4, "bank_account": Action.LAST4})
    redactor = build_redactor(settings, "test", KEY)
    assert redactor.redact("card 4242 4242 4242 4242").value == "card [redacted:card_number:...4242]"
    card = {"object": "card", "id": "card_1MvoIJ2eZvKYlo2C", "last4": "4242", "exp_year": 2030}
    redacted = redactor.redact(card)
    assert redacted.value["last4"] == "4242"  # already only the last four: kept
    assert redacted.value["exp_year"] == 2030  # four characters: kept too
    bank = {"object": "bank_account", "id": "ba_1MvoIJ2eZvKYlo2CO9f0MabO", "routing_number": "000123456789"}
    assert redactor.redact(bank).value["routing_number"] == "[redacted:bank_account:...6789]"


def test_pseudonymize_is_stable_keyed_and_case_insensitive_for_emails():
    settings = RedactionSettings(actions={"email": Action.PSEUDONYMIZE})
    first = build_redactor(settings, "test", KEY)
    second = build_redactor(settings, "test", KEY)  # another process with the same key
    other = build_redactor(settings, "test", bytes(reversed(KEY)))
    one = first.redact(CUSTOMER).value["email"]
    assert re.fullmatch(r"\[pseudonym:email:[0-9a-f]{12}\]", one)
    assert second.redact(CUSTOMER).value["email"] == one
    assert first.redact({**CUSTOMER, "email": "jenny@example.com"}).value["email"] == one
    assert first.redact("ask jenny@example.com").value == f"ask {one}"  # detector hits share it
    assert other.redact(CUSTOMER).value["email"] != one
    assert first.redact({**CUSTOMER, "email": "max@example.com"}).value["email"] != one


def test_two_records_of_one_customer_share_a_pseudonym_without_the_email():
    settings = RedactionSettings(actions={"email": Action.PSEUDONYMIZE})
    listing = {"object": "list", "data": [{**CUSTOMER, "id": "cus_A1b2C3d4E5f6G7"}, {**CUSTOMER, "id": "cus_Z9y8X7w6V5u4T3"}]}
    out = redact(settings, listing).value
    assert out["data"][0]["email"] == out["data"][1]["email"]
    assert "jenny" not in json.dumps(out).lower()


def test_the_pseudonym_key_and_learned_values_never_show_in_repr():
    redactor = build_redactor(RedactionSettings(), "test", b"\x01secret-key-bytes-123456")
    redactor.redact(CUSTOMER)
    assert "secret-key" not in repr(redactor) and "hidden" in repr(redactor)
    assert "Jenny" not in repr(redactor) and "Jenny" not in repr(redactor.learned)
    assert "secret-key" not in repr(redactor.markers)


def test_a_short_pseudonym_key_is_refused():
    from mcp_guard.errors import RedactionError

    with pytest.raises(RedactionError, match="16"):
        build_redactor(RedactionSettings(), "test", b"short")


def test_the_redactor_is_not_a_no_op(test_redactor: Redactor):
    value = {"content": [{"type": "text", "text": json.dumps(CUSTOMER)}]}
    redacted = test_redactor.redact(value)
    assert redacted.value != value
    assert "Jenny" not in json.dumps(redacted.value)
    assert redacted.counts == {"email": 1, "name": 1, "free_text": 1, "metadata": 2}


def test_redaction_off_and_weakened_classes_produce_warnings():
    from mcp_guard.redaction import redaction_warnings

    assert redaction_warnings(RedactionSettings(), "test") == []
    assert redaction_warnings(RedactionSettings(), "live") == []
    assert "diagnostics only" in redaction_warnings("off", Mode.LIVE)[0]
    weakened = RedactionSettings(detectors=DetectorSettings(card_number=False), actions={"secret": Action.PSEUDONYMIZE, "name": Action.KEEP},
                                 unknown_fields=UnknownFields.DETECT, fields={"customer.email": Action.KEEP})
    warnings = redaction_warnings(weakened, "live")
    assert len(warnings) == 5
    assert any("card_number detector" in w for w in warnings) and any("'secret'" in w for w in warnings)
    assert any("name" in w for w in warnings) and any("unknown fields" in w for w in warnings)
    assert any("customer.email" in w for w in warnings)


def test_describe_redaction_lists_the_action_of_every_class():
    from mcp_guard.redaction import CLASSES, describe_redaction

    views = {view.cls: view for view in describe_redaction(RedactionSettings(actions={"email": Action.PSEUDONYMIZE}), "live")}
    assert set(CLASSES) - {"safe"} <= set(views)
    assert views["secret"].action is Action.REMOVE and views["email"].action is Action.PSEUDONYMIZE
    assert views["name"].action is Action.MASK and views["unknown"].action is Action.MASK
    assert describe_redaction(RedactionSettings(), "test")[-1].action is Action.KEEP  # unknown fields: detectors only
