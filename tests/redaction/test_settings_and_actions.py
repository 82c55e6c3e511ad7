"""Per-profile rule changes and the four actions."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from mcp_guard.config import Mode
from mcp_guard.redaction import Action, FieldRule, RedactionSettings, Redactor, build_redactor

KEY = bytes(range(32))
CUSTOMER = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "Jenny@Example.com", "name": "Jenny Rosen",
            "description": "VIP", "metadata": {"tier": "gold"}, "created": 1680893993}


def redact(settings: RedactionSettings, value, mode: Mode | str = Mode.TEST):
    return build_redactor(settings, mode, KEY).redact(value)


def test_live_mode_base_is_stricter_than_test_mode():
    assert redact(RedactionSettings(), CUSTOMER, Mode.TEST).value["description"] == "VIP"
    live = redact(RedactionSettings(), CUSTOMER, Mode.LIVE).value
    assert live["description"] == "[redacted:description]"
    assert live["metadata"] == {"tier": "[redacted:metadata]"}


def test_a_profile_can_pick_the_live_base_in_test_mode():
    out = redact(RedactionSettings(base="live"), CUSTOMER, "test").value
    assert out["description"] == "[redacted:description]"


def test_a_profile_can_disable_a_default_rule_by_name():
    out = redact(RedactionSettings(disable=["description"]), CUSTOMER, Mode.LIVE).value
    assert out["description"] == "VIP"
    assert out["metadata"] == {"tier": "[redacted:metadata]"}


def test_disabling_an_unknown_rule_is_a_config_error():
    with pytest.raises(ValidationError, match="unknown rule name"):
        RedactionSettings(disable=["emial"])


def test_unknown_settings_fields_are_rejected_and_settings_are_frozen():
    with pytest.raises(ValidationError):
        RedactionSettings.model_validate({"detector": {}})
    settings = RedactionSettings()
    with pytest.raises(ValidationError):
        settings.base = "live"  # type: ignore[misc]


def test_every_settings_field_is_documented():
    from mcp_guard.redaction import DetectorSettings

    for model in (RedactionSettings, FieldRule, DetectorSettings):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_a_profile_rule_scoped_to_an_object_type_fires_only_there():
    settings = RedactionSettings(rules=[FieldRule(field="nickname", objects=["price"], category="name")])
    price = {"id": "price_1MoBy5LkdIwHu7ixZhnattbh", "object": "price", "nickname": "Jenny's deal"}
    plan = {"id": "plan_1MoBy5LkdIwHu7ixZhnattbh", "object": "plan", "nickname": "Jenny's deal"}
    assert redact(settings, price).value["nickname"] == "[redacted:name]"
    assert redact(settings, plan).value["nickname"] == "Jenny's deal"


def test_a_profile_rule_with_a_path_fires_only_under_that_path():
    settings = RedactionSettings(rules=[FieldRule(field="shipping.carrier", category="address", action=Action.REMOVE)])
    pi = {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "carrier": "USPS", "shipping": {"carrier": "USPS"}}
    out = redact(settings, pi).value
    assert out == {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "carrier": "USPS", "shipping": {}}


def test_a_profile_rule_named_like_a_default_replaces_it():
    settings = RedactionSettings(rules=[FieldRule(field="email", category="email", action=Action.REMOVE, name="email")])
    out = redact(settings, CUSTOMER).value
    assert "email" not in out


def test_rules_do_not_fire_inside_stripe_objects_of_other_types():
    product = {"id": "prod_NWjs8kKbJWmuuc", "object": "product", "name": "Gold Plan"}
    assert redact(RedactionSettings(), product).value == product


def test_mask_action_names_the_class():
    assert redact(RedactionSettings(), CUSTOMER).value["email"] == "[redacted:email]"


def test_remove_action_drops_the_key():
    out = redact(RedactionSettings(actions={"email": Action.REMOVE}), CUSTOMER).value
    assert "email" not in out
    # inside free text a removal cannot drop a key: the hit is masked
    assert redact(RedactionSettings(actions={"email": Action.REMOVE}), "to a@example.com").value == "to [redacted:email]"


def test_last4_action_keeps_the_last_four_characters():
    settings = RedactionSettings(actions={"card_number": Action.LAST4, "card": Action.LAST4, "bank_account": Action.LAST4})
    redactor = build_redactor(settings, "test", KEY)
    assert redactor.redact("card 4242 4242 4242 4242").value == "card [redacted:card_number:...4242]"
    card = {"object": "card", "id": "card_1MvoIJ2eZvKYlo2C", "last4": "4242", "exp_year": 2030}
    redacted = redactor.redact(card)
    assert redacted.value["last4"] == "4242"  # already only the last four: kept
    assert redacted.value["exp_year"] == 2030  # four characters: kept too
    bank = {"object": "bank_account", "id": "ba_1MvoIJ2eZvKYlo2CO9f0MabO", "account_number": "000123456789"}
    assert redactor.redact(bank).value["account_number"] == "[redacted:bank_account:...6789]"


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
    assert "jenny" not in json.dumps(out).lower().replace("jenny rosen", "")


def test_the_pseudonym_key_never_shows_in_repr():
    redactor = build_redactor(RedactionSettings(), "test", b"\x01secret-key-bytes-123456")
    assert "secret-key" not in repr(redactor) and "hidden" in repr(redactor)
    assert "secret-key" not in repr(redactor._markers)


def test_a_short_pseudonym_key_is_refused():
    from mcp_guard.errors import RedactionError

    with pytest.raises(RedactionError, match="16"):
        build_redactor(RedactionSettings(), "test", b"short")


def test_the_redactor_is_not_a_no_op(test_redactor: Redactor):
    value = {"content": [{"type": "text", "text": json.dumps(CUSTOMER)}]}
    redacted = test_redactor.redact(value)
    assert redacted.value != value
    assert "Jenny" not in json.dumps(redacted.value)
    assert redacted.counts == {"email": 1, "name": 1}


def test_redaction_off_and_weakened_secrets_produce_warnings():
    from mcp_guard.redaction import DetectorSettings, redaction_warnings

    assert redaction_warnings(RedactionSettings(), "test") == []
    assert "diagnostics only" in redaction_warnings("off", Mode.LIVE)[0]
    weakened = RedactionSettings(disable=["client_secret"], detectors=DetectorSettings(card_number=False),
                                 actions={"secret": Action.PSEUDONYMIZE})
    warnings = redaction_warnings(weakened, "test")
    assert len(warnings) == 3
    assert any("client_secret" in w for w in warnings) and any("card_number detector" in w for w in warnings)


def test_describe_rules_lists_the_effective_rules_with_profile_changes():
    from mcp_guard.redaction import describe_rules

    test_names = {view.name for view in describe_rules(RedactionSettings(), "test")}
    live_names = {view.name for view in describe_rules(RedactionSettings(), Mode.LIVE)}
    assert live_names - test_names == {"metadata", "description", "hosted_invoice_url", "invoice_pdf", "receipt_url"}
    changed = describe_rules(RedactionSettings(disable=["tos_acceptance.ip"], actions={"email": Action.REMOVE}), "test")
    assert "tos_acceptance.ip" not in {view.name for view in changed}
    assert {view.action for view in changed if view.category == "email"} == {Action.REMOVE}
    assert next(v for v in changed if v.name == "customer_tax_ids[].value").field == "customer_tax_ids[].value"
