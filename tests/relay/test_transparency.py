"""Issue 2, point 2: what mcp-guard does not deliberately police passes unchanged both ways.

A raw JSON-lines client drives `mcp-guard run` (a real process, real pipes) in front of the
coverage server, under a diagnostic profile that allows everything and redacts nothing, so any
difference between what was sent and what arrived is the relay's doing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.relay.harness import RawClient, coverage_command, diagnostic_profile, write_config

pytestmark = pytest.mark.anyio



@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[RawClient]:
    config = write_config(tmp_path, profile=diagnostic_profile())
    raw = await RawClient.start(config, coverage_command(), env={"MCP_GUARD_LOG_LEVEL": "DEBUG"})  # the upstream's stderr is logged at debug
    try:
        yield raw
    finally:
        await raw.aclose()


async def read_resource(client: RawClient, uri: str) -> object:
    response = await client.call("resources/read", {"uri": uri})
    return json.loads(response["result"]["contents"][0]["text"])


INITIALIZE = {
    "protocolVersion": "2025-06-18",
    "capabilities": {"sampling": {"x-cap": 1}, "elicitation": {}, "roots": {"listChanged": True}, "experimental": {"x": {}}},
    "clientInfo": {"name": "transparency-client", "version": "3.1.4", "x-client-extra": "kept"},
    "_meta": {"x-init-meta": True},
}


async def test_initialize_reaches_upstream_unchanged_and_its_answer_comes_back_whole(client: RawClient) -> None:
    response = await client.initialize(**INITIALIZE)
    result = response["result"]
    assert result["protocolVersion"] == "2025-06-18"
    assert result["serverInfo"] == {"name": "coverage", "version": "1.0", "x-vendor": "kept"}
    assert result["instructions"] == "coverage server instructions"
    assert result["x-extra"] == {"a": 1}
    assert set(result["capabilities"]) == {"tools", "resources", "prompts", "logging", "completions"}
    assert await read_resource(client, "coverage://initialize") == INITIALIZE


async def test_request_params_meta_and_unknown_fields_reach_upstream(client: RawClient) -> None:
    await client.initialize()
    params = {"name": "echo", "arguments": {"text": "hi", "n": [1, {"deep": None}]}, "_meta": {"progressToken": "tok-1", "x-m": 2}, "x-unknown": {"a": 1}}
    response = await client.call("tools/call", params)
    assert json.loads(response["result"]["content"][0]["text"]) == {"n": [1, {"deep": None}], "text": "hi"}
    forwarded = await read_resource(client, "coverage://last-request")
    assert forwarded["params"] == params
    assert forwarded["method"] == "tools/call"


async def test_tools_list_pages_keep_cursors_meta_and_unknown_fields(client: RawClient) -> None:
    await client.initialize()
    first = (await client.call("tools/list"))["result"]
    assert first["nextCursor"] == "page2"
    second = (await client.call("tools/list", {"cursor": "page2"}))["result"]
    assert "nextCursor" not in second
    tools = first["tools"] + second["tools"]
    assert len(tools) == 12
    assert all(tool["_meta"] == {"coverage/tool": tool["name"]} and tool["x-unknown-tool-field"] == {"kept": True} for tool in tools)
    assert next(t for t in tools if t["name"] == "structured")["outputSchema"]["required"] == ["value", "label"]


async def test_progress_notifications_carry_the_clients_token(client: RawClient) -> None:
    await client.initialize()
    request_id = await client.request("tools/call", {"name": "slow", "arguments": {"ms": 90, "steps": 3}, "_meta": {"progressToken": "p-42"}})
    response = await client.response(request_id)
    progress = [m for m in client.inbox if m.get("method") == "notifications/progress"]
    assert [p["params"]["progress"] for p in progress] == [1, 2, 3]
    assert {p["params"]["progressToken"] for p in progress} == {"p-42"}
    assert response["result"]["content"][0]["text"].startswith("slow done")


async def test_cancellation_reaches_upstream_and_no_answer_follows(client: RawClient) -> None:
    await client.initialize()
    slow = await client.request("tools/call", {"name": "slow", "arguments": {"ms": 3000, "steps": 30}})
    await client.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": slow, "reason": "user pressed stop"}})
    pong = await client.call("ping")  # sent after the cancellation; answered
    assert pong["result"] == {}
    await client.call("tools/call", {"name": "slow", "arguments": {"ms": 10, "steps": 1}})  # outlives the cancelled one's next step
    assert not [m for m in client.inbox if m.get("id") == slow]
    await client.close_stdin()
    await client.wait()
    assert "(known)" in await client.stderr_text()  # the upstream mapped the cancellation to its request


async def test_ping_logging_resources_prompts_and_completion_pass(client: RawClient) -> None:
    await client.initialize()
    assert (await client.call("ping"))["result"] == {}
    assert (await client.call("logging/setLevel", {"level": "debug"}))["result"] == {}
    await client.call("tools/call", {"name": "log", "arguments": {"level": "warning", "data": {"k": "v"}}})
    log = await client.next_matching(lambda m: m.get("method") == "notifications/message")
    assert log["params"] == {"level": "warning", "logger": "coverage", "data": {"k": "v"}}

    page1 = (await client.call("resources/list"))["result"]
    page2 = (await client.call("resources/list", {"cursor": page1["nextCursor"]}))["result"]
    assert [r["uri"] for r in page1["resources"] + page2["resources"]][-1] == "coverage://blob"
    assert page2["resources"][0]["_meta"] == {"coverage/resource": True}
    templates = (await client.call("resources/templates/list"))["result"]["resourceTemplates"]
    assert templates[0]["uriTemplate"] == "coverage://item/{id}"
    blob = (await client.call("resources/read", {"uri": "coverage://blob"}))["result"]["contents"][0]
    assert blob["blob"] == "AAECAwQ="
    assert (await client.call("resources/subscribe", {"uri": "coverage://static"}))["result"] == {}
    updated = await client.next_matching(lambda m: m.get("method") == "notifications/resources/updated")
    assert updated["params"] == {"uri": "coverage://static"}

    assert (await client.call("prompts/list"))["result"]["prompts"][0]["name"] == "greet"
    prompt = (await client.call("prompts/get", {"name": "greet", "arguments": {"who": "Ada"}}))["result"]
    assert prompt["messages"][0]["content"]["text"] == "Hello, Ada!"
    completion = await client.call("completion/complete", {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "who", "value": "al"}})
    assert completion["result"]["completion"]["values"] == ["alice", "alan"]


async def test_unknown_resource_error_comes_back_with_its_code(client: RawClient) -> None:
    await client.initialize()
    response = await client.call("resources/read", {"uri": "coverage://missing"})
    assert response["error"]["code"] == -32002
    assert "coverage://missing" in response["error"]["message"]


@pytest.mark.parametrize(
    ("tool", "method", "answer", "expected"),
    [
        ("ask_sampling", "sampling/createMessage", {"role": "assistant", "content": {"type": "text", "text": "sampled!"}, "model": "m"}, "sampled!"),
        ("ask_elicitation", "elicitation/create", {"action": "accept", "content": {"name": "Ada"}}, '"accept"'),
        ("ask_roots", "roots/list", {"roots": [{"uri": "file:///work", "name": "work"}]}, "file:///work"),
    ],
)
async def test_upstream_requests_reach_the_client_and_its_answer_returns(client: RawClient, tool: str, method: str, answer: dict, expected: str) -> None:
    await client.initialize()
    call_id = await client.request("tools/call", {"name": tool, "arguments": {}})
    asked = await client.next_matching(lambda m: m.get("method") == method)
    assert "id" in asked
    await client.send({"jsonrpc": "2.0", "id": asked["id"], "result": answer})
    response = await client.response(call_id)
    assert expected in response["result"]["content"][0]["text"]


async def test_list_changed_structured_content_is_error_and_vendor_fields_pass(client: RawClient) -> None:
    await client.initialize()
    await client.call("tools/call", {"name": "touch_list", "arguments": {}})
    await client.next_matching(lambda m: m.get("method") == "notifications/tools/list_changed")
    structured = (await client.call("tools/call", {"name": "structured", "arguments": {}}))["result"]
    assert structured["structuredContent"] == {"value": 42, "label": "answer"}
    boom = (await client.call("tools/call", {"name": "boom", "arguments": {}}))["result"]
    assert boom["isError"] is True
    vendor = (await client.call("tools/call", {"name": "vendor", "arguments": {}}))["result"]
    assert vendor["x-vendor-result"] == {"nested": [1, 2, 3]}
    assert vendor["content"][0]["x-content-extra"] == 1
    assert vendor["_meta"]["coverage/vendor"] == "abc"


async def test_ids_keep_their_json_type_and_never_collide(client: RawClient) -> None:
    await client.initialize()
    as_string = await client.request("tools/call", {"name": "slow", "arguments": {"ms": 60, "steps": 1}}, id="7")
    as_int = await client.request("tools/call", {"name": "echo", "arguments": {"text": "int"}}, id=7)
    first = await client.receive()
    second = await client.receive()
    answers = {type(m["id"]): m for m in (first, second)}
    assert answers[int]["result"]["content"][0]["text"] == '{"text": "int"}'
    assert answers[str]["result"]["content"][0]["text"].startswith("slow done")
    assert (as_string, as_int) == ("7", 7)


async def test_unknown_method_is_answered_by_the_guard_and_not_forwarded(client: RawClient) -> None:
    await client.initialize()
    await client.call("ping")
    response = await client.call("server/discover", {})
    assert response["error"]["code"] == -32601
    assert (await read_resource(client, "coverage://last-request"))["method"] == "ping"


async def test_client_notifications_outside_mcp_are_dropped_and_mcp_ones_pass(client: RawClient) -> None:
    await client.initialize()
    await client.send({"jsonrpc": "2.0", "method": "notifications/x-vendor/refund", "params": {"payment_intent": "pi_1"}})
    await client.send({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
    await client.call("ping")  # both notifications were handled before this answer
    await client.close_stdin()
    await client.wait()
    stderr = await client.stderr_text()
    assert "coverage: notification notifications/roots/list_changed" in stderr
    assert "coverage: notification notifications/x-vendor/refund" not in stderr
    assert "dropped client notification 'notifications/x-vendor/refund'" in stderr
