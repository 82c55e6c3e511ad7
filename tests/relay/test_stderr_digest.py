"""The upstream stderr digest (issue 11, item 2), in process: Node stack traces fold into one line,
fatal causes are named in one line, warnings and ordinary lines are neither."""

from __future__ import annotations

import pytest

from mcp_guard.transports.stderr import StderrBudget, StderrDigest, StderrEvent, fatal_cause
from tests.relay.test_upstream_causes import DNS_FAILURE, UNCAUGHT


def digest(text: str) -> tuple[list[StderrEvent], StderrDigest]:
    folder = StderrDigest()
    events = [event for line in text.splitlines() if line.strip() for event in folder.feed(line)]
    return events + folder.flush(), folder


def test_a_node_fetch_error_is_one_fatal_cause_and_one_folded_line() -> None:
    events, folder = digest(DNS_FAILURE)
    assert [e.fatal for e in events if e.fatal] == ["DNS lookup of mcp.stripe.com failed (ENOTFOUND): no network, or a DNS or proxy problem"]
    assert [e.summary for e in events if e.summary] == ["TypeError: fetch failed (cause: Error: getaddrinfo ENOTFOUND mcp.stripe.com) [11 more lines folded]"]
    assert folder.last_error is not None and "ENOTFOUND" in folder.last_error


def test_an_uncaught_node_error_is_fatal_and_named_by_its_error_line() -> None:
    events, _ = digest(UNCAUGHT)
    assert [e.fatal for e in events if e.fatal] == ["uncaught error: TypeError: Cannot read properties of undefined (reading 'tools') [2 more lines folded]"]


@pytest.mark.parametrize(
    "line",
    ["npm WARN exec The following package was not found and will be installed: @stripe/mcp@0.3.3", "npm warn config ENOENT: .npmrc",
     "(node:42) ExperimentalWarning: The Fetch API is an experimental feature", "Stripe MCP Server running on stdio",
     "Warning: sk_ keys are not recommended; use a restricted rk_ key", "GET /v1/customers 200"],
)
def test_warnings_and_ordinary_lines_name_no_fatal_cause(line: str) -> None:
    assert fatal_cause(line) is None
    events, _ = digest(line)
    assert events == []


def test_the_stderr_budget_drops_what_is_over_its_rate_and_counts_it_until_time_refills_it() -> None:
    budget = StderrBudget(1000, now=0.0)
    assert [budget.admit(400, now=0.0) for _ in range(3)] == [True, True, False]
    assert budget.report(now=0.5, every=10) is None  # not yet: once in a while
    assert budget.admit(400, now=0.5)  # half a second refills 500 bytes
    report = budget.report(now=10.0, every=10)
    assert report is not None and report.startswith("1 upstream stderr lines were dropped (400 bytes)")
    assert budget.report(now=30.0, every=0) is None  # nothing dropped since
