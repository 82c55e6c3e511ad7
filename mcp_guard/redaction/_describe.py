"""Read-only views of a profile's redaction for `check` and `explain`: warnings and the rule list."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_guard.redaction._rules import TEST_RULES, compile_rules
from mcp_guard.redaction.settings import Action, RedactionSettings

_SECRET_RULES = {rule.rule_name for rule in TEST_RULES if rule.category in ("secret", "card_number", "url")}


@dataclass(frozen=True, slots=True)
class RuleView:
    name: str
    field: str  # the key, with its required ancestors: `tos_acceptance.ip`, `tax_ids[].value`
    objects: tuple[str, ...] | None  # None: any Stripe object
    category: str
    action: Action
    anywhere: bool


def describe_rules(settings: RedactionSettings, mode: str) -> list[RuleView]:
    """The effective field rules of a profile, in the order they are tried per key."""
    views = []
    for rules in compile_rules(settings, str(getattr(mode, "value", mode))).values():
        for rule in rules:
            ancestors = ".".join(reversed(rule.ancestors)).replace(".[]", "[]")
            field = f"{ancestors}.{rule.key}" if ancestors else rule.key
            objects = tuple(sorted(rule.objects)) if rule.objects is not None else None
            views.append(RuleView(rule.name, field, objects, rule.category, rule.action, rule.anywhere))
    return views


def redaction_warnings(redaction: RedactionSettings | str, mode: str) -> list[str]:
    """Human-readable warnings about a profile's `redaction:` section (empty: nothing to say)."""
    mode = str(getattr(mode, "value", mode))
    if isinstance(redaction, str):
        return [f"redaction is off in this {mode} profile: PII, card data and secrets reach the client (diagnostics only)"]
    warnings = []
    for name in ("secret", "card_number"):
        if not getattr(redaction.detectors, name):
            warnings.append(f"the {name} detector is off: such values in free text reach the client")
    for name in sorted(set(redaction.disable) & _SECRET_RULES):
        warnings.append(f"built-in rule {name!r} (secrets or access links) is disabled")
    for category in ("secret", "card_number"):
        if redaction.actions.get(category) in (Action.LAST4, Action.PSEUDONYMIZE):
            warnings.append(f"class {category!r} uses {redaction.actions[category].value}: part or a hash of it reaches the client")
    if mode == "live" and redaction.base == "test":
        warnings.append("a live profile uses the test base rules: metadata, descriptions and receipt/invoice links are kept")
    return warnings
