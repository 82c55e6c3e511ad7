"""One span per client request, named and attributed per the MCP semantic conventions."""

from __future__ import annotations

from opentelemetry.trace import SpanKind, StatusCode

CLIENT_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01"


def call_tool(recorded, *, target="list_customers", client_meta=None, request_id=7):
    return recorded.telemetry.start_request(
        "tools/call",
        target=target,
        request_id=request_id,
        protocol_version="2025-06-18",
        client_meta=client_meta,
    )


def test_tools_call_span_follows_the_mcp_conventions(recorded):
    call_tool(recorded).finish(outcome="allowed", decision="allow", rule="tools.list_customers", operation="list")

    span = recorded.only_span()
    assert span.name == "tools/call list_customers"
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes) == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "list_customers",
        "gen_ai.operation.name": "execute_tool",
        "jsonrpc.request.id": "7",
        "mcp.protocol.version": "2025-06-18",
        "network.transport": "pipe",
        "mcp_guard.outcome": "allowed",
        "mcp_guard.decision": "allow",
        "mcp_guard.rule": "tools.list_customers",
        "mcp_guard.operation": "list",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_span_without_target_is_named_by_the_method_alone(recorded):
    span = recorded.telemetry.start_request(
        "tools/list", target=None, request_id="abc-1", protocol_version=None, client_meta=None, transport="tcp"
    )
    span.finish(outcome="allowed")

    exported = recorded.only_span()
    assert exported.name == "tools/list"
    assert dict(exported.attributes) == {
        "mcp.method.name": "tools/list",
        "jsonrpc.request.id": "abc-1",
        "network.transport": "tcp",
        "mcp_guard.outcome": "allowed",
    }


def test_prompts_get_records_the_prompt_name(recorded):
    recorded.telemetry.start_request(
        "prompts/get", target="summarize", request_id=1, protocol_version=None, client_meta=None
    ).finish(outcome="allowed")

    span = recorded.only_span()
    assert span.name == "prompts/get summarize"
    assert span.attributes["gen_ai.prompt.name"] == "summarize"
    assert "gen_ai.tool.name" not in span.attributes


def test_operation_enum_is_exported_as_its_value(recorded):
    from mcp_guard.operations import Operation

    call_tool(recorded).finish(outcome="allowed", operation=Operation.READ)

    assert recorded.only_span().attributes["mcp_guard.operation"] == "read"


def test_redaction_counts_are_set_per_class_and_zero_counts_are_left_out(recorded):
    call_tool(recorded).finish(outcome="allowed", redactions={"email": 2, "card_number": 1, "secret": 0})

    attributes = recorded.only_span().attributes
    assert attributes["mcp_guard.redactions.email"] == 2
    assert attributes["mcp_guard.redactions.card_number"] == 1
    assert "mcp_guard.redactions.secret" not in attributes


def test_jsonrpc_error_sets_error_type_and_error_status(recorded):
    call_tool(recorded).finish(outcome="upstream_error", error_type="-32603")

    span = recorded.only_span()
    assert span.attributes["error.type"] == "-32603"
    assert span.attributes["rpc.response.status_code"] == "-32603"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None


def test_tool_error_sets_error_type_tool_error(recorded):
    call_tool(recorded).finish(outcome="denied", error_type="tool_error", decision="deny", rule="blocked.create")

    span = recorded.only_span()
    assert span.attributes["error.type"] == "tool_error"
    assert "rpc.response.status_code" not in span.attributes
    assert span.status.status_code is StatusCode.ERROR


def test_finishing_twice_exports_one_span(recorded):
    span = call_tool(recorded)
    span.finish(outcome="allowed")
    span.finish(outcome="allowed")

    assert len(recorded.spans()) == 1


def test_client_traceparent_becomes_the_parent(recorded):
    call_tool(recorded, client_meta={"traceparent": CLIENT_TRACEPARENT, "progressToken": 3}).finish(outcome="allowed")

    span = recorded.only_span()
    assert format(span.context.trace_id, "032x") == CLIENT_TRACE_ID
    assert span.parent is not None
    assert span.parent.is_remote
    assert format(span.parent.span_id, "016x") == CLIENT_SPAN_ID


def test_request_without_traceparent_starts_a_new_trace(recorded):
    call_tool(recorded, client_meta={"progressToken": 3}).finish(outcome="allowed")

    span = recorded.only_span()
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != CLIENT_TRACE_ID


