"""Redaction of everything the upstream sends: results, errors, its own requests and notifications."""

from __future__ import annotations

import logging
from typing import Any

from mcp_guard.checks._pipeline import Call, ResponseFilter, Withheld
from mcp_guard.errors import RedactionError
from mcp_guard.jsonrpc import Message
from mcp_guard.redaction import Redacted, Redactor

logger = logging.getLogger("mcp_guard")

# Upstream messages whose member carries JSON that no schema describes (MCP leaves its shape to the
# server): it gets the unknown-field rule, so a customer logged as `data` is masked like a new field.
FREE_FORM = {"notifications/message": "data", "sampling/createMessage": "metadata"}


class RedactionFilter(ResponseFilter):
    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        redaction = self._redact(call, result, "result")
        call.redaction = redaction
        value: dict[str, Any] = redaction.value
        return value

    def on_error(self, call: Call, error: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = self._redact(call, error, "error").value
        return value

    def on_upstream_message(self, message: Message) -> Message | None:
        params = message.get("params")
        if params is None:
            return message
        free = FREE_FORM.get(str(message.get("method")))
        try:
            if free is not None and isinstance(params, dict) and params.get(free) is not None:
                # The free-form member gets the unknown-field rule, the rest the usual walk: each once.
                envelope = self._redactor.redact({k: v for k, v in params.items() if k != free})
                inner = self._redactor.redact_free_form(params[free])
                return {**message, "params": {**envelope.value, free: inner.value}}
            redaction = self._redactor.redact(params)
        except RedactionError as exc:
            logger.warning("dropped upstream %s: it could not be redacted (%s)", message.get("method"), exc)
            return None
        return {**message, "params": redaction.value} if redaction.changed else message

    def _redact(self, call: Call, value: dict[str, Any], what: str) -> Redacted:
        try:
            # The operation id (GetCharges) or tool name types a result whose objects omit `object`.
            redaction = self._redactor.redact(value, operation_id=call.operation_id, tool=call.tool)
        except RedactionError as exc:
            raise Withheld(f"mcp-guard withheld the upstream's {what} because it could not be redacted: {exc}") from exc
        for name, count in redaction.counts.items():
            call.redactions[name] = call.redactions.get(name, 0) + count
        return redaction
