"""Deterministic, made-up Stripe data for the sandbox: test mode, or the same data in live mode.

Every name, email, phone, address, card and bank detail here is invented; the card numbers are
Stripe's public test numbers and the keys are fake. The data is deliberately full of PII,
card/bank data and secrets so that redaction has something to remove, and a few leaks are
planted in free text (see ``PLANTED_*``).

The live data set (``livemode=True``) is the test data set with every ``livemode`` flag true and
live-shaped keys and URLs (``sk_live_``, ``/live_``), so that a live profile can be tried, and a
wrong-mode upstream caught, offline.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

# Planted leaks in free text of the first customer (tests of redaction look for these).
PLANTED_CARD_NUMBER = "4242 4242 4242 4242"
PLANTED_EMAIL = "leaky.person@example.net"
PLANTED_CUSTOMER_EMAIL = "jenny.rosen@example.com"  # the customer carrying the leaks below
PLANTED_SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKEsandbox01"
WEBHOOK_SECRET = "whsec_FAKEsandboxWebhookSigningSecret0001"

ACCOUNT_ID = "acct_1SandboxFAKE0001"
BASE_TIME = 1_735_689_600  # 2025-01-01T00:00:00Z: fixed so data is deterministic

_FIRST = ["Jenny", "Marcus", "Aiko", "Priya", "Tomasz", "Olivia", "Kwame", "Lucía", "Henrik",
          "Fatima", "Diego", "Mei", "Samuel", "Ingrid", "Ravi", "Chloé", "Oluwaseun", "Anya",
          "Hiroshi", "Grace", "Mateo", "Zainab"]
_LAST = ["Rosen", "Whitfield", "Tanaka", "Raman", "Kowalski", "Bennett", "Mensah", "Ortega",
         "Lindqvist", "Haddad", "Alvarez", "Chen", "Okafor", "Nilsen", "Iyer", "Dubois",
         "Adeyemi", "Volkova", "Sato", "Holloway", "Ferreira", "Abubakar"]
_STREETS = ["Market Street", "Maple Avenue", "Elm Road", "Harbor Way", "Birch Lane",
            "Cedar Court", "Mission Boulevard", "Sunset Drive", "Oak Terrace", "Pine Street"]
_CITIES = [("San Francisco", "CA", "941"), ("Austin", "TX", "787"), ("Seattle", "WA", "981"),
           ("Denver", "CO", "802"), ("Brooklyn", "NY", "112"), ("Portland", "OR", "972"),
           ("Chicago", "IL", "606"), ("Boston", "MA", "021")]
_CARDS = [("visa", "4242", "US"), ("mastercard", "4444", "US"), ("amex", "8431", "US"),
          ("discover", "1117", "US"), ("visa", "0077", "GB"), ("mastercard", "5100", "DE")]
_BANKS = [("STRIPE TEST BANK", "110000000", "6789"), ("WELLS FARGO BANK", "121000248", "4321"),
          ("CHASE", "021000021", "1116")]
_PRODUCTS = [("Starter plan", 900), ("Pro plan", 2900), ("Team plan", 9900),
             ("Enterprise add-on", 49900), ("Onboarding session", 15000), ("Extra seat", 1200)]
_RISK = ["normal", "normal", "normal", "elevated", "highest"]


class _Ids:
    """Stripe-shaped ids (prefix + 24 alphanumerics) from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def token(self, n: int = 24) -> str:
        return "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    def new(self, prefix: str) -> str:
        return f"{prefix}_{self.token()}"