def test_malformed_traceparent_starts_a_new_trace(recorded):
    for bad in ("00-not-a-trace-01", 12345, {"x": 1}, "00-" + "0" * 32 + "-" + "0" * 16 + "-01"):
        call_tool(recorded, client_meta={"traceparent": bad}).finish(outcome="allowed")

    assert all(span.parent is None for span in recorded.spans())
    assert len(recorded.spans()) == 4


def test_inject_carries_our_span_in_the_clients_trace(recorded):
    client_meta = {"traceparent": CLIENT_TRACEPARENT, "tracestate": "vendor=abc", "progressToken": "p-1"}
    span = call_tool(recorded, client_meta=client_meta)
    forwarded = span.inject(client_meta)
    span.finish(outcome="allowed")

    exported = recorded.only_span()
    version, trace_id, span_id, flags = forwarded["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", CLIENT_TRACE_ID, "01")
    assert span_id == format(exported.context.span_id, "016x")
    assert span_id != CLIENT_SPAN_ID
    assert forwarded["tracestate"] == "vendor=abc"
    assert forwarded["progressToken"] == "p-1"


def test_inject_returns_a_new_dict_and_leaves_the_clients_meta_alone(recorded):
    client_meta = {"traceparent": CLIENT_TRACEPARENT, "progressToken": 5}
    original = dict(client_meta)
    span = call_tool(recorded, client_meta=client_meta)

    forwarded = span.inject(client_meta)

    assert forwarded is not client_meta
    assert client_meta == original
    assert forwarded["traceparent"] != CLIENT_TRACEPARENT


def test_inject_without_client_meta_creates_one(recorded):
    span = call_tool(recorded)

    forwarded = span.inject(None)
    span.finish(outcome="allowed")

    assert set(forwarded) == {"traceparent"}
    assert forwarded["traceparent"].split("-")[2] == format(recorded.only_span().context.span_id, "016x")


def test_inject_drops_a_stale_tracestate_when_the_client_trace_was_invalid(recorded):
    span = call_tool(recorded, client_meta={"traceparent": "garbage", "tracestate": "vendor=abc"})

    forwarded = span.inject({"traceparent": "garbage", "tracestate": "vendor=abc"})

    assert "tracestate" not in forwarded
    assert forwarded["traceparent"].startswith("00-")


def test_unsampled_client_trace_is_propagated_but_not_exported(recorded):
    unsampled = f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-00"
    span = call_tool(recorded, client_meta={"traceparent": unsampled})

    forwarded = span.inject({"traceparent": unsampled})
    span.finish(outcome="allowed")

    assert forwarded["traceparent"].startswith(f"00-{CLIENT_TRACE_ID}-")
    assert forwarded["traceparent"].endswith("-00")
    assert recorded.spans() == ()
    assert recorded.points("mcp_guard.calls")


def test_client_supplied_names_that_look_like_data_are_replaced(recorded):
    span = recorded.telemetry.start_request(
        "tools/call",
        target="jane.doe@example.com",
        request_id="sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE",
        protocol_version="4242424242424242",
        client_meta=None,
    )
    span.finish(outcome="denied")

    exported = recorded.only_span()
    assert exported.name == "tools/call _OTHER"
    assert exported.attributes["gen_ai.tool.name"] == "_OTHER"
    assert exported.attributes["jsonrpc.request.id"] == "_OTHER"
    assert exported.attributes["mcp.protocol.version"] == "_OTHER"


def test_identifier_shaped_names_pass_unchanged(recorded):
    recorded.telemetry.start_request(
        "notifications/cancelled",
        target=None,
        request_id="req:2f1e-9a.b_c",
        protocol_version="2025-11-25",
        client_meta=None,
    ).finish(outcome="allowed")

    attributes = recorded.only_span().attributes
    assert attributes["mcp.method.name"] == "notifications/cancelled"
    assert attributes["jsonrpc.request.id"] == "req:2f1e-9a.b_c"
    assert attributes["mcp.protocol.version"] == "2025-11-25"


def test_traces_without_metrics_still_export_spans(traces_only):
    call_tool(traces_only).finish(outcome="allowed", decision="deny", rule="r", redactions={"email": 1})

    assert traces_only.only_span().name == "tools/call list_customers"
    assert traces_only.points("mcp_guard.calls") == []
