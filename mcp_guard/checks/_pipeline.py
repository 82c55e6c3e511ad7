"""The guard's pipeline: request checks and response filters, and the call they share.

A request check looks at one client request before it is forwarded and either lets it pass
(returning None, possibly recording the decision that allowed it on the call) or refuses it with
a `Refusal`. A response filter sees what comes back: each result, each error, and each message
the upstream starts on its own (requests and notifications). It returns what may pass on, or
raises `Withheld` when nothing of it may. Checks and filters are built once per session from the
profile (`mcp_guard.checks.build_pipeline`) and run in the order they are listed there; the
first refusal wins. None of them does I/O except through the services it was built with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mcp_guard.jsonrpc import Message, RequestId
from mcp_guard.policy import Decision

if TYPE_CHECKING:
    from mcp_guard.redaction import Redacted
    from mcp_guard.telemetry import RequestSpan


@dataclass(kw_only=True, eq=False)
class Call:
    """One client request on its way through the guard."""

    client_id: RequestId | None
    method: str
    params: dict[str, Any]
    span: RequestSpan
    tool: str | None = None  # the tool name of a tools/call
    arguments: dict[str, Any] | None = None  # as the client sent them: for checks only, never recorded
    audit_arguments: Any = None  # redacted: what the audit trail keeps
    decision: Decision | None = None  # set by the check that allowed or refused the call
    redaction: Redacted | None = None  # the redaction of the result, for the filters after it
    redactions: dict[str, int] = field(default_factory=dict)  # redaction counts by class
    started: float = field(default_factory=time.perf_counter)

    @property
    def operation_id(self) -> str | None:
        return self.decision.operation_id if self.decision is not None else None


@dataclass(frozen=True)
class Refusal:
    """Why a request check refused a call, and how the client is answered.

    `code` None answers a tools/call with an `isError` result the model can read and act on;
    a JSON-RPC error code answers with that error (an unknown method, malformed params).
    """

    decision: Decision
    code: int | None = None


class Withheld(Exception):
    """A response filter found something that must not reach the client; `reason` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestCheck(Protocol):
    def check(self, call: Call) -> Refusal | None:
        """None lets the call pass; a Refusal answers it without forwarding."""
        ...


class ResponseFilter:
    """Base of every response filter: each hook passes its input on unchanged unless overridden."""

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        """The result the client may see for `call`; raise Withheld to answer with an error instead."""
        return result

    def on_error(self, call: Call, error: dict[str, Any]) -> dict[str, Any]:
        """The JSON-RPC error object the client may see; raise Withheld to replace it."""
        return error

    def on_upstream_message(self, message: Message) -> Message | None:
        """An upstream request or notification as the client may see it; None drops it."""
        return message


@dataclass(frozen=True)
class Pipeline:
    request_checks: tuple[RequestCheck, ...]
    response_filters: tuple[ResponseFilter, ...]
