"""A small local fake of Stripe's REST API, for driving the real ``@stripe/mcp@0.2.5`` offline.

stripe-node (inside the npm package) is pointed here by ``tests/node/preload-stripe-node.cjs``.
The data are the sandbox's made-up test-mode fixtures (``mcp_guard.sandbox.build_fixtures``), so the
real package returns realistic objects full of planted PII and secrets.

The server records, in memory, every write it receives (any non-GET request, with its
form-encoded body) and every ``Authorization`` header it saw, so that a test can prove a blocked
write never arrived and that the key came by header only.

Run by hand: ``python tests/realworld/fake_stripe_rest.py`` prints its URL on stderr.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mcp_guard.sandbox import build_fixtures

# URL collection -> fixture list, and the id prefix of objects created there.
COLLECTIONS: dict[str, tuple[str, str]] = {
    "customers": ("customers", "cus"),
    "products": ("products", "prod"),
    "prices": ("prices", "price"),
    "payment_links": ("payment_links", "plink"),
    "invoices": ("invoices", "in"),
    "invoiceitems": ("invoiceitems", "ii"),
    "coupons": ("coupons", ""),
    "refunds": ("refunds", "re"),
    "payment_intents": ("payment_intents", "pi"),
    "charges": ("charges", "ch"),
    "subscriptions": ("subscriptions", "sub"),
    "disputes": ("disputes", "dp"),
    "payouts": ("payouts", "po"),
    "payment_methods": ("payment_methods", "pm"),
}
# List parameters that are not equality filters on a top-level field.
_PAGING = {"limit", "starting_after", "ending_before"}

_OBJECT_NAMES = {
    "customers": "customer", "products": "product", "prices": "price",
    "payment_links": "payment_link", "invoices": "invoice", "invoiceitems": "invoiceitem",
    "coupons": "coupon", "refunds": "refund", "payment_intents": "payment_intent",
    "charges": "charge", "subscriptions": "subscription", "disputes": "dispute",
    "payouts": "payout", "payment_methods": "payment_method",
}


@dataclass(frozen=True)
class ReceivedWrite:
    """One non-GET request as the fake API received it."""

    method: str
    path: str
    form: dict[str, str]


@dataclass
class Journal:
    """What the fake API saw; shared between the server thread and the test."""

    writes: list[ReceivedWrite] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot_writes(self) -> list[ReceivedWrite]:
        with self.lock:
            return list(self.writes)


def decode_form(body: str) -> dict[str, str]:
    """Stripe-style form body (``items[0][price]=...``) as a flat dict of bracketed keys."""
    return dict(parse_qsl(body, keep_blank_values=True))


def _nest(form: dict[str, str]) -> dict[str, Any]:
    """Turn bracketed keys into nested dicts (lists stay dicts keyed "0", "1"...)."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return out