def build_fixtures(seed: int = 0, *, livemode: bool = False) -> dict[str, Any]:
    """Return ``{resource: [objects...]}`` plus the singletons ``balance`` and ``account``.

    Lists are ordered newest first, like Stripe's list endpoints. ``livemode=True`` returns the
    same objects as live-mode data (see the module docstring).
    """
    rng = random.Random(seed)
    ids = _Ids(rng)
    out: dict[str, Any] = {}

    customers = [_customer(i, rng, ids) for i in range(20)]
    _plant_leaks(customers[0])
    products, prices = _catalog(rng, ids)
    coupons = _coupons(rng, ids)

    payment_methods: list[dict[str, Any]] = []
    payment_intents: list[dict[str, Any]] = []
    charges: list[dict[str, Any]] = []
    for i, cust in enumerate(customers):
        card_pm = _card_payment_method(cust, rng, ids)
        payment_methods.append(card_pm)
        cust["invoice_settings"]["default_payment_method"] = card_pm["id"]
        if i % 4 == 1:
            payment_methods.append(_bank_payment_method(cust, rng, ids))
        for _ in range(1 + (i % 2)):
            pi, ch = _payment(cust, card_pm, rng, ids)
            payment_intents.append(pi)
            charges.append(ch)

    refunds = [_refund(ch, rng, ids) for ch in charges[1:6]]
    for refund, ch in zip(refunds, charges[1:6], strict=True):
        ch["refunded"] = refund["amount"] == ch["amount"]
        ch["amount_refunded"] = refund["amount"]
    by_id = {c["id"]: c for c in customers}
    disputes = [_dispute(ch, by_id[ch["customer"]], rng, ids) for ch in charges[7:10]]
    for dp in disputes:
        charge = next(c for c in charges if c["id"] == dp["charge"])
        charge["disputed"] = True
    subscriptions = [_subscription(c, prices[i % len(prices)], rng, ids)
                     for i, c in enumerate(customers[:12])]
    invoices = [_invoice(sub, by_id[sub["customer"]], rng, ids) for sub in subscriptions]
    bank_accounts = [_external_bank_account(rng, ids, i) for i in range(2)]
    payouts = [_payout(bank_accounts[i % 2], rng, ids, i) for i in range(6)]

    out.update(
        customers=customers,
        payment_methods=payment_methods,
        payment_intents=payment_intents,
        charges=charges,
        refunds=refunds,
        disputes=disputes,
        subscriptions=subscriptions,
        invoices=invoices,
        invoiceitems=[],
        payouts=payouts,
        bank_accounts=bank_accounts,
        products=products,
        prices=prices,
        coupons=coupons,
        payment_links=[],
        webhook_endpoints=[_webhook_endpoint(ids)],
    )
    for name, objects in out.items():
        objects.sort(key=lambda o: o["created"], reverse=True)
        out[name] = objects
    out["balance"] = _balance()
    out["account"] = _account(bank_accounts)
    # A JSON round trip breaks the aliasing between objects (a shared address dict), so that a
    # write to one object can never change another.
    data: dict[str, Any] = json.loads(json.dumps(out))
    return as_live(data) if livemode else data


# Test-mode markers in keys and URLs, and their live-mode spelling.
_LIVE_SPELLING = (("sk_test_", "sk_live_"), ("rk_test_", "rk_live_"), ("pk_test_", "pk_live_"), ("/test_", "/live_"))


def live_shaped(text: str) -> str:
    """``text`` with test-mode key prefixes and URL parts spelled as in live mode."""
    for test, live in _LIVE_SPELLING:
        text = text.replace(test, live)
    return text


