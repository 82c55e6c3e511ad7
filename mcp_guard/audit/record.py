"""One audit record: what happened to one client request (pure data, no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum, StrEnum
from typing import Any, Literal

DecisionValue = Literal["allow", "deny"]


class Outcome(StrEnum):
    """How a request ended, as seen by the client (the guard's one outcome vocabulary)."""

    OK = "ok"
    IS_ERROR = "is_error"  # a tool result with isError: true
    JSONRPC_ERROR = "jsonrpc_error"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    UPSTREAM_DIED = "upstream_died"
    DENIED = "denied"  # refused by mcp-guard; never reached the upstream


def new_decision_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    """The fields of one audit line. The log adds `seq`, `prev` and `hash` for the chain.

    `arguments` must already have been through the redactor: the log stores what it is given.
    """

    profile: str
    mode: str
    method: str
    decision: DecisionValue
    outcome: Outcome | str
    ts: datetime | None = None  # set by the log from its clock when None
    client: Mapping[str, Any] | None = None  # {"name", "version"} from initialize's clientInfo
    request_id: str | int | None = None
    tool: str | None = None  # None for methods other than tools/call
    operation: str | None = None
    operation_id: str | None = None  # Stripe's stripe_api_operation_id of a dispatcher call, e.g. GetCustomers
    rule: str | None = None
    reason: str | None = None
    arguments: Any = None
    error: str | None = None
    duration_ms: float | None = None
    result_bytes: int | None = None
    redactions: Mapping[str, int] = field(default_factory=dict)  # redaction class -> count
    upstream: str | None = None  # command name or URL host, never a URL with credentials
    key_fingerprint: str | None = None  # never the key itself
    decision_id: str = field(default_factory=new_decision_id)
    pid: int | None = None  # set by the log when None
    policy_sha256: str | None = None  # sha256 of the config file in force: the policy version


@dataclass(frozen=True, slots=True)
class Fields:
    """A record already in its written form, for the guard's hot path: what `record_fields`
    returns, without `ts` and `pid` (the log adds them, and `seq`, `prev` and `hash`).

    Building this dict directly (session-constant values prepared once, enums already text,
    `decision_id` given) costs a fraction of an `AuditRecord` and its conversion. The log writes
    a copy with its own fields added; `values` must not change once submitted.
    """

    values: dict[str, Any]


def format_ts(ts: datetime) -> str:
    """UTC, microseconds, `Z`: fixed width, so the text sorts like the time."""
    if ts.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    # isoformat is twice as fast as strftime and, for UTC with microseconds, the same text.
    return ts.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _text(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def record_fields(record: AuditRecord, *, ts: datetime, pid: int) -> dict[str, Any]:
    """The record as an ordered, JSON-ready dict (without the chain fields)."""
    client = None
    if record.client is not None:
        client = {"name": record.client.get("name"), "version": record.client.get("version")}
    return {
        "ts": format_ts(record.ts or ts),
        "profile": record.profile,
        "mode": _text(record.mode),
        "client": client,
        "request_id": record.request_id,
        "method": record.method,
        "tool": record.tool,
        "operation": _text(record.operation),
        "operation_id": record.operation_id,
        "decision": _text(record.decision),
        "rule": record.rule,
        "reason": record.reason,
        "arguments": record.arguments,
        "outcome": _text(record.outcome),
        "error": record.error,
        "duration_ms": record.duration_ms,
        "result_bytes": record.result_bytes,
        "redactions": dict(record.redactions),
        "upstream": record.upstream,
        "key_fingerprint": record.key_fingerprint,
        "decision_id": record.decision_id,
        "pid": record.pid if record.pid is not None else pid,
        "policy_sha256": record.policy_sha256,
    }
