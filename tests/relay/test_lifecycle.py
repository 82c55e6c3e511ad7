"""Issue 2, point 3: lifecycle and bad input, through real processes and pipes."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

from tests.relay.harness import (
    FAKE_TEST_KEY,
    RawClient,
    audit_records,
    coverage_command,
    diagnostic_profile,
    probe_command,
    process_alive,
    write_config,
)

pytestmark = pytest.mark.anyio



async def wait_for_pid_file(path: Path) -> int:
    async with asyncio.timeout(10):
        while not path.exists() or not path.read_text():
            await asyncio.sleep(0.02)
    return int(path.read_text())


async def wait_until_dead(pid: int, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("upstream_flags", [(), ("--ignore-stdin-eof",)], ids=["polite-upstream", "stubborn-upstream"])
async def test_closing_stdin_stops_upstream_and_exits_within_5_seconds(tmp_path: Path, upstream_flags: tuple[str, ...]) -> None:
    pid_file = tmp_path / "upstream.pid"
    client = await RawClient.start(write_config(tmp_path, profile=diagnostic_profile()), probe_command("--pid-file", str(pid_file), *upstream_flags))
    try:
        await client.initialize()
        upstream_pid = await wait_for_pid_file(pid_file)
        started = time.monotonic()
        await client.close_stdin()
        assert await client.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
        assert await wait_until_dead(upstream_pid, 1)
    finally:
        await client.aclose()


async def test_sigterm_answers_pending_requests_stops_upstream_and_exits(tmp_path: Path) -> None:
    client = await RawClient.start(write_config(tmp_path, profile=diagnostic_profile()), coverage_command())
    try:
        await client.initialize()
        pending = await client.request("tools/call", {"name": "hang", "arguments": {}})
        await client.call("ping")  # the hang request has certainly reached the upstream
        started = time.monotonic()
        client.process.send_signal(signal.SIGTERM)
        answer = await client.response(pending)
        assert answer["error"]["code"] == -32000
        assert "SIGTERM" in answer["error"]["message"]
        assert await client.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
    finally:
        await client.aclose()
    outcomes = [r["outcome"] for r in audit_records(tmp_path / "audit") if r["tool"] == "hang"]
    assert outcomes == ["cancelled"]


async def test_upstream_death_answers_every_pending_request_with_the_cause_then_exits_nonzero(tmp_path: Path) -> None:
    client = await RawClient.start(write_config(tmp_path, profile=diagnostic_profile()), coverage_command())
    try:
        await client.initialize()
        hanging = await client.request("tools/call", {"name": "hang", "arguments": {}})
        await client.call("ping")
        dying = await client.request("tools/call", {"name": "die", "arguments": {}})
        answers = [await client.response(hanging), await client.response(dying)]
        for answer in answers:
            assert answer["error"]["code"] == -32000
            assert "exited with code 7" in answer["error"]["message"]
        assert "dying on request" in answers[0]["error"]["message"]  # the upstream's last stderr line names the cause
        assert await client.wait(timeout=5) == 3
    finally:
        await client.aclose()
    records = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert sorted(r["outcome"] for r in records) == ["upstream_died", "upstream_died"]


async def test_upstream_that_never_answers_initialize_gets_a_timeout_error(tmp_path: Path) -> None:
    upstream = {"command": "unused", "initialize_timeout": 0.5, "request_timeout": 0.5}
    config = write_config(tmp_path, profile=diagnostic_profile(), upstream=upstream)
    client = await RawClient.start(config, probe_command("--hang-initialize"))
    try:
        started = time.monotonic()
        response = await client.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
        assert response["error"]["code"] == -32001
        assert "did not answer 'initialize' within 0.5 s" in response["error"]["message"]
        assert time.monotonic() - started < 3
    finally:
        await client.aclose()


async def test_request_that_the_upstream_never_answers_times_out(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=diagnostic_profile(), upstream={"command": "unused", "request_timeout": 0.5})
    client = await RawClient.start(config, coverage_command())
    try:
        await client.initialize()
        response = await client.call("tools/call", {"name": "hang", "arguments": {}})
        assert response["error"]["code"] == -32001
        assert (await client.call("ping"))["result"] == {}  # the session survives
    finally:
        await client.aclose()
    assert [r["outcome"] for r in audit_records(tmp_path / "audit") if r["tool"] == "hang"] == ["timeout"]


BAD_LINES = [
    (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo"\n', -32700, None),
    (b'[{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo"}}]\n', -32600, None),
    (b'{"jsonrpc": "1.0", "id": 3, "method": "tools/call"}\n', -32600, 3),
    (b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": [1, 2]}\n', -32600, 4),
    (b'{"jsonrpc": "2.0", "id": {"x": 1}, "method": "tools/call"}\n', -32600, None),
    (b'"just a string"\n', -32600, None),
    (b'\xff\xfe not utf-8\n', -32700, None),
]


@pytest.mark.parametrize(("line", "code", "answer_id"), BAD_LINES, ids=["truncated", "batch", "wrong-version", "array-params", "object-id", "string", "bad-utf8"])
async def test_malformed_input_gets_an_error_and_nothing_reaches_upstream(tmp_path: Path, line: bytes, code: int, answer_id: object) -> None:
    client = await RawClient.start(write_config(tmp_path, profile=diagnostic_profile()), coverage_command())
    try:
        await client.initialize()
        await client.call("ping")
        await client.send_bytes(line)
        answer = await client.receive()
        assert answer["error"]["code"] == code
        assert answer["id"] == answer_id
        last = await client.call("resources/read", {"uri": "coverage://last-request"})
        assert json.loads(last["result"]["contents"][0]["text"])["method"] == "ping"
    finally:
        await client.aclose()


async def test_oversized_message_is_refused_unread_and_the_session_goes_on(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=diagnostic_profile(), limits={"max_message_bytes": 4096})
    client = await RawClient.start(config, coverage_command())
    try:
        await client.initialize()
        huge = {"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x" * 200_000}}}
        await client.send(huge)
        answer = await client.receive()
        assert answer["error"]["code"] == -32600
        assert "exceeds the 4096-byte limit" in answer["error"]["message"]
        echo = await client.call("tools/call", {"name": "echo", "arguments": {"text": "small"}})
        assert echo["result"]["content"][0]["text"] == '{"text": "small"}'
        last = await client.call("resources/read", {"uri": "coverage://last-request"})
        assert "x" * 100 not in last["result"]["contents"][0]["text"]
    finally:
        await client.aclose()
    assert any(r["rule"] == "jsonrpc.framing" for r in audit_records(tmp_path / "audit"))


async def test_upstream_gets_the_key_in_its_environment_and_nothing_else_leaks(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=diagnostic_profile(), upstream={"command": "unused", "env": {"EXTRA_FOR_UPSTREAM": "yes"}})
    client = await RawClient.start(config, probe_command(), env={"CANARY_SECRET": "must-not-leak", "AWS_SECRET_ACCESS_KEY": "nope"})
    try:
        await client.initialize()
        response = await client.call("tools/call", {"name": "environment", "arguments": {}})
    finally:
        await client.aclose()
    seen = json.loads(response["result"]["content"][0]["text"])
    assert seen["environ"]["STRIPE_SECRET_KEY"] == FAKE_TEST_KEY
    assert seen["environ"]["EXTRA_FOR_UPSTREAM"] == "yes"
    assert "CANARY_SECRET" not in seen["environ"] and "AWS_SECRET_ACCESS_KEY" not in seen["environ"]
    assert not any(FAKE_TEST_KEY in arg for arg in seen["argv"])


async def test_key_on_the_upstream_command_line_is_refused_at_start(tmp_path: Path) -> None:
    client = await RawClient.start(write_config(tmp_path), probe_command(f"--api-key={FAKE_TEST_KEY}"))
    try:
        assert await client.wait() == 1
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert "command line" in stderr and FAKE_TEST_KEY not in stderr


async def test_broken_config_is_refused_at_start_naming_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("profiles:\n  test:\n    mode: sandbox\n    audit: {dir: /tmp/x}\n")
    client = await RawClient.start(config, probe_command())
    try:
        assert await client.wait() == 1
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert str(config.name) in stderr and "profiles.test.mode" in stderr


async def test_unwritable_audit_dir_is_refused_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the audit dir's parent should be")
    config = write_config(tmp_path, profile={"audit": {"dir": str(blocker / "audit")}})
    client = await RawClient.start(config, probe_command())
    try:
        assert await client.wait() == 1
        assert "not-a-dir" in await client.stderr_text()
    finally:
        await client.aclose()


def test_no_stray_output_reaches_stdout_from_the_package() -> None:
    """stdout is the wire: library code never prints (the CLI's non-run commands may)."""
    package = Path(__file__).resolve().parents[2] / "mcp_guard"
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if "cli_commands" not in path.parts and path.name not in {"demo.py", "cli.py"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith("print(") and "sys.stderr" not in line
    ]
    assert offenders == []
