"""Value detectors: what they catch inside free text, and what they must leave alone."""

from __future__ import annotations

import pytest

from mcp_guard.redaction import DetectorSettings, RedactionSettings, Redactor, build_redactor

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE", "secret"),
        ("sk_live_51H7dEFAKEFAKEFAKEFAKEFAKE", "secret"),
        ("rk_test_51H7dEFAKEFAKEFAKEFAKE", "secret"),
        ("rk_live_51H7dEFAKEFAKEFAKEFAKE", "secret"),
        ("ek_test_YWNjdF8xTTJKVGtMa2RJd0h1", "secret"),
        ("whsec_wRNftLajMZNeslQOP6vEPm4iVx5NlZ6z", "secret"),
        ("pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH", "secret"),
        ("seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDtB8rVLcSYCwO1c98fDUZWPWhTY3V", "secret"),
        ("cs_test_a1b2c3d4e5_secret_fidkdWxOYHwnPyd1", "secret"),
        ("jenny.rosen+billing@example.co.uk", "email"),
        ("4242424242424242", "card_number"),
        ("4242 4242 4242 4242", "card_number"),
        ("5555-5555-5555-4444", "card_number"),
        ("3782 822463 10005", "card_number"),  # Amex 4-6-5
        ("6011111111111117", "card_number"),
        ("4000056655665556122", "card_number"),  # 19 digits, Luhn-valid
        ("+14155552671", "phone"),
        ("+1 (415) 555-2671", "phone"),
        ("+49 30 901820", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("(415) 555-2671", "phone"),
        ("415-555-2671", "phone"),
        ("DE89370400440532013000", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("FR1420041010050500013M02606", "iban"),
        ("203.0.113.7", "ip_address"),
        ("192.168.100.200", "ip_address"),
        ("2001:db8::8a2e:370:7334", "ip_address"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ip_address"),
        ("fe80::1", "ip_address"),
        ("::ffff:192.0.2.1", "ip_address"),
    ],
)
def test_a_detector_finds_its_class_inside_text(test_redactor: Redactor, text: str, category: str):
    redacted = test_redactor.redact(f"see {text}, thanks")
    assert redacted.value == f"see [redacted:{category}], thanks"
    assert redacted.counts == {category: 1}
    assert redacted.pointers == ("",)


@pytest.mark.parametrize(
    "text",
    [
        "cus_NffrFeUfNV2Hib",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "acct_1Nv0FGQ9RKHgCVdK",
        "txn_1OaFDcEcg9tTZuTgYMR25tSe",
        "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",  # publishable keys are public by design
        "1680893993000",  # a millisecond timestamp
        "1700000000000000",  # 16 digits, not Luhn-valid
        "4242424242424241",  # 16 digits, not Luhn-valid
        "9400111899223197428490",  # a 22-digit tracking number
        "usd",
        "2023-04-05",
        "2023-04-05T12:30:00Z",
        "2023-04-01 2023-04-30",
        "amount 1099 in eur",
        "v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv/lines",
        "https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8xTTJKVGtMa2RJd0h1N2l4LF9OZTlJR0o5",
        "DE89370400440532013001",  # IBAN shape, wrong check digits
        "0759376C-0001",
        "999.1.1.1",  # not an address: an octet above 255
        "61.0.3163.100",  # a browser version
        "v1.2.3.4",
        "1.2.3.4.5",
        "12:30:45",
        "std::vector and a::b",
    ],
)
def test_detectors_leave_ids_numbers_dates_and_codes_alone(test_redactor: Redactor, text: str):
    redacted = test_redactor.redact({"note": text})
    assert redacted.value == {"note": text}
    assert not redacted.changed


def test_a_disabled_detector_does_not_fire():
    redactor = build_redactor(RedactionSettings(detectors=DetectorSettings(phone=False, ip_address=False)), "test", KEY)
    assert redactor.redact("call +14155552671").value == "call +14155552671"
    assert redactor.redact("from 203.0.113.7 today").value == "from 203.0.113.7 today"
    assert redactor.redact("mail a@example.com").value == "mail [redacted:email]"


def test_an_ip_address_at_the_end_of_a_sentence_is_found(test_redactor: Redactor):
    assert test_redactor.redact_text("Login from 203.0.113.7.").value == "Login from [redacted:ip_address]."


def test_an_email_used_as_a_dict_key_is_masked(test_redactor: Redactor):
    redacted = test_redactor.redact({"object": "customer", "id": "cus_NffrFeUfNV2Hib", "stats": {"jenny@example.com": 3}})
    assert redacted.value["stats"] == {"[redacted:email]": 3}
    assert redacted.counts == {"email": 1}


def test_several_hits_in_one_string_are_all_counted(test_redactor: Redactor):
    redacted = test_redactor.redact("a@example.com, b@example.com and 4242424242424242")
    assert redacted.value == "[redacted:email], [redacted:email] and [redacted:card_number]"
    assert redacted.counts == {"email": 2, "card_number": 1}


def test_two_email_keys_that_collide_after_masking_both_survive_as_keys(test_redactor: Redactor):
    redacted = test_redactor.redact({"a@example.com": 1, "b@example.com": 2, "[redacted:email]": 0})
    assert sorted(redacted.value.values()) == [0, 1, 2]
    assert "a@example.com" not in str(redacted.value) and "b@example.com" not in str(redacted.value)
