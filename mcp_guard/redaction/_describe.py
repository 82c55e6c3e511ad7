"""Read-only views of a profile's redaction for `check` and `explain`: warnings and the class actions."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_guard.redaction._classes import CLASSES, DETECTOR_ONLY
from mcp_guard.redaction.settings import Action, RedactionSettings, UnknownFields

# Classes whose values grant access or identify a card: keeping them is always worth a warning.
_CRITICAL = ("secret", "card", "card_number", "url", "bank_account")


@dataclass(frozen=True, slots=True)
class ClassView:
    cls: str
    action: Action
    covers: str


def describe_redaction(settings: RedactionSettings, mode: str) -> list[ClassView]:
    """The action each redaction class gets in a profile, with what the class covers."""
    covers = {**CLASSES, **DETECTOR_ONLY}
    views = [ClassView(cls, settings.action_for(cls), text) for cls, text in covers.items() if cls not in ("safe", "unknown")]
    unknown = settings.unknown_action(str(getattr(mode, "value", mode)))
    views.append(ClassView("unknown", Action.MASK if unknown is UnknownFields.MASK else Action.KEEP, covers["unknown"]))
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
    for cls in _CRITICAL:
        action = redaction.action_for(cls)
        if action in (Action.KEEP, Action.LAST4, Action.PSEUDONYMIZE):
            warnings.append(f"class {cls!r} uses {action.value}: all or part of such values reaches the client")
    kept = sorted(cls for cls, action in redaction.actions.items() if action is Action.KEEP and cls not in _CRITICAL)
    if kept:
        warnings.append(f"class(es) {', '.join(kept)} are kept: such values reach the client")
    if mode == "live" and redaction.unknown_action(mode) is UnknownFields.DETECT:
        warnings.append("a live profile passes unknown fields through the detectors only: a new field holding a name reaches the client")
    for field, action in sorted(redaction.fields.items()):
        if action is Action.KEEP:
            warnings.append(f"field {field} is kept whatever its class")
    return warnings
