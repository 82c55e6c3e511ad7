"""Real writer processes: concurrent appends, and SIGKILL at arbitrary moments."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from mcp_guard.audit import AuditSettings, open_audit_log, verify_audit_dir


def _start(writer_script: Path, directory: Path, count: int, pad: int = 0) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(writer_script), str(directory), str(count), str(pad)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    threading.Timer(120, proc.kill).start()  # a hung writer fails the test instead of hanging it
    assert proc.stdout.readline() == "ready\n", proc.stderr.read()
    return proc


def _complete_records(directory: Path) -> list[dict]:
    records = []
    for path in sorted(directory.glob("audit-*.jsonl")):
        data = path.read_bytes()
        for line in data.split(b"\n")[:-1]:
            records.append(json.loads(line))
    return records


def test_four_writer_processes_append_whole_lines_to_one_chain(tmp_path, writer_script):
    writers = [_start(writer_script, tmp_path, 300) for _ in range(4)]
    for proc in writers:  # all four are open and waiting: start them together
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.split()[-1] == "300"
    records = _complete_records(tmp_path)  # json.loads on every line: an interleaved line fails here
    assert len(records) == 1200
    assert [r["seq"] for r in records] == list(range(1, 1201))
    by_pid = Counter(r["pid"] for r in records)
    assert sorted(by_pid.values()) == [300, 300, 300, 300]
    for pid in by_pid:
        assert [r["request_id"] for r in records if r["pid"] == pid] == list(range(1, 301))
    switches = sum(1 for a, b in itertools.pairwise(records) if a["pid"] != b["pid"])
    assert switches > 3, "the writers never overlapped: the test did not exercise concurrency"
    report = verify_audit_dir(tmp_path)
    assert report.ok and not report.warnings, report.problems
    assert report.records == 1200


def test_sigkill_at_any_moment_loses_at_most_the_record_in_flight(tmp_path, writer_script):
    rng = random.Random(20261122)
    acknowledged: dict[int, int] = {}  # pid -> last request_id whose write() had returned
    for round_ in range(8):
        pad = 300_000 if round_ % 2 else 0  # big lines span many pages: a kill can land mid-write
        proc = _start(writer_script, tmp_path, 0, pad)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        target = rng.randint(1, 40)
        for _ in range(target):
            last = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        acknowledged[proc.pid] = last

        report = verify_audit_dir(tmp_path)
        assert report.ok, [str(p) for p in report.problems]
        assert len(report.warnings) <= 1
        assert all("incomplete last line" in w.message for w in report.warnings)
        records = _complete_records(tmp_path)
        for pid, last_acked in acknowledged.items():
            written = [r["request_id"] for r in records if r["pid"] == pid]
            assert written[:last_acked] == list(range(1, last_acked + 1)), f"round {round_}: an acknowledged record was lost"
    # The next writer cuts off any fragment and the whole directory verifies cleanly.
    proc = _start(writer_script, tmp_path, 1)
    proc.communicate("go\n", timeout=60)
    report = verify_audit_dir(tmp_path)
    assert report.ok and not report.warnings
    assert report.records == len(_complete_records(tmp_path)) >= sum(acknowledged.values()) + 1


def test_a_fragment_left_by_a_killed_writer_is_a_warning_and_the_next_writer_removes_it(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record())
        log.write(make_record())
    (path,) = tmp_path.glob("audit-*.jsonl")
    with open(path, "ab") as handle:
        handle.write(b'{"ts": "2026-03-01T12:00:00.000000Z", "profile": "te')
    report = verify_audit_dir(tmp_path)
    assert report.ok
    assert [(w.file, w.line) for w in report.warnings] == [(path.name, 3)]
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record())
    report = verify_audit_dir(tmp_path)
    assert report.ok and not report.warnings and report.records == 3