def as_live(value: Any) -> Any:
    """A copy of ``value`` with every boolean ``livemode`` true and live-shaped strings."""
    if isinstance(value, dict):
        return {k: True if k == "livemode" and isinstance(v, bool) else as_live(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_live(v) for v in value]
    if isinstance(value, str):
        return live_shaped(value)
    return value


LIVE_PLANTED_SECRET_KEY = live_shaped(PLANTED_SECRET_KEY)


def _created(rng: random.Random) -> int:
    return BASE_TIME + rng.randrange(0, 300 * 86_400)


def _address(rng: random.Random) -> dict[str, Any]:
    city, state, zip_prefix = rng.choice(_CITIES)
    return {
        "city": city,
        "country": "US",
        "line1": f"{rng.randrange(10, 9999)} {rng.choice(_STREETS)}",
        "line2": rng.choice([None, f"Apt {rng.randrange(1, 40)}", f"Suite {rng.randrange(100, 900)}"]),
        "postal_code": f"{zip_prefix}{rng.randrange(10, 99)}",
        "state": state,
    }


def _phone(rng: random.Random) -> str:
    return f"+1415555{rng.randrange(0, 10_000):04d}"


def _customer(i: int, rng: random.Random, ids: _Ids) -> dict[str, Any]:
    first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
    name = f"{first} {last}"
    email = f"{first.lower()}.{last.lower()}@example.com".replace("é", "e").replace("í", "i")
    address = _address(rng)
    return {
        "id": ids.new("cus"),
        "object": "customer",
        "address": address,
        "balance": 0,
        "created": _created(rng),
        "currency": "usd",
        "default_source": None,
        "delinquent": i % 9 == 4,
        "description": f"Customer since onboarding batch {i // 5 + 1}",
        "discount": None,
        "email": email,
        "invoice_prefix": ids.token(8).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False,
        "metadata": {"crm_id": f"CRM-{10_000 + i}", "segment": rng.choice(["smb", "mid", "ent"])},
        "name": name,
        "phone": _phone(rng),
        "preferred_locales": ["en-US"],
        "shipping": {"address": address, "name": name, "phone": _phone(rng)},
        "tax_exempt": "none",
        "tax_ids": {
            "object": "list",
            "data": [{"id": ids.new("txi"), "object": "tax_id", "country": "US", "type": "us_ein",
                      "value": f"{rng.randrange(10, 99)}-{rng.randrange(1_000_000, 9_999_999)}",
                      "created": _created(rng), "livemode": False,
                      "verification": {"status": "verified", "verified_address": None,
                                       "verified_name": None}}] if i % 3 == 0 else [],
            "has_more": False,
            "url": "/v1/customers/tax_ids",
        },
        "test_clock": None,
    }


def _plant_leaks(customer: dict[str, Any]) -> None:
    # Newest customer, so it is the first one any list returns.
    customer["created"] = BASE_TIME + 301 * 86_400
    customer["description"] = (
        f"VIP. Paid by phone, card {PLANTED_CARD_NUMBER} exp 12/34 (do not store!)")
    customer["metadata"]["support_note"] = (
        f"Escalate to {PLANTED_EMAIL}; old integration key {PLANTED_SECRET_KEY}")


def _card_payment_method(cust: dict[str, Any], rng: random.Random, ids: _Ids) -> dict[str, Any]:
    brand, last4, country = rng.choice(_CARDS)
    return {
        "id": ids.new("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": cust["address"], "email": cust["email"],
                            "name": cust["name"], "phone": cust["phone"]},
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": "pass", "address_postal_code_check": "pass",
                       "cvc_check": "pass"},
            "country": country,
            "display_brand": brand,
            "exp_month": rng.randrange(1, 13),
            "exp_year": rng.randrange(2026, 2033),
            "fingerprint": ids.token(16),
            "funding": "credit",
            "generated_from": None,
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": _created(rng),
        "customer": cust["id"],
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def _bank_payment_method(cust: dict[str, Any], rng: random.Random, ids: _Ids) -> dict[str, Any]:
    bank, routing, last4 = rng.choice(_BANKS)
    return {
        "id": ids.new("pm"),
        "object": "payment_method",
        "billing_details": {"address": cust["address"], "email": cust["email"],
                            "name": cust["name"], "phone": None},
        "created": _created(rng),
        "customer": cust["id"],
        "livemode": False,
        "metadata": {},
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": "individual",
            "account_holder_name": cust["name"],
            "account_type": "checking",
            "bank_name": bank,
            "financial_connections_account": None,
            "fingerprint": ids.token(16),
            "last4": last4,
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": routing,
            "status_details": {},
        },
    }


