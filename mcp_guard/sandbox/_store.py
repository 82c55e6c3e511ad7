"""In-memory Stripe objects with Stripe's list, search, expand and write semantics."""

from __future__ import annotations

import builtins
import copy
import random
import re
import string
import time
from typing import Any

from mcp_guard.sandbox._fixtures import ACCOUNT_ID, build_fixtures

# Request parameters that steer a list instead of filtering it.
_LIST_CONTROLS = frozenset({"limit", "starting_after", "ending_before", "expand"})

# Id prefix -> collection, for `expand` and for finding an object by id alone.
_PREFIXES = {
    "cus": "customers", "pi": "payment_intents", "ch": "charges", "pm": "payment_methods",
    "in": "invoices", "ii": "invoiceitems", "sub": "subscriptions", "re": "refunds",
    "dp": "disputes", "po": "payouts", "ba": "bank_accounts", "prod": "products",
    "price": "prices", "plink": "payment_links", "we": "webhook_endpoints",
}
# Collection -> (id prefix, `object` value, API path).
_RESOURCES = {
    "customers": ("cus", "customer", "/v1/customers"),
    "payment_intents": ("pi", "payment_intent", "/v1/payment_intents"),
    "charges": ("ch", "charge", "/v1/charges"),
    "payment_methods": ("pm", "payment_method", "/v1/payment_methods"),
    "invoices": ("in", "invoice", "/v1/invoices"),
    "invoiceitems": ("ii", "invoiceitem", "/v1/invoiceitems"),
    "subscriptions": ("sub", "subscription", "/v1/subscriptions"),
    "refunds": ("re", "refund", "/v1/refunds"),
    "disputes": ("dp", "dispute", "/v1/disputes"),
    "payouts": ("po", "payout", "/v1/payouts"),
    "bank_accounts": ("ba", "bank_account", f"/v1/accounts/{ACCOUNT_ID}/external_accounts"),
    "products": ("prod", "product", "/v1/products"),
    "prices": ("price", "price", "/v1/prices"),
    "coupons": ("", "coupon", "/v1/coupons"),
    "payment_links": ("plink", "payment_link", "/v1/payment_links"),
    "webhook_endpoints": ("we", "webhook_endpoint", "/v1/webhook_endpoints"),
}
_CLAUSE = re.compile(
    r"""(?P<neg>-)?(?P<field>[a-z_]+(?:\[['"][^'"]+['"]\])?)\s*(?P<op>:|~|>=|<=|>|<)\s*"""
    r"""(?P<value>'[^']*'|"[^"]*"|\S+)""")


