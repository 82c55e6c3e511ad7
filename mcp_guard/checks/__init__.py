"""The guard's pipeline of checks, built once per session from the profile.

To add a check: write a module here with one class (a `RequestCheck` with `check(call)`, or a
`ResponseFilter` overriding the hooks it needs) and add one line to `build_pipeline`, at the
place in the order where it belongs. The guard runs request checks in order (the first refusal
answers the call) and response filters in order on everything coming back.
"""

from __future__ import annotations

from mcp_guard.checks._pipeline import Call, Pipeline, Refusal, RequestCheck, ResponseFilter, Withheld
from mcp_guard.checks.arguments import ArgumentRules
from mcp_guard.checks.livemode import LivemodeFilter
from mcp_guard.checks.methods import MethodAllowList
from mcp_guard.checks.output_schema import OutputSchemaFilter
from mcp_guard.checks.redaction import RedactionFilter
from mcp_guard.checks.tool_call import ToolCallShape
from mcp_guard.checks.tool_list import ToolListFilter
from mcp_guard.checks.tool_policy import ToolPolicy
from mcp_guard.config import Profile
from mcp_guard.redaction import Redactor

__all__ = ["Call", "Pipeline", "Refusal", "RequestCheck", "ResponseFilter", "Withheld", "build_pipeline"]


def build_pipeline(profile_name: str, profile: Profile, *, redactor: Redactor | None) -> Pipeline:
    """The checks and filters of one session, in the order they run."""
    request_checks: list[RequestCheck] = [
        MethodAllowList(profile),
        ToolCallShape(),
        ToolPolicy(profile),
        ArgumentRules(profile),
    ]
    response_filters: list[ResponseFilter] = [
        LivemodeFilter(profile_name, profile.mode),
        ToolListFilter(profile),
    ]
    if redactor is not None:  # None only with `redaction: off` (diagnostics)
        response_filters.append(RedactionFilter(redactor))
    response_filters.append(OutputSchemaFilter())
    return Pipeline(tuple(request_checks), tuple(response_filters))
