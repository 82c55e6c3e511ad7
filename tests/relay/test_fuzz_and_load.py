"""Issue 6, point 4 and issue 10: robustness under fuzzed input and concurrent load, through real processes.

Fuzz, client to guard: hypothesis writes malformed, oversized, batched, out-of-order and hostile
JSON-RPC (nesting thousands deep, unpaired surrogate escapes, NaN and Infinity) into one running
`mcp-guard run` in front of the sandbox (read-only profile). After every example the guard must
still answer a ping, every answer must be strict JSON in UTF-8, and at the end the sandbox's write
journal must be empty: no denied call got through, whatever its spelling.

Fuzz, upstream to guard: a hostile upstream answers each call with what hypothesis writes (the same
kinds of lines); every call gets exactly one answer, in strict JSON, and the guard keeps serving.

Load: 8 client processes, each with its own mcp-guard (one per editor window, as clients do),
500 calls each at once, all auditing into one directory: every answer matches its request, and
the audit trail holds exactly one record per request and verifies.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_guard.audit import verify_audit_dir
from tests.factories import examples
from tests.relay.faults import hostile_command, hostile_profile, strict_json
from tests.relay.harness import MCP_GUARD, audit_records, coverage_command, journal_entries, sandbox_command, write_config

WRITE_OPERATION_IDS = ["PostRefunds", "PostCustomers", "DeleteCustomersCustomer", "PostCustomersCustomer",
                       "PostInvoicesInvoiceFinalize", "DeleteSubscriptionsSubscription", "PostPayouts"]
WRITE_TOOLS = ["create_refund", "create_customer", "cancel_subscription", "update_subscription", "finalize_invoice",
               "update_dispute", "create_payment_link", "stripe_api_write", "send_stripe_mcp_feedback"]


class GuardProcess:
    """A synchronous line client for one long-lived `mcp-guard run`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ping_id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def sync(self, timeout: float = 15) -> list[dict[str, Any]]:
        """Send a ping; return everything answered before it (the ping proves the guard is alive)."""
        self.ping_id += 1
        marker = f"sync-{self.ping_id}"
        self.send(json.dumps({"jsonrpc": "2.0", "id": marker, "method": "ping"}).encode() + b"\n")
        seen = []
        while True:
            message = strict_json(self.lines.get(timeout=timeout).decode("utf-8"))  # strict UTF-8 too: no lone surrogate
            if message.get("id") == marker:
                assert message["result"] == {}
                return seen
            seen.append(message)

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=10)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
request_ids = st.one_of(st.integers(), st.text(max_size=6), st.none(), st.booleans(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))
spellings = st.sampled_from(WRITE_TOOLS).flatmap(
    lambda name: st.sampled_from([name, name.upper(), f" {name} ", name.replace("_", "-"), name.replace("e", "\u0435"), f"{name}\u200b", name.title().replace("_", "")])
)


