"""Stripe OpenAPI operation ids the sandbox can execute, and how to execute them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp_guard.sandbox._store import SandboxStore, StripeError


@dataclass(frozen=True, slots=True)
class StripeOperation:
    """One Stripe API operation: ``GetCustomersCustomer`` is GET /v1/customers/{customer}."""

    operation_id: str
    method: str  # GET, POST or DELETE, as Stripe's operation ids say
    path: str
    kind: str  # list, retrieve, search, create, update, delete, action, singleton
    resource: str
    id_param: str | None = None
    action: str | None = None
    summary: str = ""

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


def _crud(base: str, resource: str, path: str, id_param: str, noun: str, *, kinds: str,
          id_name: str | None = None) -> list[StripeOperation]:
    """Standard operations of one collection; ``kinds`` picks from ``lsrcud``."""
    id_suffix = id_name or id_param.title().replace("_", "")
    item = f"{path}/{{{id_param}}}"
    table = {
        "l": StripeOperation(f"Get{base}", "GET", path, "list", resource, summary=f"List all {noun}s"),
        "s": StripeOperation(f"Get{base}Search", "GET", f"{path}/search", "search", resource,
                             summary=f"Search {noun}s"),
        "r": StripeOperation(f"Get{base}{id_suffix}", "GET", item, "retrieve", resource, id_param,
                             summary=f"Retrieve a {noun}"),
        "c": StripeOperation(f"Post{base}", "POST", path, "create", resource,
                             summary=f"Create a {noun}"),
        "u": StripeOperation(f"Post{base}{id_suffix}", "POST", item, "update", resource, id_param,
                             summary=f"Update a {noun}"),
        "d": StripeOperation(f"Delete{base}{id_suffix}", "DELETE", item, "delete", resource,
                             id_param, summary=f"Delete a {noun}"),
    }
    return [table[k] for k in kinds]


def _action(op_id: str, resource: str, path: str, id_param: str, action: str,
            summary: str) -> StripeOperation:
    return StripeOperation(op_id, "POST", path, "action", resource, id_param, action, summary)


_ALL: list[StripeOperation] = [
    *_crud("Customers", "customers", "/v1/customers", "customer", "customer", kinds="lsrcud"),
    StripeOperation("GetCustomersCustomerPaymentMethods", "GET",
                    "/v1/customers/{customer}/payment_methods", "list", "payment_methods",
                    "customer", summary="List a customer's payment methods"),
    *_crud("PaymentIntents", "payment_intents", "/v1/payment_intents", "intent", "payment intent",
           kinds="lsrcu"),
    _action("PostPaymentIntentsIntentCancel", "payment_intents",
            "/v1/payment_intents/{intent}/cancel", "intent", "cancel", "Cancel a PaymentIntent"),
    *_crud("Charges", "charges", "/v1/charges", "charge", "charge", kinds="lsru"),
    *_crud("Refunds", "refunds", "/v1/refunds", "refund", "refund", kinds="lrcu"),
    *_crud("Disputes", "disputes", "/v1/disputes", "dispute", "dispute", kinds="lru"),
    _action("PostDisputesDisputeClose", "disputes", "/v1/disputes/{dispute}/close", "dispute",
            "close", "Close a dispute"),
    *_crud("Payouts", "payouts", "/v1/payouts", "payout", "payout", kinds="lrcu"),
    _action("PostPayoutsPayoutCancel", "payouts", "/v1/payouts/{payout}/cancel", "payout",
            "cancel", "Cancel a payout"),
    *_crud("Invoices", "invoices", "/v1/invoices", "invoice", "invoice", kinds="lsrcud"),
    _action("PostInvoicesInvoiceFinalize", "invoices", "/v1/invoices/{invoice}/finalize",
            "invoice", "finalize", "Finalize an invoice"),
    _action("PostInvoicesInvoicePay", "invoices", "/v1/invoices/{invoice}/pay", "invoice", "pay",
            "Pay an invoice"),
    *_crud("Invoiceitems", "invoiceitems", "/v1/invoiceitems", "invoiceitem", "invoice item",
           kinds="lc"),
    # Stripe's real ids say SubscriptionExposedId; the short forms are accepted as aliases.
    *_crud("Subscriptions", "subscriptions", "/v1/subscriptions", "subscription_exposed_id",
           "subscription", kinds="lsrud"),
    *_crud("Subscriptions", "subscriptions", "/v1/subscriptions", "subscription", "subscription",
           kinds="rud"),
    *_crud("PaymentMethods", "payment_methods", "/v1/payment_methods", "payment_method",
           "payment method", kinds="lru"),
    _action("PostPaymentMethodsPaymentMethodDetach", "payment_methods",
            "/v1/payment_methods/{payment_method}/detach", "payment_method", "detach",
            "Detach a PaymentMethod from a customer"),
    *_crud("Products", "products", "/v1/products", "id", "product", kinds="lsrcud"),
    *_crud("Prices", "prices", "/v1/prices", "price", "price", kinds="lsrcu"),
    *_crud("Coupons", "coupons", "/v1/coupons", "coupon", "coupon", kinds="lrcud"),
    *_crud("PaymentLinks", "payment_links", "/v1/payment_links", "payment_link", "payment link",
           kinds="lrc"),
    *_crud("WebhookEndpoints", "webhook_endpoints", "/v1/webhook_endpoints", "webhook_endpoint",
           "webhook endpoint", kinds="lrcd"),
    StripeOperation("GetBalance", "GET", "/v1/balance", "singleton", "balance",
                    summary="Retrieve balance"),
    StripeOperation("GetAccount", "GET", "/v1/account", "singleton", "account",
                    summary="Retrieve account"),
    StripeOperation("GetAccountsAccountExternalAccounts", "GET",
                    "/v1/accounts/{account}/external_accounts", "list", "bank_accounts",
                    summary="List all external accounts"),
]

OPERATIONS: dict[str, StripeOperation] = {op.operation_id: op for op in _ALL}


def get_operation(operation_id: str) -> StripeOperation:
    try:
        return OPERATIONS[operation_id]
    except KeyError:
        raise StripeError(f"Unknown Stripe API operation: {operation_id!r}. Use stripe_api_search "
                          "to find operation ids.", code="unknown_operation",
                          param="stripe_api_operation_id", status=404) from None


def execute(store: SandboxStore, op: StripeOperation, parameters: dict[str, Any]) -> dict[str, Any]:
    """Run ``op`` against ``store``; the result is the Stripe response body."""
    params = dict(parameters)
    obj_id: str | None = None
    if op.id_param is not None:
        obj_id = params.pop(op.id_param, None)
        if obj_id is None and op.id_param == "subscription_exposed_id":
            obj_id = params.pop("subscription", None)
        if not isinstance(obj_id, str) or not obj_id:
            raise StripeError(f"Missing required param: {op.id_param}.", code="parameter_missing",
                              param=op.id_param)
    if op.kind == "singleton":
        return dict(store.balance if op.resource == "balance" else store.account)
    if op.kind == "list":
        if op.id_param == "customer":  # /v1/customers/{customer}/payment_methods
            store.find("customers", str(obj_id))
            params["customer"] = obj_id
        return store.list(op.resource, params)
    if op.kind == "search":
        return store.search(op.resource, params)
    if op.kind == "create":
        return store.create(op.resource, params)
    assert obj_id is not None
    if op.kind == "retrieve":
        return store.retrieve(op.resource, obj_id, params)
    if op.kind == "update":
        if op.resource == "disputes" and params.pop("submit", None) in (True, "true"):
            params["status"] = "under_review"
        return store.update(op.resource, obj_id, params)
    if op.kind == "delete":
        if op.resource == "subscriptions":  # Stripe "deletes" a subscription by canceling it
            return store.act(op.resource, obj_id, "cancel", params)
        return store.delete(op.resource, obj_id)
    assert op.action is not None
    return store.act(op.resource, obj_id, op.action, params)
