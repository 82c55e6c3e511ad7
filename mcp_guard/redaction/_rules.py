"""Built-in field rules (from Stripe's object reference) and their compilation into a lookup table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mcp_guard.redaction.settings import Action, FieldRule, RedactionSettings

_LINK_OBJECTS = ["login_link", "billing_portal.session", "account_link", "file_link", "checkout.session"]
_NAMED_OBJECTS = ["customer", "person", "card", "issuing.cardholder"]


def _r(field: str, category: str, *, objects: list[str] | None = None, action: Action | None = None,
       anywhere: bool = False, name: str | None = None) -> FieldRule:
    return FieldRule(field=field, category=category, objects=objects, action=action, anywhere=anywhere, name=name)


def _many(fields: list[str], category: str, **kwargs: object) -> list[FieldRule]:
    return [_r(field, category, **kwargs) for field in fields]  # type: ignore[arg-type]


# Test-mode defaults: secrets and access links, contact PII, card and bank data.
TEST_RULES: tuple[FieldRule, ...] = (
    # Secrets and access-granting links: removed outright.
    _r("client_secret", "secret", action=Action.REMOVE, anywhere=True),
    _r("secret", "secret", action=Action.REMOVE, anywhere=True),
    _r("number", "card_number", objects=["issuing.card"], action=Action.REMOVE, name="issuing_card.number"),
    _r("cvc", "card_number", objects=["issuing.card"], action=Action.REMOVE, name="issuing_card.cvc"),
    _r("url", "url", objects=_LINK_OBJECTS, action=Action.REMOVE, name="access_link.url"),
    # Contact PII.
    *_many(["email", "receipt_email", "customer_email"], "email", anywhere=True),
    *_many(["phone", "customer_phone"], "phone", anywhere=True),
    *_many(["phone_number", "verified_phone"], "phone"),
    _r("verified_email", "email"),
    _r("name", "name", objects=_NAMED_OBJECTS),
    *_many(["billing_details.name", "shipping.name", "shipping_details.name", "customer_shipping.name",
            "customer_details.name", "owner.name"], "name"),
    *_many(["customer_name", "verified_name", "first_name", "last_name", "maiden_name", "first_name_kana",
            "first_name_kanji", "last_name_kana", "last_name_kanji", "full_name_aliases"], "name"),
    *_many(["address", "customer_address", "registered_address", "address_kana", "address_kanji",
            "billing_address", "shipping_address", "verified_address", "address_line1", "address_line2",
            "address_city", "address_state", "address_zip"], "address"),
    _r("business_profile.support_email", "email"),
    _r("business_profile.support_phone", "phone"),
    _r("business_profile.support_address", "address"),
    _r("business_profile.support_url", "url"),
    _r("value", "tax_id", objects=["tax_id"], name="tax_id.value"),
    *_many(["tax_ids[].value", "customer_tax_ids[].value", "company.tax_id", "company.vat_id",
            "company.registration_number", "billing_details.tax_id"], "tax_id"),
    _r("ip_address", "ip_address"),
    _r("tos_acceptance.ip", "ip_address"),
    _r("user_agent", "user_agent"),
    _r("dob", "dob"),
    _r("individual", "person", objects=["account", "issuing.cardholder"]),
    _r("evidence", "evidence", objects=["dispute"]),
    # Card and bank data.
    *_many(["last4", "dynamic_last4"], "card", anywhere=True),
    *_many(["fingerprint", "exp_month", "exp_year"], "card"),
    *_many(["routing_number", "account_number"], "bank_account", anywhere=True),
    _r("iban", "iban", anywhere=True),
    *_many(["bank_code", "branch_code", "sort_code", "bsb_number", "institution_number", "transit_number",
            "account_holder_name"], "bank_account"),
)

# Live mode adds the "policy choice" fields: free text and links that often identify a customer.
LIVE_EXTRA_RULES: tuple[FieldRule, ...] = (
    _r("metadata", "metadata"),
    _r("description", "description"),
    *_many(["hosted_invoice_url", "invoice_pdf", "receipt_url"], "url"),
)


@cache
def default_rule_names() -> frozenset[str]:
    return frozenset(rule.rule_name for rule in TEST_RULES + LIVE_EXTRA_RULES)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    key: str
    name: str
    category: str
    action: Action
    objects: frozenset[str] | None  # None: any Stripe object
    ancestors: tuple[str, ...]  # nearest first; "[]" is a list element
    anywhere: bool
    marker: str  # the `mask` replacement, built once
    simple: bool  # no object or path condition: matches anywhere inside Stripe objects

    def matches(self, obj: str | None, path: tuple | None, scalar: bool) -> bool:
        """`obj`: nearest Stripe object type (None outside Stripe objects); `path`: cons list of the dict's location."""
        if obj is None:
            if not (self.anywhere and scalar):
                return False
        elif self.objects is not None and obj not in self.objects:
            return False
        for ancestor in self.ancestors:
            if path is None:
                return False
            segment, path = path
            if ancestor == "[]":
                if type(segment) is not int:
                    return False
            elif segment != ancestor:
                return False
        return True


RuleTable = dict[str, tuple[CompiledRule, ...]]


def _segments(field: str) -> list[str]:
    out: list[str] = []
    for part in field.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return out


def compile_rules(settings: RedactionSettings, mode: str) -> RuleTable:
    """Merge the base set, the profile's disables and extra rules into a key -> rules table."""
    base = settings.base if settings.base != "mode" else mode
    defaults = TEST_RULES + (LIVE_EXTRA_RULES if base == "live" else ())
    own = {rule.rule_name for rule in settings.rules}
    disabled = set(settings.disable) | own

    compiled: list[tuple[int, CompiledRule]] = []
    for rule in settings.rules:
        action = rule.action or settings.actions.get(rule.category) or Action.MASK
        compiled.append((0, _compile(rule, action)))
    for rule in defaults:
        if rule.rule_name in disabled:
            continue
        action = settings.actions.get(rule.category) or rule.action or Action.MASK
        compiled.append((1, _compile(rule, action)))

    # The profile's own rules first, then the most specific (longest path, then object-scoped).
    compiled.sort(key=lambda item: (item[0], -len(item[1].ancestors), item[1].objects is None))
    table: dict[str, list[CompiledRule]] = {}
    for _, rule in compiled:
        table.setdefault(rule.key, []).append(rule)
    return {key: tuple(rules) for key, rules in table.items()}


def _compile(rule: FieldRule, action: Action) -> CompiledRule:
    segments = _segments(rule.field)
    return CompiledRule(
        key=segments[-1],
        name=rule.rule_name,
        category=rule.category,
        action=action,
        objects=frozenset(rule.objects) if rule.objects is not None else None,
        ancestors=tuple(reversed(segments[:-1])),
        anywhere=rule.anywhere,
        marker=f"[redacted:{rule.category}]",
        simple=rule.objects is None and len(segments) == 1,
    )

