"""Benchmark the redactor alone: a 4 KB result, a ~1 MB PII-dense list, and loading the field table.

    .venv/bin/python benchmarks/redaction_bench.py [--runs 40] [--profile]

Each payload is a `tools/call` result: one text content item holding the JSON, as both Stripe
catalogs return it, redacted with the operation id of the call (`GetCustomers`...). Times are CPU
time of this process (`time.process_time`), so that other processes on a shared machine weigh
less; the minimum is the most repeatable figure, the median the honest one. Target: a 1 MB list
in at most 12 ms. The parts of the 1 MB case (parse, walk, serialize) are printed separately.

The field table is loaded on the first redaction of a process: its cost (time and memory, in a
fresh interpreter) is printed last.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from mcp_guard.redaction import RedactionSettings, Redactor, build_redactor
from mcp_guard.redaction._walk import Walk

KEY = bytes(range(32))
TARGET_MS = 12.0


def _customer(i: int) -> dict[str, Any]:
    return {
        "id": f"cus_Nffr{i:04d}FeUfNV2H", "object": "customer",
        "address": {"city": "San Francisco", "country": "US", "line1": f"{i} Market Street",
                    "line2": "Suite 400", "postal_code": "94105", "state": "CA"},
        "balance": 0, "created": 1680893993 + i, "currency": "usd", "default_source": None,
        "delinquent": False, "description": f"Customer #{i} onboarded by sales",
        "discount": None, "email": f"jenny.rosen{i}@example.com", "invoice_prefix": f"8D{i:04d}A",
        "invoice_settings": {"custom_fields": None, "default_payment_method": f"pm_1Mqj{i:04d}2eZvKYlo2C",
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": {"crm_id": f"CRM-{i}", "segment": "smb"},
        "name": f"Jenny Rosen {i}", "next_invoice_sequence": 1, "phone": "+14155552671",
        "preferred_locales": ["en"], "shipping": {"address": {"city": "Oakland", "country": "US",
                                                              "line1": "9 Broadway", "line2": None,
                                                              "postal_code": "94607", "state": "CA"},
                                                  "name": f"Jenny Rosen {i}", "phone": "+14155550000"},
        "tax_exempt": "none", "test_clock": None,
    }


def _charge(i: int) -> dict[str, Any]:
    return {
        "id": f"ch_3MmlLr{i:04d}LkdIwH1M", "object": "charge", "amount": 1099 + i,
        "amount_captured": 1099 + i, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None,
        "balance_transaction": f"txn_3MmlLr{i:04d}LkdIwH", "billing_details": {
            "address": {"city": "Berlin", "country": "DE", "line1": "Unter den Linden 1", "line2": None,
                        "postal_code": "10117", "state": None},
            "email": f"max{i}@example.de", "name": "Max Mustermann", "phone": "+49 30 1234567", "tax_id": None},
        "calculated_statement_descriptor": "STRIPE* EXAMPLE", "captured": True, "created": 1679090539 + i,
        "currency": "eur", "customer": f"cus_Nffr{i:04d}FeUfNV2H", "description": "Order 1234",
        "disputed": False, "failure_code": None, "failure_message": None, "fraud_details": {},
        "livemode": False, "metadata": {"order_id": f"ord_{i}"}, "on_behalf_of": None,
        "outcome": {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": f"pi_3MmlLr{i:04d}LkdIwH1", "payment_method": f"pm_1MmlLr{i:04d}LkdIwH",
        "payment_method_details": {"card": {
            "amount_authorized": 1099, "brand": "visa",
            "checks": {"address_line1_check": "pass", "address_postal_code_check": "pass", "cvc_check": "pass"},
            "country": "US", "exp_month": 3, "exp_year": 2030, "extended_authorization": {"status": "disabled"},
            "fingerprint": "Xt5EWLLDS7FJjR1c", "funding": "credit", "incremental_authorization": {"status": "unavailable"},
            "installments": None, "last4": "4242", "mandate": None, "multicapture": {"status": "unavailable"},
            "network": "visa", "network_token": {"used": False}, "overcapture": {"maximum_amount_capturable": 1099,
                                                                                "status": "unavailable"},
            "three_d_secure": None, "wallet": None}, "type": "card"},
        "receipt_email": f"max{i}@example.de", "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8xTTJKVGtMa2RJd0h1N2l4KOvG06AGMgZfBXyr1aw6LBa9vaaSRWU96d8qBwz9z2J_CObiV_H2-e8RezSK_sw0KISesp4czsOUlVKY{i}",
        "refunded": False, "review": None, "shipping": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None, "status": "succeeded",
        "transfer_data": None, "transfer_group": None,
    }


def _invoice(i: int) -> dict[str, Any]:
    lines = [{
        "id": f"il_1MtHbE{i:04d}{n}LkdIwH", "object": "line_item", "amount": 1500, "currency": "usd",
        "description": f"1 x Pro plan (at $15.00 / month) line {n}", "discount_amounts": [],
        "discountable": True, "discounts": [], "invoice": f"in_1MtHbE{i:04d}LkdIwH", "livemode": False,
        "metadata": {}, "period": {"end": 1683135900, "start": 1680457500},
        "price": {"id": "price_1MtHbELkdIwHu7ixl", "object": "price", "active": True,
                  "billing_scheme": "per_unit", "created": 1680457500, "currency": "usd", "livemode": False,
                  "lookup_key": None, "metadata": {}, "nickname": None, "product": "prod_NeZe7xbBdJT8EN",
                  "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
                  "tax_behavior": "unspecified", "type": "recurring", "unit_amount": 1500,
                  "unit_amount_decimal": "1500"},
        "proration": False, "quantity": 1, "type": "subscription",
    } for n in range(3)]
    return {
        "id": f"in_1MtHbE{i:04d}LkdIwH", "object": "invoice", "account_country": "US",
        "account_name": "Example Inc.", "amount_due": 4500, "amount_paid": 4500, "amount_remaining": 0,
        "attempt_count": 1, "attempted": True, "auto_advance": False, "billing_reason": "subscription_create",
        "collection_method": "charge_automatically", "created": 1680644467 + i, "currency": "usd",
        "customer": f"cus_Nffr{i:04d}FeUfNV2H", "customer_address": {"city": "Austin", "country": "US",
                                                                       "line1": "5 Elm St", "line2": None,
                                                                       "postal_code": "73301", "state": "TX"},
        "customer_email": f"jenny.rosen{i}@example.com", "customer_name": "Jenny Rosen",
        "customer_phone": None, "customer_shipping": None, "customer_tax_exempt": "none",
        "customer_tax_ids": [{"type": "eu_vat", "value": "DE123456789"}], "description": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8xTTJKVGtMa2RJd0h1{i}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8xTTJK{i}/pdf",
        "lines": {"object": "list", "data": lines, "has_more": False, "total_count": 3,
                  "url": f"/v1/invoices/in_1MtHbE{i:04d}LkdIwH/lines"},
        "livemode": False, "metadata": {}, "number": f"8D{i:04d}A-0001", "paid": True,
        "period_end": 1680644467, "period_start": 1680644467, "status": "paid",
        "subscription": f"sub_1MtHbE{i:04d}LkdIwH", "subtotal": 4500, "tax": None, "total": 4500,
        "webhooks_delivered_at": 1680644467,
    }


def list_payload(target_bytes: int) -> dict[str, Any]:
    """A tools/call result whose text holds a Stripe list of mixed full objects."""
    makers = (_customer, _charge, _invoice)
    data: list[dict[str, Any]] = []
    size = 0
    while size < target_bytes:
        obj = makers[len(data) % 3](len(data))
        data.append(obj)
        size += len(json.dumps(obj)) + 1
    text = json.dumps({"object": "list", "data": data, "has_more": True, "url": "/v1/search"})
    return {"content": [{"type": "text", "text": text}], "isError": False}


def _cpu_ms(step: Callable[[], Any], runs: int) -> list[float]:
    step()  # warm up: the table, the generated walk functions, the learned values
    samples = []
    for _ in range(runs):
        start = time.process_time()
        step()
        samples.append((time.process_time() - start) * 1000)
    return sorted(samples)


def _row(label: str, samples: list[float], size: int, mode: str) -> str:
    median = samples[len(samples) // 2]
    return f"{label:<10}{size:>10}{samples[0]:>9.2f}{median:>11.2f}{samples[int(len(samples) * 0.9)]:>9.2f}{size / median / 1000:>8.1f}  {mode}"


def _parts(redactor: Redactor, text: str, runs: int) -> dict[str, float]:
    """Minimum CPU milliseconds of each part of the 1 MB case."""
    import orjson

    parsed = [orjson.loads(text) for _ in range(runs + 1)]
    queue = iter(parsed)

    def walk() -> None:
        w = Walk(redactor, "customer")
        w.document(next(queue), None, 0, True)
        w.settle(w.pending)
        redactor.learned.flush()

    redacted = redactor.redact({"content": [{"type": "text", "text": text}]}).value["content"][0]["text"]
    value = orjson.loads(redacted)
    return {
        "parse (orjson.loads)": _cpu_ms(lambda: orjson.loads(text), runs)[0],
        "walk (typing, field rules, learning)": _cpu_ms(walk, runs - 1)[0],
        "serialize (orjson.dumps)": _cpu_ms(lambda: orjson.dumps(value), runs)[0],
    }


TABLE_PROBE = """
import time, tracemalloc


