"""The redaction classes: what each covers. The field table (generated) gives every Stripe field one.

Detector hits get classes too: `email`, `phone`, `secret`, `ip_address`, plus `card_number` and `iban`
(values found inside text). `unknown` marks a string field the table does not know.
"""

from __future__ import annotations

CLASSES: dict[str, str] = {
    "safe": "ids, enums, currencies, country codes, statuses, reason and decline codes, amounts, timestamps, merchant configuration",
    "name": "a person's name (customer, cardholder, payer, recipient, owner, representative)",
    "email": "a person's email address",
    "phone": "a person's phone number",
    "address": "street address parts: line1, line2, city, town, state, postal code (the country stays)",
    "dob": "date of birth",
    "tax_id": "government or tax id numbers and identity document details",
    "bank_account": "bank or wallet account numbers: account, routing, IBAN, CLABE, BSB, sort code, payer ids",
    "card": "card data: number, CVC, last4, fingerprint, expiry, IIN, cryptograms",
    "secret": "secrets: client secrets, webhook signing secrets, app secret payloads, passwords, SDK tokens",
    "url": "bearer URLs that grant access without a key: receipts, hosted invoices and vouchers, PDFs, checkout, portals, mandates",
    "ip_address": "IP addresses and the locations derived from them",
    "user_agent": "browser user agents and headers",
    "device": "device data: fingerprints, device ids, serial numbers, geolocation",
    "personal": "other personal attributes: sex, gender, nationality, ethnicity, race, place of birth, political exposure",
    "free_text": "free text: descriptions, notes, memos, messages, evidence, custom field values",
    "business_contact": "a business's name, contact email, phone, website and address",
    "metadata": "values of merchant metadata (kept per key with `redaction.metadata_keep`)",
}

# Classes only detectors (values found inside text) and the unknown-field rule produce.
DETECTOR_ONLY: dict[str, str] = {
    "card_number": "a Luhn-valid card number found inside text",
    "iban": "an IBAN found inside text",
    "unknown": "a string in a field the table does not know (newer API version, private preview)",
}

ALL = frozenset(CLASSES) | frozenset(DETECTOR_ONLY)
