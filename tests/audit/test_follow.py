"""`audit show --follow`: new records as they are appended, across day files and writer processes."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, Tail, open_audit_log

CLI = Path(sys.executable).with_name("mcp-guard")
LINE_TIMEOUT = 30  # seconds to wait for one expected line: a bound on failure, never a pause


class Follower:
    """`mcp-guard audit show --follow` as a real process; its stdout lines arrive on a queue."""

    def __init__(self, *args: str | Path) -> None:
        self.process = subprocess.Popen(
            [str(CLI), "audit", "show", "--follow", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_lines(self, count: int) -> list[str]:
        got = []
        for _ in range(count):
            try:
                line = self.lines.get(timeout=LINE_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"--follow printed {got} and then nothing for {LINE_TIMEOUT} s")
            assert line is not None, f"--follow exited: {self.process.wait()} {self.process.stderr.read()}"  # type: ignore[union-attr]
            got.append(line)
        return got

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=LINE_TIMEOUT)
        rest = []
        while (line := self.lines.get(timeout=LINE_TIMEOUT)) is not None:
            rest.append(line)
        assert not rest, f"unexpected output after the last record: {rest}"
        return code, self.process.stderr.read()  # type: ignore[union-attr]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _start_writer(writer_script: Path, directory: Path, count: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(writer_script), str(directory), str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_follow_prints_the_records_of_several_writer_processes_as_they_are_appended(tmp_path, make_record, writer_script):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(request_id=0))
    follower = Follower("--dir", tmp_path, "--format", "jsonl")
    try:
        (first,) = follower.next_lines(1)  # the backlog: the follower is reading the directory now
        assert json.loads(first)["request_id"] == 0
        writers = [_start_writer(writer_script, tmp_path, 60) for _ in range(2)]
        for proc in writers:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        printed = [json.loads(line) for line in follower.next_lines(120)]
        for proc in writers:
            proc.communicate(timeout=60)
            assert proc.returncode == 0
        assert sorted((r["pid"], r["request_id"]) for r in printed) == sorted((p.pid, i) for p in writers for i in range(1, 61))
        assert [r["seq"] for r in printed] == list(range(2, 122))  # in chain order, none twice, none missed
        code, stderr = follower.stop(signal.SIGTERM)
    finally:
        follower.kill()
    assert code == 0 and stderr == ""


def test_follow_crosses_the_day_file_rollover_and_filters_and_stops_cleanly_on_sigint(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start)
    log = open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock)
    log.write(make_record(request_id=1, decision="deny", outcome="denied", tool="create_refund"))
    log.write(make_record(request_id=2, decision="deny", outcome="denied", tool="create_refund"))
    log.write(make_record(request_id=3))
    follower = Follower("--dir", tmp_path, "--decision", "deny", "--limit", "1")
    try:
        header, backlog = follower.next_lines(2)
        assert header.split()[:4] == ["TIME", "PROFILE", "CLIENT", "METHOD"]
        assert backlog.startswith("2026-03-01 12:00:00") and "create_refund" in backlog  # --limit 1: only the last
        clock.now = start.replace(hour=23, minute=59, second=59)
        log.write(make_record(request_id=4, decision="deny", outcome="denied", tool="delete_customer"))
        clock.advance(seconds=2)  # the next UTC day: a new day file
        log.write(make_record(request_id=5))
        log.write(make_record(request_id=6, decision="deny", outcome="denied", tool="create_payout"))
        assert sorted(p.name for p in tmp_path.glob("audit-*.jsonl")) == ["audit-2026-03-01.jsonl", "audit-2026-03-02.jsonl"]
        late, next_day = follower.next_lines(2)
        assert late.startswith("2026-03-01 23:59:59") and "delete_customer" in late
        assert next_day.startswith("2026-03-02 00:00:01") and "create_payout" in next_day
        assert header.index("OUTCOME") == backlog.index("denied") == late.index("denied") == next_day.index("denied")  # fixed columns
        code, stderr = follower.stop(signal.SIGINT)
    finally:
        follower.kill()
        log.close()
    assert code == 0 and stderr == ""


def test_a_tail_returns_each_record_once_and_never_a_line_still_being_written(tmp_path):
    path = tmp_path / "audit-2026-03-01.jsonl"
    path.write_bytes(b'{"request_id": 1}\n{"request_id": 2}\n')
    with Tail(tmp_path) as tail:
        assert [r["request_id"] for r in tail.poll()] == [1, 2]
        assert tail.poll() == []
        with open(path, "ab") as handle:
            handle.write(b'{"request_id": 3}\n{"request_')
            handle.flush()
            assert [r["request_id"] for r in tail.poll()] == [3]
            handle.write(b'id": 4}\n')
        assert [r["request_id"] for r in tail.poll()] == [4]


def test_a_tail_moves_to_a_newer_day_file_after_reading_the_older_one_to_its_end(tmp_path):
    day1 = tmp_path / "audit-2026-03-01.jsonl"
    day1.write_bytes(b'{"request_id": 1}\n')
    with Tail(tmp_path) as tail:
        assert [r["request_id"] for r in tail.poll()] == [1]
        with open(day1, "ab") as handle:
            handle.write(b'{"request_id": 2}\n')  # written before the rollover, seen only with it
        (tmp_path / "audit-2026-03-02.jsonl").write_bytes(b'{"request_id": 3}\n')
        (tmp_path / "audit-2026-03-04.jsonl").write_bytes(b'{"request_id": 4}\n')
        assert [r["request_id"] for r in tail.poll()] == [2, 3, 4]


def test_a_tail_reopens_a_day_file_that_was_deleted_and_re_created(tmp_path):
    day = tmp_path / "audit-2026-03-01.jsonl"
    day.write_bytes(b'{"request_id": 1}\n')
    with Tail(tmp_path) as tail:
        assert [r["request_id"] for r in tail.poll()] == [1]
        day.unlink()
        day.write_bytes(b'{"request_id": 2}\n')
        assert [r["request_id"] for r in tail.poll()] == [2]


def test_a_tail_since_a_day_skips_older_day_files(tmp_path, start):
    (tmp_path / "audit-2026-02-27.jsonl").write_bytes(b'{"request_id": 1}\n')
    (tmp_path / "audit-2026-03-01.jsonl").write_bytes(b'{"request_id": 2}\n')
    with Tail(tmp_path, since=start - timedelta(hours=1)) as tail:
        assert [r["request_id"] for r in tail.poll()] == [2]
