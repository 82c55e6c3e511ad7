"""Value detectors: find secrets, card numbers, emails, phone numbers, IBANs and IP addresses in text.

One combined regex per redactor (only the enabled detectors), so a string is scanned once; hits
that need arithmetic (Luhn for cards, mod-97 for IBANs) are checked in the replacement callback.
Patterns are anchored on non-word boundaries so that Stripe ids (`cus_NffrFeUfNV2Hib`), ISO
dates, currency codes and 13-digit millisecond timestamps do not match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from mcp_guard.redaction.settings import DetectorSettings

# Stripe secrets: API keys (secret, restricted, ephemeral), webhook secrets, `<id>_secret_<x>`.
_SECRET = (
    r"(?<![A-Za-z0-9])(?:(?:sk|rk|ek)_(?:test|live)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,})"
    r"|(?<![A-Za-z0-9_])[A-Za-z0-9_]*[A-Za-z0-9]_secret_[A-Za-z0-9_]*[A-Za-z0-9]"
)
_EMAIL = r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
# Country code, check digits, then the BBAN compact or in groups of four.
_IBAN = (
    r"(?<![A-Za-z0-9_])[A-Z]{2}[0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?:\ [A-Z0-9]{4}){2,7}(?:\ [A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
)
# Issuer digits 2-6 (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Maestro...): a leading 1
# would be a millisecond timestamp far more often than a UATP card. Contiguous, or grouped
# 4-4-4-4(-3) / 4-6-5 / 4-6-4 with one consistent separator. Not glued to a letter or `_`, so
# that no digit run inside an id (`pi_3Mt...`) can ever match: every detector starts at a
# non-word boundary, and ids start with a lower-case letter none of them can start with.
_CARD = (
    r"(?<![0-9A-Za-z_])[2-6](?:[0-9]{12,18}"
    r"|[0-9]{3}(?P<csep>[\ \-])[0-9]{4}(?P=csep)[0-9]{4}(?P=csep)[0-9]{1,4}(?:(?P=csep)[0-9]{1,3})?"
    r"|[0-9]{3}[\ \-][0-9]{6}[\ \-][0-9]{4,5})(?![0-9])"
)
# `+` international numbers, and US-style (415) 555-2671 / 415-555-2671 / 415.555.2671.
_PHONE = (
    r"(?<![A-Za-z0-9+])\+[1-9](?:[\ .\-()]{0,2}[0-9]){6,14}(?![0-9])"
    r"|(?<![A-Za-z0-9.+\-])(?:\([0-9]{3}\)\ ?|[0-9]{3}[\-.])[0-9]{3}[\-.\ ][0-9]{4}(?![A-Za-z0-9\-])"
)

# Dotted quads, and IPv6 in full or `::`-compressed form (at least two groups, so that `12:30` and
# `a::b` in prose stay); both are checked with `ipaddress` before they count.
_IPV4 = r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])"
_IPV6 = (
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])"  # ::ffff:192.0.2.1
    r"|(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
    r"|(?<![\w:.])(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?(?![\w:])"
)

# Cheap gates decide which detectors can match at all: most strings (ids, enums, URLs) pass none
# and never meet the full patterns, which cost 4-30x more.
_DIGIT_RUN = re.compile(r"[0-9][0-9 \-().]{8,}[0-9]")  # cards, US phones
_IBAN_HEAD = re.compile(r"[A-Z]{2}[0-9]{2}")
_IP_HEAD = re.compile(r"[0-9]\.[0-9]{1,3}\.|[0-9A-Fa-f]:[0-9A-Fa-f:]|::")


# Run in this order, each on the previous one's output: a secret may hold digits or an `@`, and an
# IP address must go before phone numbers read its digits.
_ORDER = ("secret", "email", "iban", "card_number", "ip_address", "phone")
_PATTERNS = {"secret": _SECRET, "email": _EMAIL, "iban": _IBAN, "card_number": _CARD, "ip_address": f"{_IPV4}|{_IPV6}", "phone": _PHONE}


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    iban = text.replace(" ", "")
    if not 15 <= len(iban) <= 34:
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def ip_valid(text: str) -> bool:
    """A real IPv4 or IPv6 address; an IPv6 one needs a digit (`::` and `a::b` in prose are not)."""
    if ":" in text and not any(ch.isdigit() for ch in text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _valid(category: str, found: str) -> bool:
    if category == "card_number":
        return luhn_valid(found.replace(" ", "").replace("-", ""))
    if category == "iban":
        return iban_valid(found)
    if category == "ip_address":
        return ip_valid(found)
    return True


# Called with (category, matched text); returns the replacement.
Replace = Callable[[str, str], str]


class Detector:
    """Scans strings with the enabled detectors and replaces each hit."""

    __slots__ = ("_patterns",)

    def __init__(self, settings: DetectorSettings) -> None:
        self._patterns = {
            category: re.compile(_PATTERNS[category]) for category in _ORDER if getattr(settings, category)
        }

    def scan(self, text: str, replace: Replace, hits: list[str]) -> str:
        """Return `text` itself when nothing is found, else a copy with every hit replaced."""
        # The gates, on the original text: replacements only remove what they test for.
        digits = _DIGIT_RUN.search(text) is not None
        gates = (
            "_secret_" in text or "k_test_" in text or "k_live_" in text or "whsec_" in text,
            "@" in text,
            _IBAN_HEAD.search(text) is not None,
            digits,
            ("." in text or ":" in text) and _IP_HEAD.search(text) is not None,
            digits or "+" in text,
        )
        if True not in gates:
            return text
        before = len(hits)
        current = text
        patterns = self._patterns
        for category, gate in zip(_ORDER, gates, strict=True):
            pattern = patterns.get(category)
            if not gate or pattern is None or pattern.search(current) is None:
                continue

            def substitute(match: re.Match[str], category: str = category) -> str:
                found = match.group(0)
                if not _valid(category, found):
                    return found
                hits.append(category)
                return replace(category, found)

            current = pattern.sub(substitute, current)
        return current if len(hits) > before else text  # only false alarms: keep the original object
