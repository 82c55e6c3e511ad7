"""Redaction of everything flowing from Stripe's MCP server to the client.

    redactor = build_redactor(settings, mode, load_pseudonym_key())   # once per process (session)
    result = redactor.redact(jsonrpc_result, operation_id="GetCharges")  # -> Redacted(value, counts, pointers)
    redactor.redact_text(stderr_line); redactor.redact_arguments(tool_arguments)

Every field of every Stripe object type has a class in a table generated from Stripe's own type
definitions (mcp_guard/data/stripe_fields.json, `make stripe-fields`); each class gets the
profile's action. Fields the table does not know fail closed. Values found by field rules are
learned for the session and masked wherever they reappear; value detectors (secrets, card numbers,
emails, phones, IBANs, IP addresses) scan free text. Anything that cannot be processed raises
RedactionError.
"""

from mcp_guard.redaction._classes import CLASSES, DETECTOR_ONLY
from mcp_guard.redaction._describe import ClassView, describe_redaction, redaction_warnings
from mcp_guard.redaction._engine import Redacted, Redactor, build_redactor
from mcp_guard.redaction._key import KEY_FILE_ENV, load_pseudonym_key
from mcp_guard.redaction._walk import MAX_DEPTH
from mcp_guard.redaction.settings import Action, DetectorSettings, RedactionSettings, UnknownFields

__all__ = [
    "CLASSES",
    "DETECTOR_ONLY",
    "KEY_FILE_ENV",
    "MAX_DEPTH",
    "Action",
    "ClassView",
    "DetectorSettings",
    "Redacted",
    "RedactionSettings",
    "Redactor",
    "UnknownFields",
    "build_redactor",
    "describe_redaction",
    "load_pseudonym_key",
    "redaction_warnings",
]
