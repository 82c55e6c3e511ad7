"""A client that writes requests but does not read its answers cannot make mcp-guard hold them all.

Through `mcp-guard run` as a real process over real pipes: the test writes requests whose answers
add up to far more than `limits.max_client_backlog_bytes`, leaves mcp-guard's stdout unread, and
watches its memory (/proc/PID/status). Then it reads: every request gets exactly one answer and
one audit record, and the chain verifies.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from tests.relay.faults import GuardPopen, bytes_waiting, guard_argv, hostile_command, hostile_profile, initialize_message, wait_until
from tests.relay.harness import MCP_GUARD, audit_records, write_config

BACKLOG_LIMIT = 1024 * 1024
ANSWER_BYTES = 64 * 1024  # an echo's answer is about as large as its request
REQUESTS = 1000  # 64 MiB of answers: what mcp-guard held before it stopped reading
RSS_GROWTH_BOUND = 32 * 1024 * 1024  # the mark, the input buffers, answers in flight, and slack
END_BOUND_SECONDS = 5.0
HOLDING = "the client is not reading its answers"


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def echo(request_id: int) -> bytes:
    params = {"name": "echo", "arguments": {"text": "x" * ANSWER_BYTES}}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).encode() + b"\n"


class StderrLines:
    """mcp-guard's stderr, read all along (a test that stops reading it would test something else)."""

    def __init__(self, guard: GuardPopen) -> None:
        self.text: list[str] = []
        assert guard.process.stderr is not None
        threading.Thread(target=self._read, args=(guard.process.stderr,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.text.append(line.decode(errors="replace"))

    def says(self, words: str) -> bool:
        return any(words in line for line in self.text)


def test_a_client_that_does_not_read_its_answers_holds_bounded_memory_and_then_gets_every_answer(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile(), limits={"max_client_backlog_bytes": BACKLOG_LIMIT})
    guard = GuardPopen(guard_argv(config, hostile_command()), read_stdout=False, stderr=subprocess.PIPE)
    stderr = StderrLines(guard)
    assert guard.process.stdin is not None and guard.process.stdout is not None
    try:
        guard.send(initialize_message())
        guard.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert json.loads(guard.process.stdout.readline())["id"] == "init"
        baseline = rss_bytes(guard.process.pid)
        writer = threading.Thread(target=_write_requests, args=(guard.process.stdin,), daemon=True)
        writer.start()
        peak = baseline

        def held_back_or_all_answered() -> bool:
            nonlocal peak
            peak = max(peak, rss_bytes(guard.process.pid))
            stdin_full = bytes_waiting(guard.process.stdin.fileno()) > 32 * 1024  # type: ignore[union-attr]
            return (stderr.says(HOLDING) and stdin_full) or len(audit_records(tmp_path / "audit")) > REQUESTS

        wait_until(held_back_or_all_answered, seconds=120)
        assert peak - baseline < RSS_GROWTH_BOUND, f"mcp-guard grew by {(peak - baseline) >> 20} MiB for a client that does not read"

        answers = [json.loads(line) for line in _read_lines(guard.process.stdout, REQUESTS)]  # now the client reads
        writer.join(30)
        guard.close_stdin()
        assert guard.process.wait(timeout=10) == 0
    finally:
        guard.kill()
    assert sorted(answer["id"] for answer in answers) == list(range(REQUESTS))
    assert all("result" in answer for answer in answers)
    calls = [r["request_id"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert sorted(calls) == list(range(REQUESTS))
    verify = subprocess.run([MCP_GUARD, "audit", "verify", "--config", str(config), "--profile", "test"], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_client_that_closes_stdin_while_its_requests_are_held_back_ends_within_5_seconds(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile(), limits={"max_client_backlog_bytes": BACKLOG_LIMIT})
    guard = GuardPopen(guard_argv(config, hostile_command()), read_stdout=False, stderr=subprocess.PIPE)
    stderr = StderrLines(guard)
    requests = 40  # 2.5 MiB: more than the mark, and what is held back fits mcp-guard's input buffers
    try:
        guard.send(initialize_message())
        _write_requests(guard.process.stdin, requests)
        wait_until(lambda: stderr.says(HOLDING))
        started = time.monotonic()
        guard.close_stdin()  # and still does not read
        code = guard.process.wait(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        guard.kill()
    assert code == 0 and elapsed < END_BOUND_SECONDS, f"exit {code} after {elapsed:.1f} s"
    calls = [r["request_id"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert sorted(calls) == list(range(requests))


def _write_requests(stdin: object, count: int = REQUESTS) -> None:
    for request_id in range(count):
        stdin.write(echo(request_id))  # type: ignore[attr-defined]
    stdin.flush()  # type: ignore[attr-defined]


def _read_lines(stream: object, count: int) -> list[bytes]:
    return [stream.readline() for _ in range(count)]  # type: ignore[attr-defined]
