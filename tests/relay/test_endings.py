"""Issue 10, items 7, 8, 10 and 11: every end is bounded, whatever the peers do.

Through `mcp-guard run` as a real process whose pipes the test holds: a client that never reads
stdout, a host that never reads stderr, stdin from /dev/null or a file, `cat requests | mcp-guard`.
Timing assertions are upper bounds only (the 5 s promise); nothing sleeps to synchronise.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.relay.faults import (
    PIPE_FULL_BYTES,
    GuardPopen,
    bytes_waiting,
    guard_argv,
    hostile_command,
    hostile_profile,
    initialize_message,
    wait_until,
)
from tests.relay.harness import audit_records, write_config

END_BOUND_SECONDS = 5.0


def fill_the_clients_pipe(guard: GuardPopen) -> None:
    """Requests whose answers fill mcp-guard's stdout pipe, which the test never reads."""
    guard.send(initialize_message())
    guard.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    guard.request("pending", "tools/call", {"name": "hang", "arguments": {}})
    for index in range(60):
        guard.request(index, "tools/call", {"name": "echo", "arguments": {"text": "x" * 8192}})
    assert guard.process.stdout is not None
    wait_until(lambda: bytes_waiting(guard.process.stdout.fileno()) >= PIPE_FULL_BYTES)  # type: ignore[union-attr]


