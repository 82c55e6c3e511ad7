"""Audit records as OpenTelemetry log records, so a team's collector can gather every laptop's trail.

The local hash-chained file stays the source of truth: a record is emitted only after it is
durably written, and an exporter that fails, lags or drops records changes nothing there. The
body is the record exactly as written (redacted arguments, chain fields included), so a collector
can check a record against the file; a few fields are repeated as attributes for filtering.
Imported only when OTEL_LOGS_EXPORTER names an exporter (or a test hands Telemetry a provider).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from time import time_ns
from typing import Any, Final

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider

from mcp_guard.telemetry import _names as n

_log = logging.getLogger(__name__)

EVENT_NAME: Final = "mcp_guard.audit"
_SCOPE: Final = "mcp_guard.audit"
# Older SDKs (the extra allows >= 1.30) have no event_name on LogRecord.
_HAS_EVENT_NAME: Final = "event_name" in inspect.signature(LogRecord.__init__).parameters
# Record fields repeated as attributes: names, ids and verdicts only, never arguments.
_ATTRIBUTES: Final = (
    ("profile", n.GUARD_PROFILE),
    ("decision", n.GUARD_DECISION),
    ("rule", n.GUARD_RULE),
    ("outcome", n.GUARD_OUTCOME),
    ("operation", n.GUARD_OPERATION),
    ("operation_id", n.GUARD_OPERATION_ID),
    ("policy_sha256", n.GUARD_POLICY_SHA256),
    ("decision_id", n.GUARD_DECISION_ID),
    ("seq", n.GUARD_AUDIT_SEQ),
    ("hash", n.GUARD_AUDIT_HASH),
)


class AuditLogEmitter:
    """Emits audit records through one logger of an owned LoggerProvider."""

    def __init__(self, provider: LoggerProvider, version: str | None) -> None:
        self._logger = provider.get_logger(_SCOPE, version)
        self._failed = False

    def emit(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Hand each record to the provider's processors; never raises."""
        try:
            for fields in records:
                self._logger.emit(_log_record(fields))
        except Exception as exc:  # noqa: BLE001 - an exporter must never fail or hold up the request it reports on
            if not self._failed:
                self._failed = True
                _log.warning("audit records could not be handed to OpenTelemetry (reported once): %s", exc)


def _log_record(fields: Mapping[str, Any]) -> LogRecord:
    denied = fields.get("decision") == "deny"
    attributes: dict[str, str | int] = {}
    for field, attribute in _ATTRIBUTES:
        value = fields.get(field)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            attributes[attribute] = value
    for field, attribute in (("method", n.MCP_METHOD_NAME), ("tool", n.GEN_AI_TOOL_NAME)):
        value = fields.get(field)
        if isinstance(value, str):
            attributes[attribute] = n.safe_identifier(value)  # client-chosen text: only identifier-shaped values
    extra: dict[str, Any] = {"event_name": EVENT_NAME} if _HAS_EVENT_NAME else {}
    return LogRecord(
        timestamp=_ns(fields.get("ts")),
        observed_timestamp=time_ns(),
        severity_number=SeverityNumber.WARN if denied else SeverityNumber.INFO,
        severity_text="WARN" if denied else "INFO",
        body=dict(fields),
        attributes=attributes,
        **extra,
    )


def _ns(ts: Any) -> int | None:
    """The record's own time (ISO text, UTC) in nanoseconds since the epoch."""
    if not isinstance(ts, str):
        return None
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
