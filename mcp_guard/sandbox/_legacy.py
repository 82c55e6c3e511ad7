"""The legacy catalog: the 22 named tools of ``@stripe/mcp`` 0.2.5 (``--tools=all``).

Like the real package, a failure comes back as plain text ("Failed to list payment intents")
WITHOUT ``isError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp_guard.sandbox._docs import search_docs
from mcp_guard.sandbox._store import StripeError
from mcp_guard.sandbox._tools import DESTRUCTIVE, LIMIT, READ_ONLY, WRITE, SandboxTool, integer, json_result, string, text_result

if TYPE_CHECKING:
    from mcp_guard.sandbox._sandbox import ToolCall

# (tool arguments) -> (operation id, Stripe parameters)
Mapper = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def _pick(args: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: args[n] for n in names if args.get(n) is not None}


def _tool(name: str, description: str, properties: dict[str, Any], mapper: Mapper,
          required: tuple[str, ...], annotations: dict[str, Any]) -> SandboxTool:
    failure = "Failed to " + name.replace("_", " ") + ("s" if name.startswith("list_") and
                                                        not name.endswith("s") else "")

    def run(call: ToolCall) -> dict[str, Any]:
        try:
            missing = [r for r in required if call.arguments.get(r) in (None, "")]
            if missing:
                raise StripeError(f"Missing required param: {missing[0]}.", param=missing[0])
            operation, params = mapper(call.arguments)
            return json_result(call.execute(operation, params))
        except StripeError:
            return text_result(failure)

    return SandboxTool(name, description, properties, run, required, annotations)


def _docs_tool() -> SandboxTool:
    def run(call: ToolCall) -> dict[str, Any]:
        question = call.arguments.get("question")
        if not isinstance(question, str) or not question.strip():
            return text_result("Failed to search documentation")
        return json_result(search_docs(question, call.arguments.get("language")))

    return SandboxTool("search_stripe_documentation",
                       "This tool will search the Stripe documentation and return relevant "
                       "results.", {"question": string("The user question about Stripe."),
                                    "language": string("The programming language to answer in.",
                                                       enum=["dotnet", "go", "java", "node",
                                                             "php", "ruby", "python", "curl"])},
                       run, ("question",), READ_ONLY)


def _payment_link(a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"line_items": [{"price": a.get("price"),
                                              "quantity": a.get("quantity")}]}
    if a.get("redirect_url"):
        params["after_completion"] = {"type": "redirect",
                                      "redirect": {"url": a["redirect_url"]}}
    return "PostPaymentLinks", params


def _invoice(a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "PostInvoices", {"customer": a.get("customer"), "collection_method": "send_invoice",
                            "days_until_due": a.get("days_until_due", 30)}


TOOLS: tuple[SandboxTool, ...] = (
    _tool("create_customer", "This tool will create a customer in Stripe.",
          {"name": string("The name of the customer"),
           "email": string("The email of the customer")},
          lambda a: ("PostCustomers", _pick(a, "name", "email")), ("name",), WRITE),
    _tool("list_customers", "This tool will fetch a list of Customers from Stripe.",
          {"limit": LIMIT, "email": string("A case-sensitive filter on the customer's email.")},
          lambda a: ("GetCustomers", _pick(a, "limit", "email")), (), READ_ONLY),
    _tool("create_product", "This tool will create a product in Stripe.",
          {"name": string("The name of the product."),
           "description": string("The description of the product.")},
          lambda a: ("PostProducts", _pick(a, "name", "description")), ("name",), WRITE),
    _tool("list_products", "This tool will fetch a list of Products from Stripe.",
          {"limit": LIMIT}, lambda a: ("GetProducts", _pick(a, "limit")), (), READ_ONLY),
    _tool("create_price", "This tool will create a price in Stripe.",
          {"product": string("The ID of the product to create the price for."),
           "unit_amount": integer("The unit amount of the price in cents."),
           "currency": string("The currency of the price.")},
          lambda a: ("PostPrices", _pick(a, "product", "unit_amount", "currency")),
          ("product", "unit_amount", "currency"), WRITE),
    _tool("list_prices", "This tool will fetch a list of Prices from Stripe.",
          {"product": string("The ID of the product to list prices for."), "limit": LIMIT},
          lambda a: ("GetPrices", _pick(a, "product", "limit")), (), READ_ONLY),
    _tool("create_payment_link", "This tool will create a payment link in Stripe.",
          {"price": string("The ID of the price to create the payment link for."),
           "quantity": integer("The quantity of the product to include."),
           "redirect_url": string("The URL to redirect to after the payment is completed.")},
          _payment_link, ("price", "quantity"), WRITE),
    _tool("create_invoice", "This tool will create an invoice in Stripe.",
          {"customer": string("The ID of the customer to create the invoice for."),
           "days_until_due": integer("The number of days until the invoice is due.")},
          _invoice, ("customer",), WRITE),
    _tool("list_invoices", "This tool will fetch a list of Invoices from Stripe.",
          {"customer": string("The ID of the customer to list invoices for."), "limit": LIMIT},
          lambda a: ("GetInvoices", _pick(a, "customer", "limit")), (), READ_ONLY),
    _tool("create_invoice_item", "This tool will create an invoice item in Stripe.",
          {"customer": string("The ID of the customer to create the invoice item for."),
           "price": string("The ID of the price for the item."),
           "invoice": string("The ID of the invoice to create the item for.")},
          lambda a: ("PostInvoiceitems", _pick(a, "customer", "price", "invoice")),
          ("customer", "price", "invoice"), WRITE),
    _tool("finalize_invoice", "This tool will finalize an invoice in Stripe.",
          {"invoice": string("The ID of the invoice to finalize.")},
          lambda a: ("PostInvoicesInvoiceFinalize", _pick(a, "invoice")), ("invoice",), WRITE),
    _tool("retrieve_balance", "This tool will retrieve the balance from Stripe. It takes no "
          "input.", {}, lambda a: ("GetBalance", {}), (), READ_ONLY),
    _tool("create_refund", "This tool will refund a payment intent in Stripe.",
          {"payment_intent": string("The ID of the PaymentIntent to refund."),
           "amount": integer("The amount to refund in cents.")},
          lambda a: ("PostRefunds", _pick(a, "payment_intent", "amount")), ("payment_intent",),
          WRITE),
    _tool("list_payment_intents", "This tool will list payment intents in Stripe.",
          {"customer": string("The ID of the customer to list payment intents for."),
           "limit": LIMIT},
          lambda a: ("GetPaymentIntents", _pick(a, "customer", "limit")), (), READ_ONLY),
    _tool("list_subscriptions", "This tool will list all subscriptions in Stripe.",
          {"customer": string("The ID of the customer to list subscriptions for."),
           "price": string("The ID of the price to list subscriptions for."),
           "status": string("The status of the subscriptions to retrieve.",
                            enum=["active", "past_due", "unpaid", "canceled", "incomplete",
                                  "incomplete_expired", "trialing", "all"]),
           "limit": LIMIT},
          lambda a: ("GetSubscriptions", _pick(a, "customer", "price", "status", "limit")), (),
          READ_ONLY),
    _tool("cancel_subscription", "This tool will cancel a subscription in Stripe.",
          {"subscription": string("The ID of the subscription to cancel.")},
          lambda a: ("DeleteSubscriptionsSubscriptionExposedId",
                     {"subscription_exposed_id": a.get("subscription")}),
          ("subscription",), DESTRUCTIVE),
    _tool("update_subscription", "This tool will update an existing subscription in Stripe.",
          {"subscription": string("The ID of the subscription to update."),
           "proration_behavior": string("Determines how to handle prorations.",
                                        enum=["create_prorations", "none", "always_invoice"]),
           "items": {"type": "array", "description": "The subscription items to update.",
                     "items": {"type": "object", "properties": {
                         "id": string("The ID of the subscription item to modify."),
                         "price": string("The ID of the price to switch to."),
                         "quantity": integer("The quantity of the subscription item."),
                         "deleted": {"type": "boolean"}}}}},
          lambda a: ("PostSubscriptionsSubscriptionExposedId",
                     {"subscription_exposed_id": a.get("subscription"),
                      **_pick(a, "proration_behavior", "items")}),
          ("subscription",), WRITE),
    _docs_tool(),
    _tool("list_coupons", "This tool will fetch a list of Coupons from Stripe.",
          {"limit": LIMIT}, lambda a: ("GetCoupons", _pick(a, "limit")), (), READ_ONLY),
    _tool("create_coupon", "This tool will create a coupon in Stripe.",
          {"name": string("Name of the coupon displayed to customers."),
           "percent_off": {"type": "number", "description": "A positive float up to 100."},
           "amount_off": integer("A positive integer representing the amount to subtract."),
           "currency": string("Three-letter ISO code for the currency of amount_off."),
           "duration": string("How long the discount applies.",
                              enum=["forever", "once", "repeating"]),
           "duration_in_months": integer("Required only if duration is repeating.")},
          lambda a: ("PostCoupons", _pick(a, "name", "percent_off", "amount_off", "currency",
                                          "duration", "duration_in_months")),
          ("name", "amount_off"), WRITE),
    _tool("update_dispute", "When you receive a dispute, this tool updates it with evidence "
          "and can submit it.",
          {"dispute": string("The ID of the dispute to update."),
           "evidence": {"type": "object", "description": "Evidence to upload.",
                        "additionalProperties": True},
           "submit": {"type": "boolean", "description": "Whether to submit the evidence now."}},
          lambda a: ("PostDisputesDispute", _pick(a, "dispute", "evidence", "submit")),
          ("dispute",), WRITE),
    _tool("list_disputes", "This tool will fetch a list of disputes in Stripe.",
          {"charge": string("Only return disputes for this charge."),
           "payment_intent": string("Only return disputes for this PaymentIntent."),
           "limit": LIMIT},
          lambda a: ("GetDisputes", _pick(a, "charge", "payment_intent", "limit")), (),
          READ_ONLY),
)
