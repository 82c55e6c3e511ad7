"""Refuse before forwarding while the audit log is known to be failing.

Records are written when the answer is ready, so without this check a request whose record then
cannot be written (a full disk, a removed directory) would already have run upstream. The audit
log's `health()` is cheap (a clock read between probes); while it names a problem, calls that
would be forwarded are refused with that reason. With `audit.on_failure: allow` nothing is
refused here: that profile serves requests whose records are lost, and says so on stderr.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision

RULE = "audit.health"


class AuditHealth:
    def __init__(self, health: Callable[[], str | None], *, fails_open: bool) -> None:
        self._health = health
        self._fails_open = fails_open

    def check(self, call: Call) -> Refusal | None:
        if self._fails_open:
            return None
        problem = self._health()
        if problem is None:
            return None
        operation = call.decision.operation if call.decision is not None else Operation.OTHER
        reason = f"mcp-guard refused the request before forwarding it: the audit log is failing ({problem})"
        return Refusal(Decision(False, operation, RULE, reason), jsonrpc.REFUSED)
