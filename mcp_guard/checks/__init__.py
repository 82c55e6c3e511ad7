"""The guard's pipeline of checks, built once per session from the profile.

To add a check: write a module here with one class (a `RequestCheck` with `check(call)`, a
`ResponseFilter` overriding the hooks it needs, or both in one class) and add one line to
`build_pipeline`, at the place in the order where it belongs. The guard runs the request checks
in that order (the first refusal answers the call) and the response filters in that order on
everything coming back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeGuard

from mcp_guard.checks._pipeline import Call, Pipeline, Refusal, RequestCheck, ResponseFilter, Withheld

if TYPE_CHECKING:
    from mcp_guard.checks.budgets.ledger import BudgetLedger
    from mcp_guard.checks.catalog_pin.lock import ProfileLock
    from mcp_guard.config import Profile
    from mcp_guard.redaction import Redactor

__all__ = ["Call", "Pipeline", "Refusal", "RequestCheck", "ResponseFilter", "Withheld", "build_pipeline"]


def build_pipeline(
    profile_name: str,
    profile: Profile,
    *,
    redactor: Redactor | None,
    catalog_lock: ProfileLock | None = None,
    budget_ledger: BudgetLedger | None = None,
    audit_health: Callable[[], str | None] | None = None,
) -> Pipeline:
    """The checks and filters of one session, in the order they run.

    `catalog_lock` is the profile's entry of mcp-guard.lock (with pinning on, None is an empty
    lock: every tool is new); `budget_ledger` defaults to the profile's state file in its audit dir;
    `audit_health` is the audit log's `health` (None: not checked before forwarding).

    The checks are imported here, not with the package, and those of a feature the profile leaves
    off (catalog pinning, budgets) not at all: with it off they would pass everything unchanged.
    `mcp-guard run` starts the upstream first and imports them while it starts.
    """
    from mcp_guard.audit.settings import AuditFailureMode
    from mcp_guard.checks.arguments import ArgumentRules
    from mcp_guard.checks.audit_health import AuditHealth
    from mcp_guard.checks.livemode import LivemodeFilter
    from mcp_guard.checks.methods import MethodAllowList
    from mcp_guard.checks.output_schema import OutputSchemaFilter
    from mcp_guard.checks.search_fields import SearchFields
    from mcp_guard.checks.tasks import TaskAugmentation
    from mcp_guard.checks.tool_call import ToolCallShape
    from mcp_guard.checks.tool_list import ToolListFilter
    from mcp_guard.checks.tool_policy import ToolPolicy
    from mcp_guard.config import PinningMode

    catalog_pin: list[RequestCheck | ResponseFilter] = []
    if profile.pinning is not PinningMode.OFF:
        from mcp_guard.checks.catalog_pin.check import CatalogPin

        catalog_pin.append(CatalogPin(profile_name, profile, catalog_lock))
    data_budget: list[RequestCheck | ResponseFilter] = []
    if profile.budgets.limits():
        from mcp_guard.checks.budgets.check import DataBudget

        data_budget.append(DataBudget(profile_name, profile, budget_ledger))
    redaction: list[RequestCheck | ResponseFilter] = []
    if redactor is not None:  # None only with `redaction: off` (diagnostics)
        from mcp_guard.checks.redaction import RedactionFilter

        redaction.append(RedactionFilter(redactor))

    stages: list[RequestCheck | ResponseFilter] = [
        MethodAllowList(profile),
        TaskAugmentation(),  # MCP tasks refused up front (and hidden from initialize): clients fall back
        ToolCallShape(),
        ToolPolicy(profile),
        *catalog_pin,  # after the tool decision; sees tools/list before the listing filter
        ArgumentRules(profile),
        SearchFields(profile),
        LivemodeFilter(profile_name, profile.mode),
        ToolListFilter(profile),
        *redaction,
        OutputSchemaFilter(),
        *([AuditHealth(audit_health, fails_open=profile.audit.on_failure is AuditFailureMode.ALLOW)] if audit_health is not None else []),
        *data_budget,  # last both ways: counts only calls about to be forwarded, and what the client gets
    ]
    return Pipeline(
        tuple(stage for stage in stages if _is_request_check(stage)),
        tuple(stage for stage in stages if isinstance(stage, ResponseFilter)),
    )


def _is_request_check(stage: object) -> TypeGuard[RequestCheck]:
    return callable(getattr(stage, "check", None))
