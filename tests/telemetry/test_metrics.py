"""Duration, calls by decision, denials by rule and redactions by class."""

from __future__ import annotations


def request(telemetry, method="tools/call", target="list_customers"):
    return telemetry.start_request(method, target=target, request_id=1, protocol_version=None, client_meta=None)


def test_duration_histogram_records_seconds_by_method_tool_and_error(recorded):
    request(recorded.telemetry).finish(outcome="allowed")
    request(recorded.telemetry).finish(outcome="upstream_error", error_type="-32603")
    request(recorded.telemetry, "tools/list", None).finish(outcome="allowed")

    points = {
        tuple(sorted(attributes.items())): point
        for attributes, point in recorded.points("mcp.server.operation.duration")
    }
    assert set(points) == {
        (("gen_ai.tool.name", "list_customers"), ("mcp.method.name", "tools/call")),
        (("error.type", "-32603"), ("gen_ai.tool.name", "list_customers"), ("mcp.method.name", "tools/call")),
        (("mcp.method.name", "tools/list"),),
    }
    for point in points.values():
        assert point.count == 1
        assert 0 < point.sum < 5  # seconds, not nanoseconds or milliseconds
    some_point = next(iter(points.values()))
    assert list(some_point.explicit_bounds)[:3] == [0.01, 0.02, 0.05]


def test_duration_unit_is_seconds(recorded):
    request(recorded.telemetry).finish(outcome="allowed")

    data = recorded.metric_reader.get_metrics_data()
    (metric,) = [
        m
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "mcp.server.operation.duration"
    ]
    assert metric.unit == "s"


def test_calls_are_counted_by_method_and_decision(recorded):
    request(recorded.telemetry).finish(outcome="allowed", decision="allow")
    request(recorded.telemetry).finish(outcome="allowed", decision="allow")
    request(recorded.telemetry).finish(outcome="denied", decision="deny", rule="blocked.create")
    request(recorded.telemetry, "ping", None).finish(outcome="allowed")

    counts = {tuple(sorted(a.items())): p.value for a, p in recorded.points("mcp_guard.calls")}
    assert counts == {
        (("mcp.method.name", "tools/call"), ("mcp_guard.decision", "allow")): 2,
        (("mcp.method.name", "tools/call"), ("mcp_guard.decision", "deny")): 1,
        (("mcp.method.name", "ping"),): 1,
    }


def test_denials_are_counted_by_rule_and_allows_are_not(recorded):
    request(recorded.telemetry).finish(outcome="denied", decision="deny", rule="blocked.create")
    request(recorded.telemetry).finish(outcome="denied", decision="deny", rule="blocked.create")
    request(recorded.telemetry).finish(outcome="denied", decision="deny", rule="unknown_tool")
    request(recorded.telemetry).finish(outcome="allowed", decision="allow", rule="allowed.read")

    counts = {a["mcp_guard.rule"]: p.value for a, p in recorded.points("mcp_guard.denials")}
    assert counts == {"blocked.create": 2, "unknown_tool": 1}


def test_redactions_are_counted_by_class(recorded):
    request(recorded.telemetry).finish(outcome="allowed", redactions={"email": 2, "card_number": 1})
    request(recorded.telemetry).finish(outcome="allowed", redactions={"email": 3, "secret": 0})

    counts = {a["mcp_guard.redaction.class"]: p.value for a, p in recorded.points("mcp_guard.redactions")}
    assert counts == {"email": 5, "card_number": 1}


def test_metrics_without_traces_record_and_leave_meta_alone(metrics_only):
    meta = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    span = request(metrics_only.telemetry)

    assert span.inject(meta) is meta
    span.finish(outcome="allowed", decision="allow")

    assert metrics_only.spans() == ()
    assert [p.value for _, p in metrics_only.points("mcp_guard.calls")] == [1]


def test_a_request_finished_twice_is_counted_once(recorded):
    span = request(recorded.telemetry)
    span.finish(outcome="allowed", decision="allow", redactions={"email": 1})
    span.finish(outcome="allowed", decision="allow", redactions={"email": 1})

    assert [p.value for _, p in recorded.points("mcp_guard.calls")] == [1]
    assert [p.value for _, p in recorded.points("mcp_guard.redactions")] == [1]