@st.composite
def write_attempts(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        tool = draw(st.sampled_from(["stripe_api_read", "stripe_api_write", "Stripe_Api_Read", "stripe_api_read "]))
        arguments: Any = {"stripe_api_operation_id": draw(st.sampled_from(WRITE_OPERATION_IDS)), "parameters": draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))}
    else:
        tool = draw(spellings)
        arguments = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    return {"jsonrpc": "2.0", "id": draw(st.integers()), "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


hostile_messages = st.one_of(
    write_attempts(),
    st.builds(lambda i, m, p: {"jsonrpc": "2.0", "id": i, "method": m, "params": p}, request_ids, st.text(max_size=20), json_values),
    st.builds(lambda i, r: {"jsonrpc": "2.0", "id": i, "result": r}, request_ids, json_values),  # responses nobody asked for
    st.builds(lambda i: {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": i}}, request_ids),
    st.builds(lambda m: [m, m], write_attempts()),  # a batch
    json_values,
)
lone_surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
non_finite = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])
unreadable_json = st.one_of(
    st.integers(1, 5000).map(lambda depth: b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":' + b"[" * depth + b"]" * depth + b"}}}"),
    st.builds(lambda bad, i: json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "stripe_api_read", "arguments": {"q": bad}}}).encode(),
              lone_surrogates, request_ids),
    st.builds(lambda bad: json.dumps({"jsonrpc": "2.0", "id": bad, "method": "ping"}).encode(), lone_surrogates),
    st.builds(lambda bad: json.dumps({"jsonrpc": "2.0", "id": 3, "method": bad}).encode(), lone_surrogates),
    st.builds(lambda number, i: f'{{"jsonrpc":"2.0","id":{json.dumps(i)},"method":"tools/call","params":{{"name":"stripe_api_read","arguments":{{"limit":{number}}}}}}}'.encode(),
              non_finite, st.integers()),
)
raw_lines = st.one_of(
    unreadable_json,
    hostile_messages.map(lambda m: json.dumps(m).encode()),
    st.binary(max_size=64).filter(lambda b: b"\n" not in b),
    hostile_messages.map(lambda m: json.dumps(m).encode()[: max(1, len(json.dumps(m)) // 2)]),  # truncated
    st.just(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"pad":"' + b"A" * 70_000 + b'"}}}'),
)


@pytest.fixture(scope="module")
def fuzzed_guard(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fuzz")
    journal = tmp / "journal.jsonl"
    config = write_config(tmp, limits={"max_message_bytes": 65536})
    env = {**os.environ, "MCP_GUARD_LOG_LEVEL": "ERROR", "MCP_GUARD_PSEUDONYM_KEY_FILE": str(tmp / "key")}
    guard = GuardProcess([MCP_GUARD, "run", "--profile", "test", "--config", str(config), "--", *sandbox_command("--journal", str(journal))], env)
    guard.send(json.dumps({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}).encode() + b"\n")
    assert json.loads(guard.lines.get(timeout=30))["id"] == "init"
    yield guard, journal
    guard.close()


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(raw_lines, min_size=1, max_size=4))
def test_fuzzed_input_never_crashes_the_guard_nor_lets_a_write_through(fuzzed_guard, lines: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    guard, journal = fuzzed_guard
    guard.send(b"".join(line + b"\n" for line in lines))
    for answer in guard.sync():
        assert answer.get("jsonrpc") == "2.0"
        if "error" in answer:
            assert isinstance(answer["error"]["code"], int) and answer["error"]["message"]
        elif "result" in answer and isinstance(answer["result"], dict) and "content" in answer["result"]:
            # A tools/call answer: with only writes and junk on offer, it must be a denial or an error.
            assert answer["result"].get("isError") is True, answer
    assert guard.process.poll() is None
    assert journal_entries(journal) == []


upstream_answers = st.one_of(
    st.integers(1, 5000).map(lambda depth: '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[],"x":' + "[" * depth + "]" * depth + "}}"),
    lone_surrogates.map(lambda bad: '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":' + json.dumps(bad) + "}]}}"),
    non_finite.map(lambda number: '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[],"amount":' + number + "}}"),
    json_values.map(lambda value: '{"jsonrpc":"2.0","id":@ID@,"result":' + json.dumps(value) + "}"),
    st.text(max_size=40).filter(lambda text: "\n" not in text and "\r" not in text and text.strip()),  # not JSON, or not ours
)


@pytest.fixture(scope="module")
def guard_before_a_hostile_upstream(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fuzz-upstream")
    config = write_config(tmp, profile=hostile_profile(), upstream={"command": "unused", "request_timeout": 0.3})
    env = {**os.environ, "MCP_GUARD_LOG_LEVEL": "ERROR", "MCP_GUARD_PSEUDONYM_KEY_FILE": str(tmp / "key")}
    guard = GuardProcess([MCP_GUARD, "run", "--profile", "test", "--config", str(config), "--", *hostile_command()], env)
    guard.send(json.dumps({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}).encode() + b"\n")
    assert json.loads(guard.lines.get(timeout=30))["id"] == "init"
    yield guard
    guard.close()


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(answers=st.lists(upstream_answers, min_size=1, max_size=4))
def test_fuzzed_upstream_answers_get_each_call_exactly_one_strict_json_answer(guard_before_a_hostile_upstream, answers: list[str]) -> None:  # type: ignore[no-untyped-def]
    guard = guard_before_a_hostile_upstream
    guard.ping_id += 1
    ids = [f"call-{guard.ping_id}-{index}" for index in range(len(answers))]
    for request_id, line in zip(ids, answers, strict=True):
        guard.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "raw", "arguments": {"line": line}}}).encode() + b"\n")
    fence = f"fence-{guard.ping_id}"  # a hang call: its timeout fires after any timer of the calls above
    guard.send(json.dumps({"jsonrpc": "2.0", "id": fence, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}).encode() + b"\n")
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1].get("id") != fence:
        seen.append(strict_json(guard.lines.get(timeout=15).decode("utf-8")))
    assert sorted(message["id"] for message in seen[:-1]) == sorted(ids)
    assert all("result" in message or isinstance(message["error"]["code"], int) for message in seen)
    assert guard.process.poll() is None


def test_eight_clients_times_500_calls_keep_answers_apart_and_audit_every_request(tmp_path: Path) -> None:
    clients, calls = 8, 500
    config = write_config(tmp_path, profile={"tools": {"echo": {"operation": "read"}}})
    script = tmp_path / "load_client.py"
    script.write_text(LOAD_CLIENT)
    env = {**os.environ, "MCP_GUARD_LOG_LEVEL": "ERROR", "MCP_GUARD_PSEUDONYM_KEY_FILE": str(tmp_path / "key")}
    argv = [MCP_GUARD, "run", "--profile", "test", "--config", str(config), "--", *coverage_command()]
    processes = [
        subprocess.Popen([sys.executable, str(script), str(index), str(calls), json.dumps(argv)], env=env, stdout=subprocess.PIPE, text=True)
        for index in range(clients)
    ]
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * clients, outputs
    assert all(json.loads(output) == {"ok": calls, "mismatched": 0} for output in outputs)

    records = audit_records(tmp_path / "audit")
    echo_records = [r for r in records if r["tool"] == "echo"]
    assert len(echo_records) == clients * calls
    assert len({(r["pid"], r["request_id"]) for r in echo_records}) == clients * calls
    assert len(records) == clients * (calls + 1)  # + one initialize each
    assert verify_audit_dir(tmp_path / "audit").ok


LOAD_CLIENT = r'''
import asyncio, json, sys

async def main(index, calls, argv):
    process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22)
    send = lambda m: process.stdin.write(json.dumps(m).encode() + b"\n")
    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": f"load-{index}", "version": "1"}}})
    assert json.loads(await process.stdout.readline())["id"] == 0
    for i in range(1, calls + 1):  # all at once: the guard sees up to `calls` requests in flight
        send({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": f"client {index} call {i}"}}})
    await process.stdin.drain()
    ok = mismatched = 0
    for _ in range(calls):
        message = json.loads(await process.stdout.readline())
        expected = json.dumps({"text": f"client {index} call {message['id']}"}, sort_keys=True)
        if message.get("result", {}).get("content", [{}])[0].get("text") == expected:
            ok += 1
        else:
            mismatched += 1
    process.stdin.close()
    await process.wait()
    print(json.dumps({"ok": ok, "mismatched": mismatched}))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])))
'''