class StripeError(Exception):
    """A Stripe API error, shaped like Stripe's ``{"error": {...}}`` body."""

    def __init__(self, message: str, *, code: str = "parameter_invalid", param: str | None = None,
                 status: int = 400, type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {"error": {"code": code, "message": message, "param": param,
                                               "type": type_}}
        self.status = status


def resource_missing(resource: str, obj_id: str) -> StripeError:
    noun = _RESOURCES.get(resource, ("", resource, ""))[1]
    return StripeError(f"No such {noun}: '{obj_id}'", code="resource_missing", param="id",
                       status=404)


class SandboxStore:
    """Mutable copy of the fixtures plus Stripe's read and write semantics.

    Not thread-safe; the server runs on one event loop.
    """

    def __init__(self, seed: int = 0, *, livemode: bool = False) -> None:
        self.livemode = livemode
        data = build_fixtures(seed, livemode=livemode)
        self.balance: dict[str, Any] = data.pop("balance")
        self.account: dict[str, Any] = data.pop("account")
        self._data: dict[str, list[dict[str, Any]]] = data
        self._rng = random.Random(seed + 1_000_003)

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _mode(self) -> str:
        """How the mode is spelled inside URLs (``/test_...`` or ``/live_...``)."""
        return "live" if self.livemode else "test"

    def new_id(self, prefix: str) -> str:
        token = "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(24))
        return f"{prefix}_{token}"

    def collection(self, resource: str) -> list[dict[str, Any]]:
        try:
            return self._data[resource]
        except KeyError:
            raise StripeError(f"Unrecognized resource: {resource}", status=404) from None

    def find(self, resource: str, obj_id: str) -> dict[str, Any]:
        for obj in self.collection(resource):
            if obj["id"] == obj_id:
                return obj
        raise resource_missing(resource, obj_id)

    def find_any(self, obj_id: str) -> dict[str, Any] | None:
        resource = _PREFIXES.get(obj_id.split("_", 1)[0]) if "_" in obj_id else None
        if resource is None:
            return None
        return next((o for o in self._data[resource] if o["id"] == obj_id), None)

    # -- reads ---------------------------------------------------------------------------------

    def retrieve(self, resource: str, obj_id: str, params: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(self.find(resource, obj_id))
        for path in _expand_paths(params):
            self._expand(obj, path.split("."))
        return obj

    def list(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        objects = [o for o in self.collection(resource) if _matches_filters(resource, o, params)]
        return self._page(objects, params, url=_RESOURCES[resource][2])

    def search(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            raise StripeError("Missing required param: query.", code="parameter_missing",
                              param="query")
        matcher = _parse_query(query)
        hits = [o for o in self.collection(resource) if matcher(o)]
        page = self._page(hits, {k: v for k, v in params.items() if k != "starting_after"},
                          url=f"{_RESOURCES[resource][2]}/search")
        page["object"] = "search_result"
        page["next_page"] = None
        return page

    def _page(self, objects: builtins.list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
        limit = _int_param(params, "limit", 10)
        if not 1 <= limit <= 100:
            raise StripeError("Invalid integer: limit must be between 1 and 100", param="limit")
        start = 0
        if after := params.get("starting_after"):
            index = next((i for i, o in enumerate(objects) if o["id"] == after), None)
            if index is None:
                raise StripeError(f"Invalid starting_after: no such object '{after}'",
                                  code="resource_missing", param="starting_after")
            start = index + 1
        end = len(objects)
        if before := params.get("ending_before"):
            end = next((i for i, o in enumerate(objects) if o["id"] == before), len(objects))
            start = max(0, end - limit)
        window = objects[start:min(end, start + limit)]
        data = copy.deepcopy(window)
        for path in _expand_paths(params):
            parts = path.split(".")
            if parts[0] == "data":
                for obj in data:
                    self._expand(obj, parts[1:])
        return {"object": "list", "data": data, "has_more": start + len(window) < end, "url": url}

    def _expand(self, obj: Any, parts: builtins.list[str]) -> None:
        if not parts or not isinstance(obj, dict):
            return
        head, rest = parts[0], parts[1:]
        value = obj.get(head)
        if isinstance(value, str):
            target = self.find_any(value)
            if target is not None:
                obj[head] = value = copy.deepcopy(target)
        if isinstance(value, list):
            for item in value:
                self._expand(item, rest)
        else:
            self._expand(value, rest)

    # -- writes --------------------------------------------------------------------------------

    def create(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        prefix, noun, _ = _RESOURCES[resource]
        body = {k: v for k, v in params.items() if k != "expand"}
        obj: dict[str, Any] = {
            "id": body.pop("id", None) or (self.new_id(prefix) if prefix else self.new_id("x")[2:10]),
            "object": noun, "created": int(time.time()), "livemode": self.livemode, "metadata": {},
        }
        obj.update(_CREATE_DEFAULTS.get(resource, dict)())
        obj.update(body)
        _coerce_amounts(obj)
        if resource == "refunds":
            self._prepare_refund(obj)
        elif resource == "invoices":
            self._prepare_invoice(obj)
        elif resource == "payment_links":
            obj["url"] = f"https://buy.stripe.com/{self._mode}_{self.new_id('x')[2:]}"
        self.collection(resource).insert(0, obj)
        return copy.deepcopy(obj)

    def update(self, resource: str, obj_id: str, params: dict[str, Any]) -> dict[str, Any]:
        obj = self.find(resource, obj_id)
        for key, value in params.items():
            if key == "expand":
                continue
            if isinstance(value, dict) and isinstance(obj.get(key), dict):
                obj[key] = {**obj[key], **value}
            else:
                obj[key] = value
        _coerce_amounts(obj)
        return self.retrieve(resource, obj_id, params)

    def delete(self, resource: str, obj_id: str) -> dict[str, Any]:
        objects = self.collection(resource)
        obj = self.find(resource, obj_id)
        objects.remove(obj)
        return {"id": obj_id, "object": obj["object"], "deleted": True}

    def act(self, resource: str, obj_id: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a state transition such as ``finalize`` or ``cancel`` on one object."""
        obj = self.find(resource, obj_id)
        now = int(time.time())
        if action == "finalize":
            if obj["status"] != "draft":
                raise StripeError(f"Invoice {obj_id} is already finalized.",
                                  code="invoice_not_editable")
            obj.update(status="open", number=f"SBX-{self._rng.randrange(1000, 9999)}",
                       hosted_invoice_url=f"https://invoice.stripe.com/i/{ACCOUNT_ID}/{self._mode}_{obj_id}",
                       invoice_pdf=f"https://pay.stripe.com/invoice/{ACCOUNT_ID}/{self._mode}_{obj_id}/pdf")
        elif action == "cancel":
            obj.update(status="canceled", canceled_at=now)
        elif action == "close":
            obj.update(status="lost")
        elif action == "detach":
            obj.update(customer=None)
        elif action == "pay":
            obj.update(status="paid", paid=True, amount_paid=obj["amount_due"], amount_remaining=0)
        else:
            raise StripeError(f"Unknown action {action}")
        return self.update(resource, obj_id, params)

    def _prepare_refund(self, refund: dict[str, Any]) -> None:
        charge: dict[str, Any] | None = None
        if pi_id := refund.get("payment_intent"):
            intent = self.find("payment_intents", str(pi_id))
            charge = self.find_any(intent.get("latest_charge") or "")
        elif ch_id := refund.get("charge"):
            charge = self.find("charges", str(ch_id))
        if charge is None:
            raise StripeError("One of the following params should be provided for this request: "
                              "payment_intent or charge.", code="parameter_missing")
        if not charge["paid"]:
            raise StripeError(f"Charge {charge['id']} has not been paid; there is nothing to "
                              "refund.", code="charge_not_refundable")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(f"Charge {charge['id']} has already been refunded.",
                              code="charge_already_refunded")
        amount = refund.get("amount") or remaining
        if amount > remaining:
            raise StripeError(f"Refund amount ({amount}) is greater than unrefunded amount on "
                              f"charge ({remaining})", code="amount_too_large", param="amount")
        refund.update(amount=amount, charge=charge["id"], currency=charge["currency"],
                      payment_intent=charge["payment_intent"], status="succeeded",
                      balance_transaction=self.new_id("txn"))
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]

    def _prepare_invoice(self, invoice: dict[str, Any]) -> None:
        customer = self.find("customers", str(invoice.get("customer", "")))
        invoice.update(customer_email=customer["email"], customer_name=customer["name"],
                       customer_address=customer["address"], customer_phone=customer["phone"])


_CREATE_DEFAULTS: dict[str, Any] = {
    "customers": lambda: {"address": None, "balance": 0, "description": None, "email": None,
                          "name": None, "phone": None, "shipping": None, "delinquent": False,
                          "invoice_settings": {"default_payment_method": None}},
    "invoices": lambda: {"status": "draft", "amount_due": 0, "amount_paid": 0,
                         "amount_remaining": 0, "currency": "usd", "hosted_invoice_url": None,
                         "invoice_pdf": None, "number": None, "paid": False, "total": 0},
    "invoiceitems": lambda: {"currency": "usd", "quantity": 1},
    "products": lambda: {"active": True, "description": None, "images": [], "type": "service"},
    "prices": lambda: {"active": True, "billing_scheme": "per_unit", "recurring": None,
                       "type": "one_time"},
    "coupons": lambda: {"amount_off": None, "percent_off": None, "currency": None,
                        "duration": "once", "duration_in_months": None, "valid": True,
                        "times_redeemed": 0},
    "payment_links": lambda: {"active": True},
    "payment_intents": lambda: {"status": "requires_payment_method", "currency": "usd",
                                "latest_charge": None},
    "payouts": lambda: {"status": "pending", "currency": "usd", "method": "standard"},
    "webhook_endpoints": lambda: {"status": "enabled", "secret": "whsec_FAKEcreatedSecret"},
}


def _coerce_amounts(obj: dict[str, Any]) -> None:
    """Form-encoded Stripe params arrive as strings; amounts are integers in Stripe objects."""
    for key in ("amount", "unit_amount", "amount_off", "quantity", "duration_in_months"):
        value = obj.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            obj[key] = int(value)
    if isinstance(obj.get("percent_off"), str):
        try:
            obj["percent_off"] = float(obj["percent_off"])
        except ValueError:
            pass


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value!r}", param=name) from None


def _expand_paths(params: dict[str, Any]) -> list[str]:
    expand = params.get("expand") or []
    if isinstance(expand, str):
        expand = [expand]
    if not isinstance(expand, list) or not all(isinstance(p, str) for p in expand):
        raise StripeError("Invalid array: expand", param="expand")
    return expand


def _matches_filters(resource: str, obj: dict[str, Any], params: dict[str, Any]) -> bool:
    filters = {k: v for k, v in params.items() if k not in _LIST_CONTROLS and v is not None}
    if resource == "subscriptions":
        status = filters.pop("status", None)
        if status is None and obj.get("status") == "canceled":
            return False  # Stripe hides canceled subscriptions unless asked for them
        if status not in (None, "all") and obj.get("status") != status:
            return False
        price = filters.pop("price", None)
        if price is not None and not any(i["price"]["id"] == price for i in obj["items"]["data"]):
            return False
    for key, expected in filters.items():
        if key not in obj:
            continue  # unknown filters are ignored here, as a naive sandbox
        actual = obj[key]
        if isinstance(actual, dict) and "id" in actual:
            actual = actual["id"]
        if isinstance(actual, bool):
            expected = str(expected).lower() in ("true", "1")
        if isinstance(actual, (dict, list)) or str(actual) != str(expected):
            return False
    return True


def _parse_query(query: str) -> Any:
    """Compile a Stripe search query (``email:'x@y' AND metadata['k']:'v'``) to a predicate."""
    use_or = " OR " in query
    clauses = []
    for part in re.split(r"\s+(?:AND|OR)\s+", query.strip()):
        match = _CLAUSE.fullmatch(part.strip())
        if match is None:
            raise StripeError(f"Invalid search query: {query!r}", code="parameter_invalid",
                              param="query")
        clauses.append(match)

    def field_value(obj: dict[str, Any], field: str) -> Any:
        if field.startswith("metadata["):
            return (obj.get("metadata") or {}).get(field[10:-2])
        return obj.get(field)

    def clause_ok(obj: dict[str, Any], m: re.Match[str]) -> bool:
        actual = field_value(obj, m["field"])
        raw = m["value"].strip("'\"")
        op = m["op"]
        if op in (">", "<", ">=", "<="):
            try:
                a, b = float(actual), float(raw)
            except (TypeError, ValueError):
                return False
            ok = {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
        elif op == "~":
            ok = actual is not None and raw.lower() in str(actual).lower()
        else:
            ok = actual is not None and str(actual).lower() == raw.lower() if raw else actual in (None, "")
        return ok != bool(m["neg"])

    def predicate(obj: dict[str, Any]) -> bool:
        results = (clause_ok(obj, m) for m in clauses)
        return any(results) if use_or else all(results)

    return predicate
