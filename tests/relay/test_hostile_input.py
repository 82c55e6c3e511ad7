"""Issue 10, items 1-3 and 12: hostile input both ways, through `mcp-guard run` as a real process.

Whatever a client or an upstream sends (nesting 1,000 deep, an unpaired surrogate escape in an
id, a method or an argument, NaN or Infinity, an answer over the size limit), the guard keeps
serving, every request gets exactly one answer (with its id whenever the id itself is valid,
else null) and one audit record, and nothing of a refused line is forwarded. The rule for
unpaired surrogates is the same both ways: refuse, never replace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.relay.faults import answers_through_fence, hostile_command, hostile_profile, received_lines, strict_json
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

FAST_TIMEOUTS = {"command": "unused", "request_timeout": 0.5}


def nested(depth: int) -> str:
    """`depth` arrays, one inside the other (the message around them adds its own levels)."""
    return "[" * depth + "1" + "]" * depth


async def start(tmp_path: Path, *, upstream: dict[str, Any] | None = None, limits: dict[str, Any] | None = None) -> tuple[RawClient, Path]:
    received = tmp_path / "received.jsonl"
    config = write_config(tmp_path, profile=hostile_profile(), upstream=upstream or FAST_TIMEOUTS, limits=limits)
    client = await RawClient.start(config, hostile_command("--received", str(received)))
    await client.initialize()
    return client, received


def framing_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [r for r in audit_records(tmp_path / "audit") if r["rule"] == "jsonrpc.framing"]


# ---- client -> guard -------------------------------------------------------------------------

CLIENT_LINES = [
    # (line, answer id, words the error must hold)
    ('{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo","arguments":{"a":' + nested(1000) + "}}}", 41, "deeper than 64 levels"),
    ('{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"a":' + nested(70) + "}}}", 42, "deeper than 64 levels"),
    ('{"jsonrpc":"2.0","id":"\\ud800","method":"no/such/method"}', None, "unpaired UTF-16 surrogate"),
    ('{"jsonrpc":"2.0","id":"\\udfff","method":"ping"}', None, "unpaired UTF-16 surrogate"),
    ('{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\\ud83d"}}}', 43, "unpaired UTF-16 surrogate"),
    ('{"jsonrpc":"2.0","id":44,"method":"tools/\\udc00","params":{}}', 44, "unpaired UTF-16 surrogate"),
    ('{"jsonrpc":"2.0","id":45,"method":"tools/call","params":{"name":"echo","arguments":{"n":NaN}}}', 45, "NaN is not a JSON number"),
    ('{"jsonrpc":"2.0","id":46,"method":"tools/call","params":{"name":"echo","arguments":{"n":Infinity}}}', 46, "Infinity is not a JSON number"),
    ('{"jsonrpc":"2.0","id":47,"method":"tools/call","params":{"name":"echo","arguments":{"n":-Infinity}}}', 47, "Infinity is not a JSON number"),
    ('{"jsonrpc":"2.0","id":48,"method":"tools/call","params":{"name":"echo","arguments":{"n":1e999}}}', 48, "too large for a double"),
]
CLIENT_IDS = ["deep-1000", "deep-70", "surrogate-id-unknown-method", "surrogate-id-ping", "surrogate-argument",
              "surrogate-method", "nan-argument", "infinity-argument", "minus-infinity-argument", "overflow-argument"]


@pytest.mark.parametrize(("line", "answer_id", "words"), CLIENT_LINES, ids=CLIENT_IDS)
async def test_a_hostile_client_line_gets_exactly_one_answer_and_a_record_and_is_never_forwarded(
    tmp_path: Path, line: str, answer_id: object, words: str
) -> None:
    client, received = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            await client.send_bytes(line.encode() + b"\n")
            answers = await answers_through_fence(client)
            pong = await client.call("ping")
    finally:
        await client.aclose()
    assert len(answers) == 1, answers  # one answer, no second one from a timer
    assert answers[0]["id"] == answer_id and answers[0]["error"]["code"] == -32600
    assert words in answers[0]["error"]["message"]
    assert pong["result"] == {}  # the guard keeps serving
    assert [(r["request_id"], r["decision"]) for r in framing_records(tmp_path)] == [(answer_id, "deny")]
    forwarded = [json.loads(line) for line in received_lines(received)]
    assert [m.get("method") for m in forwarded if "id" in m and m["id"] != 1] == ["tools/call", "ping"]  # the fence and the ping


async def test_the_depth_limit_is_configurable(tmp_path: Path) -> None:
    client, _ = await start(tmp_path, limits={"max_depth": 8})
    try:
        with anyio.fail_after(20):
            deep = await client.call("tools/call", {"name": "echo", "arguments": {"a": [[[[[[[1]]]]]]]}})
            shallow = await client.call("tools/call", {"name": "echo", "arguments": {"a": [[1]]}})
    finally:
        await client.aclose()
    assert deep["error"]["code"] == -32600 and "deeper than 8 levels (limits.max_depth)" in deep["error"]["message"]
    assert shallow["result"]["content"][0]["text"] == '{"a": [[1]]}'


async def test_a_message_nested_a_million_deep_does_not_crash_the_guard(tmp_path: Path) -> None:
    client, _ = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            await client.send_bytes(b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"a":' + b"[" * 1_000_000 + b"}}\n")
            refused = await client.receive()
            pong = await client.call("ping")
    finally:
        await client.aclose()
    assert refused["error"]["code"] in (-32600, -32700) and pong["result"] == {}


# ---- upstream -> guard -----------------------------------------------------------------------

UPSTREAM_ANSWERS = [
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"x"}],"deep":@NESTED:1000@}}', "deeper than 64 levels"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"x"}],"deep":' + nested(80) + "}}", "deeper than 64 levels"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"jenny\\ud800"}]}}', "unpaired UTF-16 surrogate"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"x"}],"amount":NaN}}', "NaN is not a JSON number"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"x"}],"amount":-Infinity}}', "Infinity is not a JSON number"),
    ('{"jsonrpc":"2.0","id":@ID@,"error":{"code":-32000,"message":"bad \\udc00"}}', "unpaired UTF-16 surrogate"),
]
UPSTREAM_IDS = ["deep-1000", "deep-80", "surrogate", "nan", "minus-infinity", "surrogate-in-error"]


@pytest.mark.parametrize(("template", "words"), UPSTREAM_ANSWERS, ids=UPSTREAM_IDS)
async def test_a_hostile_upstream_answer_is_withheld_and_the_request_answered_at_once(tmp_path: Path, template: str, words: str) -> None:
    client, _ = await start(tmp_path, upstream={"command": "unused", "request_timeout": 60})
    try:
        with anyio.fail_after(10):  # far below the request timeout: the answer comes at once
            answer = await client.call("tools/call", {"name": "raw", "arguments": {"line": template}})
            pong = await client.call("ping")
    finally:
        await client.aclose()
    assert answer["error"]["code"] == -32003 and "withheld the upstream's answer" in answer["error"]["message"]
    assert words in answer["error"]["message"]
    assert pong["result"] == {}
    raw_records = [r for r in audit_records(tmp_path / "audit") if r["tool"] == "raw"]
    assert [(r["outcome"], words in r["error"]) for r in raw_records] == [("jsonrpc_error", True)]


async def test_an_upstream_answer_over_the_size_limit_is_answered_at_once_naming_the_limit(tmp_path: Path) -> None:
    client, _ = await start(tmp_path, upstream={"command": "unused", "request_timeout": 60}, limits={"max_upstream_message_bytes": 65536})
    huge = '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"' + "x" * 300_000 + '"}]}}'
    try:
        with anyio.fail_after(10):
            answer = await client.call("tools/call", {"name": "raw", "arguments": {"line": huge}})
            small = await client.call("tools/call", {"name": "echo", "arguments": {"text": "still here"}})
    finally:
        await client.aclose()
    assert answer["error"]["code"] == -32003
    assert "over the 65536-byte limit (limits.max_upstream_message_bytes)" in answer["error"]["message"]
    assert small["result"]["content"][0]["text"] == '{"text": "still here"}'
    [record] = [r for r in audit_records(tmp_path / "audit") if r["tool"] == "raw"]
    assert record["outcome"] == "jsonrpc_error" and "65536-byte limit" in record["error"]


@pytest.mark.parametrize("params", ['{"deep":@NESTED:500@}', '{"text":"\\ud800"}', '{"n":NaN}'], ids=["deep", "surrogate", "nan"])
async def test_a_hostile_upstream_request_is_refused_to_the_upstream_and_never_reaches_the_client(tmp_path: Path, params: str) -> None:
    client, received = await start(tmp_path)
    line = '{"jsonrpc":"2.0","id":@ID@,"method":"sampling/createMessage","params":' + params + "}"
    try:
        with anyio.fail_after(10):
            sent = await client.call("tools/call", {"name": "ask_raw", "arguments": {"line": line}})
            seen = await answers_through_fence(client)
    finally:
        await client.aclose()
    assert sent["result"]["content"][0]["text"] == "sent"
    assert seen == [] and client.inbox == []  # nothing of the upstream's request reached the client
    refusals = [json.loads(line) for line in received_lines(received) if '"upstream-1"' in line]
    assert [(m["error"]["code"], "mcp-guard refused this request" in m["error"]["message"]) for m in refusals] == [(-32600, True)]


async def test_every_answer_the_guard_writes_is_strict_json(tmp_path: Path) -> None:
    """The wire never carries NaN, Infinity or an unpaired surrogate, whatever came in."""
    client, _ = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            for template, _ in UPSTREAM_ANSWERS:
                await client.request("tools/call", {"name": "raw", "arguments": {"line": template}})
            for line, _, _ in CLIENT_LINES:
                await client.send_bytes(line.encode() + b"\n")
            await client.request("ping", id="last")
            assert client.process.stdout is not None
            lines = []
            while not lines or json.loads(lines[-1]).get("id") != "last":
                lines.append(await client.process.stdout.readline())
    finally:
        await client.aclose()
    for line in lines:
        strict_json(line)
        line.decode("utf-8")  # raises on anything that is not UTF-8, a lone surrogate included
    assert len(lines) == len(UPSTREAM_ANSWERS) + len(CLIENT_LINES) + 1


# ---- members JSON-RPC does not define --------------------------------------------------------

PII = "jenny.rosen@example.com 4242424242424242"
DEFINED = {"jsonrpc", "id", "method", "params", "result", "error"}


@pytest.mark.parametrize("template", [
    '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"x"}]},"leak":"@PII@","extra":{"card":"@PII@"}}',
    '{"jsonrpc":"2.0","id":@ID@,"error":{"code":-32000,"message":"boom"},"leak":"@PII@"}',
], ids=["result", "error"])
async def test_an_upstream_answer_reaches_the_client_with_only_the_members_json_rpc_defines(tmp_path: Path, template: str) -> None:
    client, _ = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            answer = await client.call("tools/call", {"name": "raw", "arguments": {"line": template.replace("@PII@", PII)}})
    finally:
        await client.aclose()
    assert set(answer) <= DEFINED and ("result" in answer) != ("error" in answer), answer
    assert "jenny.rosen" not in json.dumps(answer) and "4242" not in json.dumps(answer)


@pytest.mark.parametrize("line", [
    '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1},"extra":"@PII@"}',
    '{"jsonrpc":"2.0","method":"notifications/weird","leak":{"email":"@PII@"}}',
    '{"jsonrpc":"2.0","id":@ID@,"method":"roots/list","leak":"@PII@"}',
    '{"jsonrpc":"2.0","id":@ID@,"method":"roots/list","result":{"leak":"@PII@"}}',
], ids=["progress", "unknown-notification", "server-request", "server-request-with-result"])
async def test_an_upstream_request_or_notification_reaches_the_client_with_only_the_members_json_rpc_defines(tmp_path: Path, line: str) -> None:
    client, _ = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            sent = await client.call("tools/call", {"name": "ask_raw", "arguments": {"line": line.replace("@PII@", PII)}})
    finally:
        await client.aclose()
    assert sent["result"]["content"][0]["text"] == "sent"
    [message] = client.inbox
    assert set(message) <= DEFINED and "result" not in message, message
    assert "jenny.rosen" not in json.dumps(message) and "4242" not in json.dumps(message)


# ---- lines that cannot be parsed still name their request ------------------------------------

UNPARSABLE_CLIENT_LINES = [
    # (line, answer id): a line that is not JSON is answered with id null, as JSON-RPC requires of a
    # parse error; a JSON line whose id is the number 49.0 names request 49
    (b'\xef\xbb\xbf{"jsonrpc":"2.0","id":"bom","method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":"latin1","method":"tools/call","params":{"name":"echo","arguments":{"t":"\xff"}}}', None),
    (b'{"jsonrpc":"2.0","id":"truncated","method":"tools/call","params":{"name":"echo","arguments":{', None),
    (b'{"jsonrpc":"2.0","id":"trailing","method":"ping"} garbage', None),
    (b'{"jsonrpc":"2.0","id":49.0,"method":"ping"}', 49),
]
UNPARSABLE_CLIENT_IDS = ["bom", "not-utf-8", "truncated", "trailing-garbage", "float-id"]


@pytest.mark.parametrize(("line", "answer_id"), UNPARSABLE_CLIENT_LINES, ids=UNPARSABLE_CLIENT_IDS)
async def test_an_unparsable_client_line_is_answered_once_and_recorded_and_never_forwarded(tmp_path: Path, line: bytes, answer_id: object) -> None:
    client, received = await start(tmp_path)
    try:
        with anyio.fail_after(20):
            await client.send_bytes(line + b"\n")
            answers = await answers_through_fence(client)
    finally:
        await client.aclose()
    assert [(a["id"], a["error"]["code"] in (-32700, -32600)) for a in answers] == [(answer_id, True)], answers
    assert [(r["request_id"], r["decision"]) for r in framing_records(tmp_path)] == [(answer_id, "deny")]
    forwarded = [json.loads(line) for line in received_lines(received)]
    assert [m.get("method") for m in forwarded if "id" in m and m["id"] != 1] == ["tools/call"]  # the fence alone


UNPARSABLE_UPSTREAM_ANSWERS = [
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"\u00ff\u00fe jenny"}]}}', True, "not UTF-8"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"jenny', False, "Parse error"),
    ('{"jsonrpc":"2.0","id":@ID@,"result":{"content":[]}} trailing', False, "Parse error"),
    ('\ufeff{"jsonrpc":"2.0","id":@ID@,"result":{"content":[]}}', False, "Parse error"),
    ('{"jsonrpc":"2.0","id":@ID@.0,"result":{"content":[]}}', False, 'member "id" must be a string or an integer'),
]
UNPARSABLE_UPSTREAM_IDS = ["not-utf-8", "truncated", "trailing-garbage", "bom", "float-id"]


@pytest.mark.parametrize(("template", "latin1", "words"), UNPARSABLE_UPSTREAM_ANSWERS, ids=UNPARSABLE_UPSTREAM_IDS)
async def test_an_unparsable_upstream_answer_is_withheld_and_the_request_answered_at_once(
    tmp_path: Path, template: str, latin1: bool, words: str
) -> None:
    client, _ = await start(tmp_path, upstream={"command": "unused", "request_timeout": 60})
    try:
        with anyio.fail_after(10):  # far below the request timeout: the answer comes at once
            answer = await client.call("tools/call", {"name": "raw", "arguments": {"line": template, "latin1": latin1}})
            pong = await client.call("ping")
    finally:
        await client.aclose()
    assert answer["error"]["code"] == -32003 and "withheld the upstream's answer" in answer["error"]["message"]
    assert words in answer["error"]["message"] and "jenny" not in answer["error"]["message"]
    assert pong["result"] == {}
    raw_records = [r for r in audit_records(tmp_path / "audit") if r["tool"] == "raw"]
    assert [(r["request_id"], r["outcome"], words in r["error"]) for r in raw_records] == [(answer["id"], "jsonrpc_error", True)]