def _payment(cust: dict[str, Any], pm: dict[str, Any], rng: random.Random,
             ids: _Ids) -> tuple[dict[str, Any], dict[str, Any]]:
    amount = rng.choice([900, 2900, 4999, 9900, 15000, 123456])
    created = _created(rng)
    pi_id, ch_id = ids.new("pi"), ids.new("ch")
    status = rng.choice(["succeeded", "succeeded", "succeeded", "requires_payment_method"])
    succeeded = status == "succeeded"
    card = pm["card"]
    charge = {
        "id": ch_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "balance_transaction": ids.new("txn") if succeeded else None,
        "billing_details": dict(pm["billing_details"]),
        "captured": succeeded,
        "created": created,
        "currency": "usd",
        "customer": cust["id"],
        "description": f"Payment from {cust['name']}",
        "disputed": False,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None if succeeded else "Your card was declined.",
        "livemode": False,
        # booking_id: the merchant's own reference that payments are debugged by (no draw from rng:
        # the rest of the data set stays as it was).
        "metadata": {"order_id": f"ORD-{rng.randrange(100_000, 999_999)}", "booking_id": f"BK-{ch_id[-6:].upper()}"},
        "outcome": {"network_status": "approved_by_network" if succeeded else "declined_by_network",
                    "reason": None if succeeded else "generic_decline",
                    "risk_level": rng.choice(_RISK), "risk_score": rng.randrange(0, 100),
                    "seller_message": "Payment complete." if succeeded else "The bank declined.",
                    "type": "authorized" if succeeded else "issuer_declined"},
        "paid": succeeded,
        "payment_intent": pi_id,
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": amount if succeeded else None,
                "brand": card["brand"],
                "checks": dict(card["checks"]),
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": "credit",
                "last4": card["last4"],
                "network": card["brand"],
                "network_transaction_id": str(rng.randrange(10**14, 10**15)),
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": cust["email"],
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{ids.token(60)}",
        "refunded": False,
        "shipping": cust["shipping"],
        "status": "succeeded" if succeeded else "failed",
    }
    intent = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if succeeded else 0,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "capture_method": "automatic_async",
        "client_secret": f"{pi_id}_secret_{ids.token(25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": "usd",
        "customer": cust["id"],
        "description": charge["description"],
        "last_payment_error": None,
        "latest_charge": ch_id,
        "livemode": False,
        "metadata": dict(charge["metadata"]),
        "payment_method": pm["id"],
        "payment_method_types": ["card"],
        "receipt_email": cust["email"],
        "shipping": cust["shipping"],
        "status": status,
    }
    return intent, charge


def _refund(charge: dict[str, Any], rng: random.Random, ids: _Ids) -> dict[str, Any]:
    amount = charge["amount"] if rng.random() < 0.5 else charge["amount"] // 2
    return {
        "id": ids.new("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": ids.new("txn"),
        "charge": charge["id"],
        "created": charge["created"] + 3600,
        "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "available", "type": "refund",
                                         "reference": ids.token(12)}, "type": "card"},
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": rng.choice(["requested_by_customer", "duplicate", None]),
        "receipt_number": None,
        "status": "succeeded",
    }


