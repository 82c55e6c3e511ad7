"""A minimal stdio MCP upstream for benchmarks: answers at once, so timings show the proxy's cost.

`get_balance_summary` returns a small Stripe balance (~0.4 KB); `list_customers` returns a list of
customers padded to the size given by --result-bytes (4 KB, 1 MB ...), full of PII to redact.
"""

from __future__ import annotations

import argparse
import json
import sys

BALANCE = {
    "object": "balance",
    "available": [{"amount": 123456, "currency": "usd", "source_types": {"card": 123456}}],
    "pending": [{"amount": 7890, "currency": "usd", "source_types": {"card": 7890}}],
    "livemode": False,
}


def customer(i: int) -> dict:
    return {
        "id": f"cus_Bench{i:010d}",
        "object": "customer",
        "address": {"city": "Springfield", "country": "US", "line1": f"{i} Evergreen Terrace", "postal_code": "49007", "state": "OR"},
        "balance": 0,
        "created": 1700000000 + i,
        "currency": "usd",
        "description": f"Customer {i}",
        "email": f"jenny.rosen{i}@example.com",
        "livemode": False,
        "metadata": {"order_id": str(6735 + i)},
        "name": f"Jenny Rosen {i}",
        "phone": "+14155550123",
        "shipping": {"name": f"Jenny Rosen {i}", "phone": "+14155550123", "address": {"city": "Springfield", "line1": "1 Main St"}},
        "invoice_settings": {"default_payment_method": f"pm_Bench{i:010d}"},
        "tax_exempt": "none",
    }


def customer_list(size: int) -> dict:
    data, total, i = [], 60, 0
    while total < size:
        item = customer(i)
        data.append(item)
        total += len(json.dumps(item)) + 1
        i += 1
    return {"object": "list", "data": data, "has_more": False, "url": "/v1/customers"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--result-bytes", type=int, default=4096)
    args = parser.parse_args()
    texts = {
        "get_balance_summary": json.dumps(BALANCE),
        "list_customers": json.dumps(customer_list(args.result_bytes)),
    }
    tools = [
        {"name": name, "description": name, "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": True}}
        for name in texts
    ]
    out = sys.stdout
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message or "method" not in message:
            continue
        method = message["method"]
        if method == "initialize":
            result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                      "serverInfo": {"name": "bench-upstream", "version": "1.0"}}
        elif method == "tools/list":
            result = {"tools": tools}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": texts[message["params"]["name"]]}]}
        else:
            result = {}
        out.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
