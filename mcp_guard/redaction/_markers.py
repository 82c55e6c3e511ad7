"""The replacement text of each action: `[redacted:email]`, `[redacted:card:...4242]`, `[pseudonym:email:...]`."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from mcp_guard.redaction.settings import Action

PSEUDONYM_HEX = 12  # 48 bits: collisions stay unlikely across a large account's customers


class Markers:
    """Turns a scalar into its marker; holds the pseudonym key (never shown in repr)."""

    __slots__ = ("_key",)

    def __init__(self, pseudonym_key: bytes) -> None:
        if not isinstance(pseudonym_key, bytes) or len(pseudonym_key) < 16:
            raise ValueError("the pseudonym key must be at least 16 random bytes")
        self._key = pseudonym_key

    def __repr__(self) -> str:
        return "Markers(pseudonym_key=<hidden>)"

    def replace(self, action: Action, category: str, value: Any) -> str:
        """Marker for one scalar (a REMOVE that cannot drop a key, e.g. inside text, masks)."""
        if action is Action.PSEUDONYMIZE:
            return f"[pseudonym:{category}:{self.pseudonym(category, value)}]"
        if action is Action.LAST4:
            tail = _last4(value)
            if tail is not None:
                return f"[redacted:{category}:...{tail}]"
        return f"[redacted:{category}]"

    def pseudonym(self, category: str, value: Any) -> str:
        text = value.strip() if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if category == "email":
            text = text.lower()  # Jenny@Example.com and jenny@example.com are one person
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _last4(value: Any) -> str | None:
    """The last four letters or digits, or None when that would reveal most of the value."""
    chars = [ch for ch in str(value) if ch.isalnum()]
    return "".join(chars[-4:]) if len(chars) >= 8 else None


def keeps_value(action: Action, value: Any) -> bool:
    """`last4` leaves values that are already no longer than their last four (e.g. a `last4` field)."""
    return action is Action.LAST4 and isinstance(value, str | int) and len(str(value)) <= 4