def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


rss0 = rss()
t0 = time.perf_counter()
from mcp_guard.redaction import RedactionSettings, build_redactor
t1 = time.perf_counter()
rss1 = rss()
tracemalloc.start()
t2 = time.perf_counter()
from mcp_guard.redaction._table import load_table
table = load_table()
t3 = time.perf_counter()
loaded, _ = tracemalloc.get_traced_memory()
redactor = build_redactor(RedactionSettings(), "live", bytes(32))
for name in ("customer", "charge", "invoice", "payment_intent", "subscription"):
    redactor.compiled.node(name)
t4 = time.perf_counter()
compiled, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(f"import mcp_guard.redaction: {(t1 - t0) * 1000:.1f} ms, RSS {rss0:.1f} -> {rss1:.1f} MiB")
print(f"load the field table ({len(table.objects)} types, {len(table.operations)} operations): {(t3 - t2) * 1000:.1f} ms, {loaded / 2**20:.1f} MiB")
print(f"compile 5 common types: {(t4 - t3) * 1000:.1f} ms, {(compiled - loaded) / 2**20:.1f} MiB more (peak {peak / 2**20:.1f} MiB)")
print(f"RSS after loading the table: {rss():.1f} MiB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="profile the 1 MB case with cProfile")
    args = parser.parse_args()

    small_list = {"object": "list", "data": [_charge(1), _customer(2), _customer(3)], "has_more": False}
    small = {"content": [{"type": "text", "text": json.dumps(small_list)}], "isError": False}  # ~4.3 KB
    big = list_payload(1_000_000)
    print(f"CPU time per redaction; target: 1 MB in at most {TARGET_MS:.0f} ms")
    print(f"{'payload':<10}{'bytes':>10}{'min ms':>9}{'median ms':>11}{'p90 ms':>9}{'MB/s':>8}  mode")
    for mode in ("test", "live"):
        redactor = build_redactor(RedactionSettings(), mode, KEY)
        for label, payload, runs, operation in (("4 KB", small, args.runs * 10, "GetCharges"), ("1 MB", big, args.runs, "GetCustomers")):
            samples = _cpu_ms(lambda r=redactor, p=payload, op=operation: r.redact(p, operation_id=op), runs)  # type: ignore[misc]
            print(_row(label, samples, len(payload["content"][0]["text"].encode()), mode))

    redactor = build_redactor(RedactionSettings(), "live", KEY)
    for name, ms in _parts(redactor, big["content"][0]["text"], args.runs).items():
        print(f"1 MB {name}: {ms:.2f} ms (min)")

    print(subprocess.run([sys.executable, "-c", TABLE_PROBE], capture_output=True, text=True, check=True).stdout, end="")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            redactor.redact(big, operation_id="GetCustomers")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
