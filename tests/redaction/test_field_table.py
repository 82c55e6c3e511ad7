"""The field table: generated from the pinned `stripe` package, checked in, complete, and cheap to load.

The coverage gate: regenerating the table from the pinned package must give the checked-in file
byte for byte, with no string field left without a class. Upgrading the pin is a reviewed diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_guard.redaction._classes import CLASSES
from mcp_guard.redaction._table import TABLE_RESOURCE, load_table

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "mcp_guard" / "data" / TABLE_RESOURCE


def leaves(entry: object, path: str = ""):
    """(path, leaf code) of every scalar field below a table entry."""
    if isinstance(entry, dict):
        for key, sub in entry.items():
            yield from leaves(sub, f"{path}.{key}" if path else key)
    elif isinstance(entry, list):
        for sub in entry[1:]:
            yield from leaves(sub, path)
    elif isinstance(entry, str) and not entry.startswith(("@", "x@", "~")):
        yield path, entry


def test_the_checked_in_table_is_what_the_pinned_stripe_package_gives():
    done = subprocess.run([sys.executable, "-m", "tools.stripe_fields", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_string_field_of_every_object_type_has_a_known_class():
    table = json.loads(TABLE.read_text())
    assert len(table["objects"]) >= 150
    strings = 0
    for obj, fields in table["objects"].items():
        for path, code in leaves(fields):
            kind, _, cls = code.partition(":")
            assert kind in "seifdba" and len(kind) == 1, f"{obj}.{path}: {code}"
            assert not cls or cls in CLASSES, f"{obj}.{path}: unknown class {cls}"
            strings += kind == "s"
    assert strings > 3000


@pytest.mark.parametrize(
    ("obj", "path", "cls"),
    [
        ("customer", "name", "name"),
        ("customer", "email", "email"),
        ("customer", "address.line1", "address"),
        ("customer", "address.country", "safe"),
        ("product", "name", "safe"),
        ("coupon", "name", "safe"),
        ("charge", "payment_method_details.card.last4", "card"),
        ("charge", "payment_method_details.card.exp_month", "card"),
        ("charge", "outcome.risk_level", "safe"),
        ("charge", "failure_code", "safe"),
        ("charge", "receipt_url", "url"),
        ("charge", "billing_details.name", "name"),
        ("payment_intent", "client_secret", "secret"),
        ("payment_intent", "next_action.boleto_display_details.hosted_voucher_url", "url"),
        ("invoice", "hosted_invoice_url", "url"),
        ("credit_note", "pdf", "url"),
        ("mandate", "customer_acceptance.online.ip_address", "ip_address"),
        ("account", "company.ownership_declaration.ip", "ip_address"),
        ("identity.verification_report", "id_number.id_number", "tax_id"),
        ("identity.verification_report", "document.dob.year", "dob"),
        ("funding_instructions", "bank_transfer.financial_addresses.spei.clabe", "bank_account"),
        ("issuing.token", "device_fingerprint", "device"),
        ("issuing.card", "number", "card"),
        ("webhook_endpoint", "secret", "secret"),
        ("apps.secret", "payload", "secret"),
        ("dispute", "evidence.uncategorized_text", "free_text"),
        ("person", "dob.day", "dob"),
        ("file_link", "url", "url"),
        ("balance", "available.amount", "safe"),
    ],
)
def test_fields_named_in_the_issue_have_the_expected_class(obj: str, path: str, cls: str):
    codes = dict(leaves(json.loads(TABLE.read_text())["objects"][obj]))
    code = codes[path]
    assert (code.partition(":")[2] or "safe") == cls, code


def test_an_events_previous_attributes_are_typed_like_its_object():
    data = load_table().objects["event"]["data"]
    assert data == {"object": "@", "previous_attributes": "~object"}


def test_operation_ids_map_to_the_object_type_they_return():
    operations = load_table().operations
    assert operations["GetCustomers"] == operations["GetCustomersCustomer"] == operations["GetCustomersSearch"] == "customer"
    assert operations["GetChargesCharge"] == "charge" and operations["GetCustomersCustomerTaxIds"] == "tax_id"
    assert operations["GetBalance"] == "balance"


