"""A tiny canned documentation index for ``search_stripe_documentation``."""

from __future__ import annotations

from typing import Any

_DOCS = [
    ("Refund and cancel payments", "https://docs.stripe.com/refunds",
     "Create a refund with POST /v1/refunds and a payment_intent or charge. Refunds use the "
     "original payment method and take 5-10 business days to appear."),
    ("Restricted API keys", "https://docs.stripe.com/keys#limit-access",
     "Restricted keys (rk_) limit access per resource to None, Read or Write. Use them for "
     "agents and third-party tools instead of secret keys (sk_)."),
    ("Search API", "https://docs.stripe.com/search",
     "Search customers, charges, invoices and more with queries like email:'jenny@example.com' "
     "or metadata['order_id']:'6735'. Search is not available in India."),
    ("Pagination", "https://docs.stripe.com/api/pagination",
     "List endpoints return has_more; pass the last object's id as starting_after to fetch the "
     "next page. limit ranges from 1 to 100 (default 10)."),
    ("Expanding responses", "https://docs.stripe.com/api/expanding_objects",
     "Use expand[]=latest_charge or expand[]=data.customer to inline related objects."),
    ("Subscriptions", "https://docs.stripe.com/billing/subscriptions/overview",
     "Subscriptions bill customers on a recurring basis; cancel with DELETE "
     "/v1/subscriptions/{id}."),
    ("Disputes", "https://docs.stripe.com/disputes/responding",
     "Submit evidence with POST /v1/disputes/{id} and submit=true before evidence_details.due_by."),
]


def search_docs(question: str, language: str | None = None) -> list[dict[str, Any]]:
    """Documents sharing at least one word with ``question``, best first."""
    words = {w.strip("?.,!").lower() for w in question.split() if len(w) > 2}
    scored = []
    for title, url, content in _DOCS:
        text = f"{title} {content}".lower()
        score = sum(1 for w in words if w in text)
        if score:
            scored.append((score, title, url, content))
    scored.sort(key=lambda s: -s[0])
    return [{"title": t, "url": u, "content": c, "language": language or "curl"}
            for _, t, u, c in scored[:3]]
