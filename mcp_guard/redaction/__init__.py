"""Redaction of everything flowing from Stripe's MCP server to the client.

    redactor = build_redactor(settings, mode, load_pseudonym_key())
    result = redactor.redact(jsonrpc_result)   # -> Redacted(value, counts, pointers)

Field rules (by key, Stripe object type and path) run first; value detectors (secrets, card
numbers, emails, phone numbers, IBANs) then scan every other string. Strings holding JSON are
redacted as JSON. Anything the redactor cannot process raises RedactionError.
"""

from mcp_guard.redaction._describe import RuleView, describe_rules, redaction_warnings
from mcp_guard.redaction._engine import MAX_DEPTH, Redacted, Redactor, build_redactor
from mcp_guard.redaction._key import KEY_FILE_ENV, load_pseudonym_key
from mcp_guard.redaction._rules import LIVE_EXTRA_RULES, TEST_RULES
from mcp_guard.redaction.settings import Action, DetectorSettings, FieldRule, RedactionSettings

__all__ = [
    "KEY_FILE_ENV",
    "LIVE_EXTRA_RULES",
    "MAX_DEPTH",
    "TEST_RULES",
    "Action",
    "DetectorSettings",
    "FieldRule",
    "Redacted",
    "Redactor",
    "RedactionSettings",
    "RuleView",
    "describe_rules",
    "redaction_warnings",
    "build_redactor",
    "load_pseudonym_key",
]
