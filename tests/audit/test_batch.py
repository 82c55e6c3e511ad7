"""write_batch: one lock, one write, chained in order; all or nothing."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcp_guard.audit import AuditRecordError, AuditSettings, open_audit_log, verify_audit_dir
from mcp_guard.audit import log as log_module
from mcp_guard.errors import AuditError


def _records(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_text().splitlines()]


def test_a_batch_is_chained_in_order_with_one_lock_and_one_write(tmp_path, make_record, monkeypatch):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(request_id=0))
        calls: list[str] = []
        real_write, real_flock = os.write, fcntl.flock
        monkeypatch.setattr(log_module.os, "write", lambda fd, data: calls.append("write") or real_write(fd, data))
        monkeypatch.setattr(log_module.fcntl, "flock", lambda fd, op: calls.append(f"flock {op}") or real_flock(fd, op))
        written = log.write_batch([make_record(request_id=index) for index in range(1, 6)])
        monkeypatch.undo()
    assert calls == [f"flock {fcntl.LOCK_EX}", "write", f"flock {fcntl.LOCK_UN}"]
    records = _records(tmp_path)
    assert [r["request_id"] for r in records] == [0, 1, 2, 3, 4, 5]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(records))
    assert written == records[1:]  # what the listeners get is exactly what the file holds
    assert verify_audit_dir(tmp_path).ok


def test_an_empty_batch_writes_nothing(tmp_path):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        assert log.write_batch([]) == []
    assert not list(tmp_path.glob("audit-*.jsonl"))


def test_a_record_that_cannot_be_encoded_fails_its_batch_naming_it_and_writes_nothing(tmp_path, make_record, start):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(request_id=0))
        naive = start.replace(tzinfo=None)
        with pytest.raises(AuditRecordError) as caught:
            log.write_batch([make_record(request_id=1), make_record(request_id=2, ts=naive), make_record(request_id=3)])
        assert caught.value.index == 1 and "cannot be encoded" in str(caught.value)
        assert log.health() is None  # a bad record is not a failing disk
        log.write(make_record(request_id=4))
    assert [r["request_id"] for r in _records(tmp_path)] == [0, 4]
    assert verify_audit_dir(tmp_path).ok


def test_a_batch_that_fills_the_disk_half_way_leaves_no_record_of_it(tmp_path):
    # RLIMIT_FSIZE makes write() stop part-way (then fail with EFBIG) even for root: a disk that
    # fills up in the middle of the batch. None of its records may remain, not even whole ones.
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log
        from mcp_guard.errors import AuditError
        directory = Path({str(tmp_path)!r})
        log = open_audit_log(AuditSettings(dir=directory), "test")
        record = lambda i: AuditRecord(profile="t", mode="test", method="ping", decision="allow", outcome="ok", request_id=i)
        log.write(record(0))
        (path,) = directory.glob("audit-*.jsonl")
        line = path.stat().st_size
        limit = line * 5 // 2  # room for one and a half more lines
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))  # the soft limit: it can be lifted again
        try:
            log.write_batch([record(1), record(2), record(3)])
        except AuditError as exc:
            print("refused:", exc)
        print("health:", log.health())
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        log.write(record(4))
        print("health:", log.health())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    refused, unhealthy, healthy = result.stdout.splitlines()
    assert refused.startswith("refused: cannot write audit record to ") and "File too large" in refused
    assert unhealthy.startswith("health: cannot write audit record to ") and "File too large" in unhealthy
    assert healthy == "health: None"
    assert [r["request_id"] for r in _records(tmp_path)] == [0, 4]
    report = verify_audit_dir(tmp_path)
    assert report.ok and not report.warnings and report.records == 2


def test_a_failed_write_fails_every_record_of_the_batch_with_the_path_and_reason(tmp_path, make_record):
    directory = tmp_path / "audit"
    log = open_audit_log(AuditSettings(dir=directory), "test")
    log.write(make_record())
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    with pytest.raises(AuditError, match=str(directory)) as caught:
        log.write_batch([make_record(), make_record()])
    assert not isinstance(caught.value, AuditRecordError)
    log.close()