def _dispute(charge: dict[str, Any], cust: dict[str, Any], rng: random.Random,
             ids: _Ids) -> dict[str, Any]:
    addr = cust["address"]
    return {
        "id": ids.new("dp"),
        "object": "dispute",
        "amount": charge["amount"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": charge["created"] + 86_400 * 5,
        "currency": charge["currency"],
        "evidence": {
            "billing_address": f"{addr['line1']}, {addr['city']}, {addr['state']} {addr['postal_code']}",
            "customer_communication": None,
            "customer_email_address": cust["email"],
            "customer_name": cust["name"],
            "customer_purchase_ip": f"203.0.113.{rng.randrange(1, 255)}",
            "product_description": "Annual subscription",
            "shipping_address": None,
            "uncategorized_text": f"Customer phoned from {cust['phone']} to confirm the order.",
        },
        "evidence_details": {"due_by": charge["created"] + 86_400 * 20, "has_evidence": True,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": rng.choice(["fraudulent", "product_not_received", "duplicate"]),
        "status": rng.choice(["needs_response", "under_review", "warning_needs_response"]),
    }


def _catalog(rng: random.Random, ids: _Ids) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    products, prices = [], []
    for name, amount in _PRODUCTS:
        created = _created(rng)
        prod = {"id": ids.new("prod"), "object": "product", "active": True, "created": created,
                "default_price": None, "description": f"{name} for growing teams",
                "images": [], "livemode": False, "metadata": {}, "name": name,
                "tax_code": None, "type": "service", "updated": created, "url": None}
        recurring = name.endswith("plan") or name == "Extra seat"
        price = {"id": ids.new("price"), "object": "price", "active": True,
                 "billing_scheme": "per_unit", "created": created, "currency": "usd",
                 "livemode": False, "lookup_key": None, "metadata": {}, "nickname": None,
                 "product": prod["id"],
                 "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}
                 if recurring else None,
                 "tax_behavior": "unspecified", "type": "recurring" if recurring else "one_time",
                 "unit_amount": amount, "unit_amount_decimal": str(amount)}
        prod["default_price"] = price["id"]
        products.append(prod)
        prices.append(price)
    return products, prices


def _coupons(rng: random.Random, ids: _Ids) -> list[dict[str, Any]]:
    specs = [("WELCOME10", "Welcome 10%", 10.0, None, "once"),
             ("SPRING25", "Spring sale", 25.0, None, "repeating"),
             ("FIVEOFF", "Five dollars off", None, 500, "forever")]
    return [{"id": cid, "object": "coupon", "amount_off": off, "created": _created(rng),
             "currency": "usd" if off else None, "duration": duration,
             "duration_in_months": 3 if duration == "repeating" else None, "livemode": False,
             "max_redemptions": None, "metadata": {}, "name": name, "percent_off": pct,
             "redeem_by": None, "times_redeemed": rng.randrange(0, 40), "valid": True}
            for cid, name, pct, off, duration in specs]


def _subscription(cust: dict[str, Any], price: dict[str, Any], rng: random.Random,
                  ids: _Ids) -> dict[str, Any]:
    created = _created(rng)
    sub_id = ids.new("sub")
    return {
        "id": sub_id,
        "object": "subscription",
        "billing_cycle_anchor": created,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "usd",
        "customer": cust["id"],
        "default_payment_method": cust["invoice_settings"]["default_payment_method"],
        "items": {"object": "list", "has_more": False,
                  "url": f"/v1/subscription_items?subscription={sub_id}",
                  "data": [{"id": ids.new("si"), "object": "subscription_item", "created": created,
                            "current_period_end": created + 30 * 86_400,
                            "current_period_start": created, "metadata": {},
                            "price": price, "quantity": rng.randrange(1, 6),
                            "subscription": sub_id}]},
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "start_date": created,
        "status": rng.choice(["active", "active", "active", "past_due", "trialing"]),
        "trial_end": None,
    }


def _invoice(sub: dict[str, Any], cust: dict[str, Any], rng: random.Random,
             ids: _Ids) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    amount = item["price"]["unit_amount"] * item["quantity"]
    inv_id = ids.new("in")
    sub["latest_invoice"] = inv_id
    status = rng.choice(["paid", "paid", "open", "draft"])
    number = f"{cust['invoice_prefix']}-{rng.randrange(1, 9999):04d}"
    return {
        "id": inv_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox Coffee Roasters",
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else amount,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": sub["created"],
        "currency": "usd",
        "customer": cust["id"],
        "customer_address": cust["address"],
        "customer_email": cust["email"],
        "customer_name": cust["name"],
        "customer_phone": cust["phone"],
        "customer_shipping": cust["shipping"],
        "customer_tax_ids": [{"type": t["type"], "value": t["value"]}
                             for t in cust["tax_ids"]["data"]],
        "description": None,
        "hosted_invoice_url": None if status == "draft"
        else f"https://invoice.stripe.com/i/acct_1SandboxFAKE0001/test_{ids.token(40)}",
        "invoice_pdf": None if status == "draft"
        else f"https://pay.stripe.com/invoice/acct_1SandboxFAKE0001/test_{ids.token(40)}/pdf",
        "lines": {"object": "list", "has_more": False, "url": f"/v1/invoices/{inv_id}/lines",
                  "data": [{"id": ids.new("il"), "object": "line_item", "amount": amount,
                            "currency": "usd", "description": f"{item['quantity']} x plan",
                            "quantity": item["quantity"], "subscription": sub["id"]}]},
        "livemode": False,
        "metadata": {},
        "number": None if status == "draft" else number,
        "paid": status == "paid",
        "period_end": sub["created"],
        "period_start": sub["created"] - 30 * 86_400,
        "status": status,
        "subscription": sub["id"],
        "subtotal": amount,
        "total": amount,
    }


def _external_bank_account(rng: random.Random, ids: _Ids, i: int) -> dict[str, Any]:
    bank, routing, last4 = _BANKS[i % len(_BANKS)]
    return {
        "id": ids.new("ba"),
        "object": "bank_account",
        "account": ACCOUNT_ID,
        "account_holder_name": "Sandbox Coffee Roasters LLC",
        "account_holder_type": "company",
        "account_type": None,
        "bank_name": bank,
        "country": "US",
        "created": _created(rng),
        "currency": "usd",
        "default_for_currency": i == 0,
        "fingerprint": ids.token(16),
        "last4": last4,
        "metadata": {},
        "routing_number": routing,
        "status": "verified" if i == 0 else "new",
    }


def _payout(bank: dict[str, Any], rng: random.Random, ids: _Ids, i: int) -> dict[str, Any]:
    created = _created(rng)
    return {
        "id": ids.new("po"),
        "object": "payout",
        "amount": rng.randrange(10_000, 2_000_000),
        "arrival_date": created + 2 * 86_400,
        "automatic": True,
        "balance_transaction": ids.new("txn"),
        "created": created,
        "currency": "usd",
        "description": "STRIPE PAYOUT",
        "destination": bank["id"],
        "failure_code": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "source_type": "card",
        "statement_descriptor": None,
        "status": "paid" if i else "in_transit",
        "type": "bank_account",
    }


def _webhook_endpoint(ids: _Ids) -> dict[str, Any]:
    return {
        "id": ids.new("we"),
        "object": "webhook_endpoint",
        "api_version": "2025-03-31.basil",
        "created": BASE_TIME,
        "description": "Order fulfilment",
        "enabled_events": ["checkout.session.completed", "invoice.paid"],
        "livemode": False,
        "metadata": {},
        "secret": WEBHOOK_SECRET,
        "status": "enabled",
        "url": "https://hooks.example.com/stripe",
    }


def _balance() -> dict[str, Any]:
    return {
        "object": "balance",
        "available": [{"amount": 1_234_567, "currency": "usd",
                       "source_types": {"bank_account": 0, "card": 1_234_567}}],
        "connect_reserved": [{"amount": 0, "currency": "usd"}],
        "livemode": False,
        "pending": [{"amount": 89_012, "currency": "usd",
                     "source_types": {"bank_account": 0, "card": 89_012}}],
    }


def _account(bank_accounts: list[dict[str, Any]]) -> dict[str, Any]:
    address = {"city": "San Francisco", "country": "US", "line1": "510 Townsend Street",
               "line2": None, "postal_code": "94103", "state": "CA"}
    return {
        "id": ACCOUNT_ID,
        "object": "account",
        "business_profile": {"mcc": "5812", "name": "Sandbox Coffee Roasters",
                             "support_address": address,
                             "support_email": "support@sandbox-coffee.example.com",
                             "support_phone": "+14155550100",
                             "support_url": "https://sandbox-coffee.example.com/help",
                             "url": "https://sandbox-coffee.example.com"},
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "company": {"address": address, "name": "Sandbox Coffee Roasters LLC",
                    "phone": "+14155550101", "tax_id": "12-3456789", "tax_id_provided": True,
                    "verification": {"document": {"back": None, "front": None}}},
        "country": "US",
        "created": BASE_TIME - 400 * 86_400,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "owner@sandbox-coffee.example.com",
        "external_accounts": {"object": "list", "data": [dict(b) for b in bank_accounts],
                              "has_more": False, "url": f"/v1/accounts/{ACCOUNT_ID}/external_accounts"},
        "individual": {"id": "person_1SandboxFAKE0001", "object": "person",
                       "account": ACCOUNT_ID, "first_name": "Robin", "last_name": "Castellano",
                       "email": "robin.castellano@example.com", "phone": "+14155550102",
                       "address": address, "dob": {"day": 14, "month": 6, "year": 1984},
                       "ssn_last_4_provided": True},
        "metadata": {},
        "payouts_enabled": True,
        "settings": {"dashboard": {"display_name": "Sandbox Coffee", "timezone": "America/Los_Angeles"},
                     "payments": {"statement_descriptor": "SANDBOX COFFEE"}},
        "tos_acceptance": {"date": BASE_TIME - 400 * 86_400, "ip": "198.51.100.23",
                           "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"},
        "type": "standard",
    }
