"""The relay's logic, in process: the real Relay and Guard (real policy, redactor and audit log)
between two in-memory channels, so ids, cancellation, timeouts and endings are tested without
processes. Pipes, signals and the end-to-end proofs stay in tests/relay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import TaskGroup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_guard.config import Mode
from mcp_guard.guard import Guard
from mcp_guard.redaction import RedactionSettings, build_redactor
from mcp_guard.relay import ExitCode, Relay, Timeouts
from mcp_guard.transports.memory import MemoryPeer, memory_pair
from tests.factories import PSEUDONYM_KEY, build_guard, examples, make_profile
from tests.relay.faults import strict_json

pytestmark = pytest.mark.anyio


@dataclass
class Session:
    client: MemoryPeer
    upstream: MemoryPeer
    audit_dir: Path
    exit_code: list[ExitCode]
    ended: anyio.Event

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for path in sorted(self.audit_dir.glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    async with anyio.create_task_group() as tg:
        yield await start(tg, tmp_path)
        tg.cancel_scope.cancel()


async def start(tg: TaskGroup, tmp_path: Path, *, request_timeout: float = 30.0, eof_grace: float = 0.1, guard: Guard | None = None) -> Session:
    profile = make_profile(tmp_path, name="test")
    guard = guard or build_guard(profile, redactor=build_redactor(RedactionSettings(), Mode.TEST, PSEUDONYM_KEY))
    client_channel, client = memory_pair("client")
    upstream_channel, upstream = memory_pair("upstream")
    timeouts = Timeouts(initialize=request_timeout, request=request_timeout, eof_grace=eof_grace)
    relay = Relay(client_channel, upstream_channel, guard, timeouts, 1 << 20)
    codes: list[ExitCode] = []
    ended = anyio.Event()

    async def run() -> None:
        codes.append(await relay.run(handle_signals=False))
        ended.set()

    tg.start_soon(run)
    return Session(client, upstream, tmp_path / "audit", codes, ended)


def request(request_id: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


async def test_forwarded_requests_get_fresh_ids_and_answers_get_the_clients_id_back(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request("7", "ping"))
        await session.client.send(request(7, "ping"))
        first, second = await session.upstream.receive(), await session.upstream.receive()
        assert first["id"] != second["id"] and all(type(m["id"]) is int for m in (first, second))
        await session.upstream.send({"jsonrpc": "2.0", "id": second["id"], "result": {}})
        await session.upstream.send({"jsonrpc": "2.0", "id": first["id"], "result": {}})
        answers = [await session.client.receive(), await session.client.receive()]
    assert [answer["id"] for answer in answers] == [7, "7"]  # each back with its own JSON type


async def test_an_upstream_answer_to_no_admitted_request_is_dropped(session: Session) -> None:
    with anyio.fail_after(5):
        await session.upstream.send({"jsonrpc": "2.0", "id": 99, "result": {"content": [{"type": "text", "text": "jenny@example.com"}]}})
        await session.client.send(request(1, "ping"))
        forwarded = await session.upstream.receive()
        await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {}})
        answer = await session.client.receive()
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert session.client.received == [answer]  # nothing of the unsolicited answer arrived


async def test_a_denied_write_is_answered_by_the_guard_and_never_forwarded(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request(1, "tools/call", {"name": "stripe_api_write", "arguments": {"stripe_api_operation_id": "PostRefunds"}}))
        answer = await session.client.receive()
        await session.client.send(request(2, "ping"))
        forwarded = await session.upstream.receive()
    assert answer["result"]["isError"] is True and "blocked_operations" in answer["result"]["content"][0]["text"]
    assert forwarded["method"] == "ping"  # the refund never reached the upstream
    assert [record["decision"] for record in session.records()] == ["deny"]


async def test_cancellation_is_mapped_to_the_upstream_id_and_recorded(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request("a", "tools/call", {"name": "list_customers", "arguments": {}}))
        forwarded = await session.upstream.receive()
        await session.client.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "a", "reason": "user"}})
        cancel = await session.upstream.receive()
        await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {"content": []}})  # too late: dropped
        await session.client.send(request(2, "ping"))
        await session.upstream.receive()
    assert cancel["params"]["requestId"] == forwarded["id"]
    assert [record["outcome"] for record in session.records()] == ["cancelled"]
    assert session.client.received == []


async def test_a_cancellation_naming_no_pending_request_is_not_forwarded(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 41}})
        await session.client.send(request(1, "ping"))
        forwarded = await session.upstream.receive()
    assert forwarded["method"] == "ping"


async def test_a_request_the_upstream_never_answers_times_out_once(tmp_path: Path) -> None:
    async with anyio.create_task_group() as tg:
        session = await start(tg, tmp_path, request_timeout=0.2)
        with anyio.fail_after(5):
            await session.client.send(request(1, "ping"))
            forwarded = await session.upstream.receive()
            answer = await session.client.receive()
            cancel = await session.upstream.receive()
            await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {}})  # late: dropped
            await session.client.send(request(2, "ping"))
            await session.upstream.receive()
        tg.cancel_scope.cancel()
    assert answer["error"]["code"] == -32001 and "within 0.2 s" in answer["error"]["message"]
    assert cancel["method"] == "notifications/cancelled" and cancel["params"]["requestId"] == forwarded["id"]
    assert session.client.received == [answer]
    assert [record["outcome"] for record in session.records()] == ["timeout"]


async def test_upstream_end_answers_every_pending_request_and_exits_3(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request(1, "ping"))
        await session.client.send(request(2, "tools/list"))
        await session.upstream.receive()
        await session.upstream.receive()
        await session.upstream.close()
        answers = {(await session.client.receive())["id"], (await session.client.receive())["id"]}
        await session.ended.wait()
    assert answers == {1, 2}
    assert session.exit_code == [ExitCode.UPSTREAM_DIED]
    assert sorted(record["outcome"] for record in session.records()) == ["upstream_died", "upstream_died"]


async def test_client_end_records_pending_requests_as_cancelled_and_exits_0(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request(1, "ping"))
        await session.upstream.receive()
        await session.client.close()
        await session.ended.wait()
    assert session.exit_code == [ExitCode.OK]
    assert [record["outcome"] for record in session.records()] == ["cancelled"]


async def test_a_client_answer_to_a_request_the_upstream_never_sent_is_dropped(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send({"jsonrpc": "2.0", "id": 5, "result": {"roots": []}})
        await session.upstream.send({"jsonrpc": "2.0", "id": "s1", "method": "roots/list"})
        asked = await session.client.receive()
        await session.client.send({"jsonrpc": "2.0", "id": "s1", "result": {"roots": []}})
        passed = await session.upstream.receive()
    assert asked["method"] == "roots/list"
    assert passed == {"jsonrpc": "2.0", "id": "s1", "result": {"roots": []}}  # the unsolicited id 5 never arrived


async def test_malformed_lines_are_answered_and_recorded_and_never_forwarded(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send_raw(b"{not json")
        await session.client.send_raw(b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]')
        await session.client.send_raw(b'{"jsonrpc": "2.0", "id": 3, "method": "ping", "params": [1]}')
        errors = [await session.client.receive() for _ in range(3)]
        await session.client.send(request(4, "ping"))
        forwarded = await session.upstream.receive()
    assert [error["error"]["code"] for error in errors] == [-32700, -32600, -32600]
    assert errors[2]["id"] == 3
    assert forwarded["method"] == "ping"
    assert [(record["decision"], record["rule"]) for record in session.records()] == [("deny", "jsonrpc.framing")] * 3


# ---- issue 10: one answer and one record per request, whatever fails; bounded endings -------------


def initialize_request(request_id: Any = "init") -> dict[str, Any]:
    return request(request_id, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})


async def test_after_the_client_closes_its_input_pending_requests_are_still_answered_within_the_grace(tmp_path: Path) -> None:
    async with anyio.create_task_group() as tg:
        session = await start(tg, tmp_path, eof_grace=5.0)
        with anyio.fail_after(5):
            await session.client.send(request(1, "ping"))
            forwarded = await session.upstream.receive()
            await session.client.close()
            await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {}})
            answer = await session.client.receive()
            await session.ended.wait()
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert session.exit_code == [ExitCode.OK]
    assert [record["outcome"] for record in session.records()] == ["ok"]


async def test_a_fatal_upstream_cause_answers_a_pending_initialize_with_it_and_exits_3(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(initialize_request())
        await session.upstream.receive()
        await session.upstream.report_failure("DNS lookup of mcp.stripe.com failed (ENOTFOUND)")
        answer = await session.client.receive()
        await session.ended.wait()
    assert answer["id"] == "init" and answer["error"]["code"] == -32000
    assert answer["error"]["message"] == "the upstream failed before answering 'initialize': DNS lookup of mcp.stripe.com failed (ENOTFOUND)"
    assert session.exit_code == [ExitCode.UPSTREAM_DIED]
    assert [record["outcome"] for record in session.records()] == ["upstream_died"]


async def test_a_fatal_cause_named_before_initialize_fails_it_as_soon_as_it_is_sent(session: Session) -> None:
    with anyio.fail_after(5):
        await session.upstream.report_failure("the upstream's request was refused with HTTP 401")
        await session.client.send(request(1, "ping"))  # processed after the report: the cause is known
        forwarded = await session.upstream.receive()
        await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {}})
        assert (await session.client.receive())["id"] == 1
        await session.client.send(initialize_request())
        answer = await session.client.receive()
    assert "refused with HTTP 401" in answer["error"]["message"]


async def test_a_fatal_cause_after_the_handshake_does_not_end_the_session(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(initialize_request())
        forwarded = await session.upstream.receive()
        await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {"protocolVersion": "2025-11-25", "capabilities": {}}})
        assert "result" in await session.client.receive()
        await session.upstream.report_failure("the connection to api.stripe.com failed (ECONNRESET)")
        await session.client.send(request(2, "ping"))
        ping = await session.upstream.receive()
        await session.upstream.send({"jsonrpc": "2.0", "id": ping["id"], "result": {}})
        assert (await session.client.receive())["result"] == {}
    assert not session.ended.is_set()


async def test_a_guard_that_fails_on_an_answer_still_gives_one_answer_and_one_record(tmp_path: Path) -> None:
    guard = build_guard(make_profile(tmp_path, name="test"), redactor=build_redactor(RedactionSettings(), Mode.TEST, PSEUDONYM_KEY))

    async def broken_respond(*_: Any) -> bytes:
        raise RuntimeError("a bug in a filter")

    def broken_respond_soon(*_: Any) -> None:  # what the relay calls: answers leave without a task each
        raise RuntimeError("a bug in a filter")

    guard.respond = broken_respond  # type: ignore[method-assign]
    guard.respond_soon = broken_respond_soon  # type: ignore[method-assign]
    async with anyio.create_task_group() as tg:
        session = await start(tg, tmp_path, request_timeout=0.3, guard=guard)
        with anyio.fail_after(5):
            await session.client.send(request(1, "ping"))
            forwarded = await session.upstream.receive()
            await session.upstream.send({"jsonrpc": "2.0", "id": forwarded["id"], "result": {}})
            answer = await session.client.receive()
            await session.client.send(request(2, "ping"))  # a fence: its timeout fires after any the first could have had
            await session.upstream.receive()
            fence = await session.client.receive()
        tg.cancel_scope.cancel()
    assert answer["id"] == 1 and answer["error"]["code"] == -32603
    assert fence["id"] == 2 and fence["error"]["code"] == -32001
    assert [(record["request_id"], record["outcome"]) for record in session.records()] == [(1, "jsonrpc_error"), (2, "timeout")]


async def test_a_client_that_stops_reading_its_answers_ends_the_session_and_pending_requests_are_recorded(session: Session) -> None:
    with anyio.fail_after(5):
        await session.client.send(request(1, "ping"))
        await session.client.send(request(2, "tools/list"))
        first = await session.upstream.receive()
        await session.upstream.receive()
        await session.client.stop_reading()
        await session.upstream.send({"jsonrpc": "2.0", "id": first["id"], "result": {}})  # its answer cannot be delivered
        await session.ended.wait()
    assert session.exit_code == [ExitCode.OK]
    assert sorted((record["request_id"], record["outcome"]) for record in session.records()) == [(1, "ok"), (2, "cancelled")]


HOSTILE_ANSWERS = st.one_of(
    st.integers(1, 3000).map(lambda depth: '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[],"x":' + "[" * depth + "]" * depth + "}}"),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3).map(
        lambda bad: '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":' + json.dumps(bad) + "}]}}"
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]).map(lambda number: '{"jsonrpc":"2.0","id":@ID@,"result":{"n":' + number + "}}"),
    st.sampled_from(['{"jsonrpc":"2.0","id":@ID@,"result":{}}', '{"jsonrpc":"2.0","id":@ID@,"result":[1]}', '{"jsonrpc":"2.0","id":@ID@}',
                     '{"jsonrpc":"2.0","id":@ID@,"error":{"code":-1,"message":"x\\ud800"}}', '{"jsonrpc":"2.0","id":@ID@,"result":{"a":1', "[]", "garbage"]),
)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(HOSTILE_ANSWERS, min_size=1, max_size=6))
def test_fuzzed_upstream_answers_get_every_request_exactly_one_answer_and_one_record(tmp_path_factory: pytest.TempPathFactory, answers: list[str]) -> None:
    tmp_path = tmp_path_factory.mktemp("fuzz")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with anyio.create_task_group() as tg:
            session = await start(tg, tmp_path, request_timeout=0.2)
            with anyio.fail_after(10):
                for index in range(len(answers)):
                    await session.client.send(request(index, "ping"))
                for template in answers:
                    forwarded = await session.upstream.receive()
                    await session.upstream.send_raw(template.replace("@ID@", json.dumps(forwarded["id"])).encode())
                lines = [await session.client.receive_line() for _ in answers]
                await session.client.send(request("fence", "ping"))  # times out after any timer of the requests above
                await session.upstream.receive()
                lines.append(await session.client.receive_line())
            tg.cancel_scope.cancel()
        return [strict_json(line) for line in lines], session.records()

    received, records = anyio.run(scenario)
    assert sorted(str(message["id"]) for message in received) == sorted([*map(str, range(len(answers))), "fence"])
    assert sorted(str(record["request_id"]) for record in records) == sorted([*map(str, range(len(answers))), "fence"])