def _coerce(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    return value


class _Store:
    """The fixture data plus what writes did to it."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = build_fixtures()
        self._counter = itertools.count(1)
        self.lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        token = f"{next(self._counter):04d}{secrets.token_hex(10)}"
        return f"{prefix}_FAKE{token}" if prefix else f"FAKE{token}"

    def find(self, collection: str, object_id: str) -> dict[str, Any] | None:
        for obj in self.data[COLLECTIONS[collection][0]]:
            if obj.get("id") == object_id:
                return obj
        return None


def _matches(obj: dict[str, Any], key: str, value: str) -> bool:
    if key == "price" and obj.get("object") == "subscription":
        return any(item["price"]["id"] == value for item in obj["items"]["data"])
    if key not in obj:
        return True  # an unknown filter narrows nothing, as far as this fake is concerned
    field_value = obj[key]
    if isinstance(field_value, bool):
        return str(field_value).lower() == value
    return str(field_value) == value


def list_objects(store: _Store, collection: str, query: dict[str, str]) -> dict[str, Any]:
    objects = store.data[COLLECTIONS[collection][0]]
    filters = {k: v for k, v in query.items() if k not in _PAGING and not k.startswith("expand")}
    if collection == "subscriptions":
        status = filters.pop("status", None)
        if status is None:
            objects = [o for o in objects if o["status"] != "canceled"]
        elif status != "all":
            objects = [o for o in objects if o["status"] == status]
    selected = [o for o in objects if all(_matches(o, k, v) for k, v in filters.items())]
    if "starting_after" in query:
        ids = [o["id"] for o in selected]
        if query["starting_after"] in ids:
            selected = selected[ids.index(query["starting_after"]) + 1:]
    limit = max(1, min(100, int(query.get("limit", "10"))))
    return {
        "object": "list",
        "data": selected[:limit],
        "has_more": len(selected) > limit,
        "url": f"/v1/{collection}",
    }


def create_object(store: _Store, collection: str, form: dict[str, str]) -> dict[str, Any]:
    fields = {k: _coerce(v) if not isinstance(v, dict) else v for k, v in _nest(form).items()}
    obj: dict[str, Any] = {
        "id": store.new_id(COLLECTIONS[collection][1]),
        "object": _OBJECT_NAMES[collection],
        "created": int(time.time()),
        "livemode": False,
        "metadata": {},
        **fields,
    }
    if collection == "payment_links":
        obj["url"] = f"https://buy.stripe.com/test_{secrets.token_hex(8)}"
        obj["active"] = True
    if collection == "refunds":
        obj.setdefault("status", "succeeded")
        obj.setdefault("currency", "usd")
    if collection == "invoices":
        obj.update(status="draft", amount_due=0, currency="usd")
    store.data[COLLECTIONS[collection][0]].insert(0, obj)
    return obj


def update_object(obj: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    for key, value in _nest(form).items():
        if key in ("items", "evidence", "metadata") and isinstance(value, dict):
            existing = obj.get(key)
            if isinstance(existing, dict) and key != "items":
                existing.update(value)
            continue
        obj[key] = _coerce(value)
    return obj


def act_on_object(collection: str, obj: dict[str, Any], action: str) -> dict[str, Any] | None:
    if collection == "invoices" and action == "finalize":
        obj["status"] = "open"
        return obj
    if collection == "disputes" and action == "close":
        obj["status"] = "lost"
        return obj
    return None


def _stripe_error(status: int, message: str, code: str | None = None) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
    return status, {"error": error}


class FakeStripeRest:
    """The fake API on 127.0.0.1 (port 0 by default), served from a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        self.journal = Journal()
        self.store = _Store()
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe-rest",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripeRest:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeStripeRest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Routing -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str],
               form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/search" and method == "POST":  # ai.stripe.com docs search (0.2.x)
            return 200, {"sources": [{"title": "Accept a payment",
                                      "url": "https://docs.stripe.com/payments/accept-a-payment",
                                      "content": "Use a PaymentIntent to collect a payment."}]}
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or parts[0] != "v1":
            return _stripe_error(404, f"Unrecognized request URL ({method}: {path}).")
        resource, rest = parts[1], parts[2:]
        with self.store.lock:
            if resource == "balance" and not rest and method == "GET":
                return 200, copy.deepcopy(self.store.data["balance"])
            if resource == "account" and not rest and method == "GET":
                return 200, copy.deepcopy(self.store.data["account"])
            if resource not in COLLECTIONS:
                return _stripe_error(404, f"Unrecognized request URL ({method}: {path}).")
            return self._collection(method, resource, rest, query, form)

    def _collection(self, method: str, resource: str, rest: list[str], query: dict[str, str],
                    form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not rest:
            if method == "GET":
                return 200, copy.deepcopy(list_objects(self.store, resource, query))
            if method == "POST":
                return 200, copy.deepcopy(create_object(self.store, resource, form))
            return _stripe_error(405, f"Unsupported method {method} for /v1/{resource}.")
        obj = self.store.find(resource, rest[0])
        if obj is None:
            return _stripe_error(404, f"No such {_OBJECT_NAMES[resource]}: '{rest[0]}'",
                                 "resource_missing")
        if len(rest) == 1 and method == "GET":
            return 200, copy.deepcopy(obj)
        if len(rest) == 1 and method == "POST":
            return 200, copy.deepcopy(update_object(obj, form))
        if len(rest) == 1 and method == "DELETE":
            if resource == "subscriptions":
                obj.update(status="canceled", canceled_at=int(time.time()))
                return 200, copy.deepcopy(obj)
            self.store.data[COLLECTIONS[resource][0]].remove(obj)
            return 200, {"id": obj["id"], "object": obj["object"], "deleted": True}
        if len(rest) == 2 and method == "POST":
            acted = act_on_object(resource, obj, rest[1])
            if acted is not None:
                return 200, copy.deepcopy(acted)
        return _stripe_error(404, f"Unrecognized request URL ({method}: /v1/{resource}/...).")


def _make_handler(api: FakeStripeRest) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass  # quiet: pytest shows failures, not access logs

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            is_json = "json" in (self.headers.get("Content-Type") or "")
            form = {} if is_json else decode_form(body)
            auth = self.headers.get("Authorization")
            with api.journal.lock:
                api.journal.requests.append((self.command, url.path))
                if auth:
                    api.journal.authorizations.append(auth)
                if self.command != "GET" and url.path.startswith("/v1/"):
                    api.journal.writes.append(ReceivedWrite(self.command, url.path, form))
            if url.path.startswith("/v1/") and not auth:
                status, payload = _stripe_error(401, "You did not provide an API key.")
            else:
                status, payload = api.handle(self.command, url.path, query, form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_FAKE{secrets.token_hex(7)}")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

    return Handler


def main() -> int:
    with FakeStripeRest() as api:
        print(f"listening {api.url}", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