ENDINGS = ["sigterm", "sigint", "stdin-closed", "upstream-died"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_end_finishes_within_5_seconds_while_the_client_does_not_read(tmp_path: Path, ending: str) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    guard = GuardPopen(guard_argv(config, hostile_command()), read_stdout=False)
    try:
        fill_the_clients_pipe(guard)
        started = time.monotonic()
        if ending == "sigterm":
            guard.process.send_signal(signal.SIGTERM)
        elif ending == "sigint":
            guard.process.send_signal(signal.SIGINT)
        elif ending == "stdin-closed":
            guard.close_stdin()
        else:
            guard.request("die", "tools/call", {"name": "die", "arguments": {}})
        code = guard.process.wait(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        guard.kill()
    assert elapsed < END_BOUND_SECONDS, f"{ending}: {elapsed:.1f} s"
    assert code == (3 if ending == "upstream-died" else 0)
    # The request pending at the end is recorded, though its answer could not be delivered.
    outcomes = [r["outcome"] for r in audit_records(tmp_path / "audit") if r["request_id"] == "pending"]
    assert outcomes == ["upstream_died" if ending == "upstream-died" else "cancelled"]


def test_a_client_that_closes_its_output_ends_the_session(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    guard = GuardPopen(guard_argv(config, hostile_command()), read_stdout=False)
    try:
        guard.send(initialize_message())
        guard.request("pending", "tools/call", {"name": "hang", "arguments": {}})
        assert guard.process.stdout is not None
        guard.process.stdout.close()  # nothing reads it: the pipe's read end is gone
        guard.request("echo", "tools/call", {"name": "echo", "arguments": {"text": "into a closed pipe"}})
        code = guard.process.wait(timeout=END_BOUND_SECONDS)
    finally:
        guard.kill()
    assert code == 0
    outcomes = {r["request_id"]: r["outcome"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"}
    assert outcomes["pending"] == "cancelled" and outcomes["echo"] in ("ok", "cancelled")  # echo: answered into the void, or cut off


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_an_upstream_flooding_stderr_while_nobody_reads_ours_delays_no_answer_and_no_timer(tmp_path: Path, level: str) -> None:
    config = write_config(tmp_path, profile=hostile_profile(), upstream={"command": "unused", "request_timeout": 0.5})
    guard = GuardPopen(guard_argv(config, hostile_command()), stderr=subprocess.PIPE, env={"MCP_GUARD_LOG_LEVEL": level})
    try:
        guard.initialize()
        guard.request("flood", "tools/call", {"name": "flood_stderr", "arguments": {"bytes": 2 * 1024 * 1024}})
        assert guard.answer("flood", timeout=10)["result"]["content"][0]["text"] == "flooding"
        guard.request("hang", "tools/call", {"name": "hang", "arguments": {}})  # while the upstream floods
        started = time.monotonic()
        timed_out = guard.answer("hang", timeout=10)
        assert timed_out["error"]["code"] == -32001 and time.monotonic() - started < 3  # the timer fired on time
        guard.request("ping", "ping")
        assert guard.answer("ping", timeout=5)["result"] == {}
        stderr: list[bytes] = []
        assert guard.process.stderr is not None
        reader = threading.Thread(target=lambda: stderr.append(guard.process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()  # the host starts reading again: what was dropped is counted
        guard.request("ping2", "ping")
        guard.answer("ping2")
        guard.close_stdin()
        assert guard.process.wait(timeout=END_BOUND_SECONDS) == 0
        reader.join(10)
    finally:
        guard.kill()
    text = b"".join(stderr).decode()
    if level == "DEBUG":
        assert "log lines were dropped" in text
    else:
        assert "upstream log line" not in text  # the upstream's stderr is logged at debug level only


def test_an_upstream_that_bursts_40_mb_on_stderr_and_exits_ends_the_session_within_5_seconds(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    guard = GuardPopen(guard_argv(config, hostile_command()), stderr=subprocess.PIPE)
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(guard.process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        guard.initialize()
        guard.request("pending", "tools/call", {"name": "hang", "arguments": {}})
        exit_time = tmp_path / "upstream-exit-time"  # the end starts when the upstream exits, after its burst
        started = time.monotonic()
        guard.request("die", "tools/call", {"name": "die", "arguments": {"stderr_bytes": 40 * 1024 * 1024, "exit_time_file": str(exit_time)}})
        answers = [guard.answer(request_id, timeout=90) for request_id in ("pending", "die")]
        code = guard.process.wait(timeout=60)
        ended = time.monotonic()
        reader.join(10)
    finally:
        guard.kill()
    elapsed = ended - float(exit_time.read_text())
    assert code == 3 and elapsed < END_BOUND_SECONDS, f"exit {code} {elapsed:.1f} s after the upstream's"
    # Draining at reading speed, the burst itself takes seconds; processed at 2 MB/s it took 37-47 s.
    assert ended - started < 30, f"the upstream could only write its stderr for {ended - started:.1f} s"
    assert [answer["error"]["code"] for answer in answers] == [-32000, -32000]
    assert "exited with code 7" in answers[0]["error"]["message"]
    log = b"".join(stderr).decode()
    assert "upstream stderr lines were dropped" in log and "jenny.rosen@example.com" not in log
    outcomes = {r["request_id"]: r["outcome"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"}
    assert outcomes == {"pending": "upstream_died", "die": "upstream_died"}


def test_stdin_from_dev_null_exits_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    started = time.monotonic()
    done = subprocess.run(guard_argv(config, hostile_command()), stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and done.stdout == b""


def test_stdout_to_dev_null_serves_and_exits_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    requests = [initialize_message(), {"jsonrpc": "2.0", "id": "ping", "method": "ping"}]
    done = subprocess.run(guard_argv(config, hostile_command()), input=b"".join(json.dumps(m).encode() + b"\n" for m in requests),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    assert {r["request_id"]: r["outcome"] for r in audit_records(tmp_path / "audit")} == {"init": "ok", "ping": "ok"}


def write_requests(path: Path, *extra: dict[str, Any]) -> Path:
    messages = [initialize_message(), {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    messages += [{"jsonrpc": "2.0", "id": f"echo-{n}", "method": "tools/call", "params": {"name": "echo", "arguments": {"n": n}}} for n in range(3)]
    messages += [{"jsonrpc": "2.0", "id": "ping", "method": "ping"}, *extra]
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def run_from(source: str, requests: Path, argv: list[str]) -> tuple[int, list[dict[str, Any]], float]:
    """mcp-guard fed `requests` through a pipe from `cat`, or straight from the file."""
    started = time.monotonic()
    if source == "cat-pipe":
        cat = subprocess.Popen(["cat", str(requests)], stdout=subprocess.PIPE)
        done = subprocess.run(argv, stdin=cat.stdout, capture_output=True, timeout=30)
        cat.wait()
    else:
        with requests.open("rb") as stdin:
            done = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=30)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], time.monotonic() - started


@pytest.mark.parametrize("source", ["cat-pipe", "regular-file"])
def test_requests_piped_in_are_all_answered_before_the_guard_exits(tmp_path: Path, source: str) -> None:
    config = write_config(tmp_path, profile=hostile_profile())
    code, answers, _ = run_from(source, write_requests(tmp_path / "requests.jsonl"), guard_argv(config, hostile_command()))
    assert code == 0
    assert sorted(a["id"] for a in answers) == ["echo-0", "echo-1", "echo-2", "init", "ping"]
    assert all("result" in a for a in answers)
    echo_records = [r for r in audit_records(tmp_path / "audit") if r["tool"] == "echo"]
    assert [r["outcome"] for r in echo_records] == ["ok"] * 3


def test_a_request_still_unanswered_after_the_eof_grace_is_answered_and_recorded_and_the_guard_exits(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile(), limits={"eof_grace_seconds": 0.5})
    hang = {"jsonrpc": "2.0", "id": "hang", "method": "tools/call", "params": {"name": "hang", "arguments": {}}}
    code, answers, elapsed = run_from("cat-pipe", write_requests(tmp_path / "requests.jsonl", hang), guard_argv(config, hostile_command()))
    assert code == 0 and elapsed < END_BOUND_SECONDS
    [answer] = [a for a in answers if a["id"] == "hang"]
    assert answer["error"]["code"] == -32000 and "did not answer within 0.5 s" in answer["error"]["message"]
    assert len(answers) == 6
    assert [r["outcome"] for r in audit_records(tmp_path / "audit") if r["tool"] == "hang"] == ["cancelled"]
