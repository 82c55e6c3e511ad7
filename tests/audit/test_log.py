"""The writer: line format, chain fields, permissions and failing closed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, open_audit_log, verify_audit_dir
from mcp_guard.audit.chain import GENESIS, link_hash
from mcp_guard.errors import AuditError


def _records(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_text().splitlines()]


def test_each_write_appends_one_json_line_with_every_field_of_the_record(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start)
    with open_audit_log(AuditSettings(dir=tmp_path / "a"), "test", clock=clock) as log:
        log.write(make_record(tool="retrieve_customer", decision="deny", outcome="denied", error="blocked"))
    (line,) = (tmp_path / "a" / "audit-2026-03-01.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["ts"] == "2026-03-01T12:00:00.000000Z"
    assert record["tool"] == "retrieve_customer"
    assert record["decision"] == "deny" and record["outcome"] == "denied" and record["error"] == "blocked"
    assert record["client"] == {"name": "pytest", "version": "1.0"}
    assert record["redactions"] == {"email": 1}
    assert record["pid"] == os.getpid()
    assert len(record["decision_id"]) == 32
    assert record["seq"] == 1 and record["prev"] == GENESIS
    assert "message" not in record  # python-json-logger's default field is not emitted
    stored = record.pop("hash")
    assert stored == link_hash(GENESIS, record)


def test_records_chain_to_the_previous_record_and_across_days(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start)
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock) as log:
        log.write(make_record())
        log.write(make_record())
        clock.advance(days=1)
        log.write(make_record())
    first, second, third = _records(tmp_path)
    assert second["prev"] == first["hash"] and third["prev"] == second["hash"]
    assert [r["seq"] for r in (first, second, third)] == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.glob("audit-*")) == ["audit-2026-03-01.jsonl", "audit-2026-03-02.jsonl"]


def test_a_clock_that_steps_back_keeps_appending_to_the_newest_file(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start + timedelta(days=1))
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock) as log:
        log.write(make_record())
        clock.advance(days=-1)
        log.write(make_record())
    assert [p.name for p in tmp_path.glob("audit-*")] == ["audit-2026-03-02.jsonl"]
    assert verify_audit_dir(tmp_path).ok


def test_a_given_timestamp_is_kept_and_stored_in_utc(tmp_path, make_record):
    moment = datetime(2026, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(ts=moment))
    assert _records(tmp_path)[0]["ts"] == "2026-05-01T12:30:00.000000Z"


def test_arguments_that_are_not_plain_json_still_verify(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(arguments={"ids": ("cus_1", "cus_2"), "when": datetime(2026, 1, 1), 3: "x", "ü": "ß"}))
    (record,) = _records(tmp_path)
    assert record["arguments"]["ids"] == ["cus_1", "cus_2"] and record["arguments"]["ü"] == "ß"
    assert verify_audit_dir(tmp_path).ok


def test_files_are_0600_and_the_directory_is_0700_whatever_the_umask(tmp_path, make_record, FakeClock, start):
    directory = tmp_path / "audit"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    old = os.umask(0)
    try:
        clock = FakeClock(start)
        with open_audit_log(AuditSettings(dir=directory, retention_days=1), "test", clock=clock) as log:
            log.write(make_record())
            clock.advance(days=3)
            log.write(make_record())  # prunes the first day, which writes anchor.json
        nested = tmp_path / "x" / "y"
        open_audit_log(AuditSettings(dir=nested), "test").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(nested.stat().st_mode) == 0o700
    names = sorted(p.name for p in directory.iterdir())
    assert names == ["anchor.json", "audit-2026-03-04.jsonl", "audit.lock"]
    for name in names:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name


def test_an_unusable_directory_fails_at_open_naming_the_path(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    target = blocker / "audit"  # fails even for root: the parent is a regular file
    with pytest.raises(AuditError) as caught:
        open_audit_log(AuditSettings(dir=target), "test")
    assert str(target) in str(caught.value) and "Not a directory" in str(caught.value)


def test_a_record_that_cannot_be_written_raises_naming_the_file(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start)
    (tmp_path / "audit-2026-03-01.jsonl").mkdir()  # the day file's path is taken by a directory
    log = open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock)
    with pytest.raises(AuditError) as caught:
        log.write(make_record())
    assert "audit-2026-03-01.jsonl" in str(caught.value)
    log.close()


def test_a_full_disk_raises_and_leaves_no_partial_line(tmp_path, writer_script):
    # RLIMIT_FSIZE makes write() fail with EFBIG even for root: a stand-in for a full disk.
    script = textwrap.dedent(
        f"""
        import resource, signal, sys, os
        from pathlib import Path
        from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log
        from mcp_guard.errors import AuditError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        log = open_audit_log(AuditSettings(dir=Path({str(tmp_path)!r})), "test")
        record = lambda pad: AuditRecord(profile="t", mode="test", method="ping", decision="allow", outcome="ok", arguments=pad)
        log.write(record("small"))
        size = sum(p.stat().st_size for p in Path({str(tmp_path)!r}).glob("audit-*"))
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 200, size + 200))
        try:
            log.write(record("x" * 5000))
        except AuditError as exc:
            print("refused:", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: cannot write audit record to ") and "File too large" in result.stdout
    (path,) = tmp_path.glob("audit-*.jsonl")
    assert path.read_bytes().count(b"\n") == 1 and path.read_bytes().endswith(b"\n")
    report = verify_audit_dir(tmp_path)
    assert report.ok and not report.warnings and report.records == 1


def test_a_closed_log_refuses_to_write(tmp_path, make_record):
    log = open_audit_log(AuditSettings(dir=tmp_path), "test")
    log.close()
    with pytest.raises(AuditError, match="closed"):
        log.write(make_record())


def test_on_failure_defaults_to_deny(tmp_path):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        assert not log.fails_open
    with open_audit_log(AuditSettings(dir=tmp_path, on_failure="allow"), "test") as log:
        assert log.fails_open


def test_threads_and_two_logs_in_one_process_keep_one_chain(tmp_path, make_record):
    logs = [open_audit_log(AuditSettings(dir=tmp_path), "test") for _ in range(2)]

    def work(log, n):
        for index in range(n):
            log.write(make_record(request_id=index))

    threads = [threading.Thread(target=work, args=(logs[i % 2], 150)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()
    report = verify_audit_dir(tmp_path)
    assert report.ok, report.problems
    assert report.records == 600
    assert [r["seq"] for r in _records(tmp_path)] == list(range(1, 601))


def test_a_day_file_deleted_while_running_is_recreated_and_the_gap_is_reported(tmp_path, make_record, FakeClock, start):
    clock = FakeClock(start)
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock) as log:
        log.write(make_record())
        clock.advance(days=1)
        log.write(make_record())
        (tmp_path / "audit-2026-03-02.jsonl").unlink()
        log.write(make_record())  # not into the deleted file, where it would be lost
    records = _records(tmp_path)
    assert [r["seq"] for r in records] == [1, 3]
    report = verify_audit_dir(tmp_path)
    assert not report.ok  # the deleted record is still visible as a gap
    assert [(p.file, p.line) for p in report.problems] == [("audit-2026-03-02.jsonl", 1)]


def test_a_directory_removed_while_running_fails_the_next_write(tmp_path, make_record):
    directory = tmp_path / "audit"
    log = open_audit_log(AuditSettings(dir=directory), "test")
    log.write(make_record())
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    with pytest.raises(AuditError, match=str(directory)):
        log.write(make_record())
    log.close()


def test_a_deleted_lock_file_is_recreated_so_writers_still_exclude_each_other(tmp_path, make_record):
    first = open_audit_log(AuditSettings(dir=tmp_path), "test")
    first.write(make_record())
    (tmp_path / "audit.lock").unlink()
    second = open_audit_log(AuditSettings(dir=tmp_path), "test")  # creates a new lock file
    for _ in range(3):
        first.write(make_record())
        second.write(make_record())
    first.close()
    second.close()
    assert os.stat(tmp_path / "audit.lock").st_nlink == 1
    assert verify_audit_dir(tmp_path).ok


def test_a_record_that_cannot_be_encoded_raises_an_audit_error(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log, pytest.raises(AuditError, match="cannot be encoded"):
        log.write(make_record(ts=datetime(2026, 1, 1)))  # naive: which zone would it be?
    assert not list(tmp_path.glob("audit-*.jsonl")) or verify_audit_dir(tmp_path).records == 0


def test_a_record_carries_the_stripe_operation_id_and_the_policy_version(tmp_path, make_record):
    policy = "5e" * 32
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(tool="stripe_api_read", operation_id="GetCustomersCustomer", policy_sha256=policy))
        log.write(make_record())
    first, second = _records(tmp_path)
    assert first["operation_id"] == "GetCustomersCustomer" and first["policy_sha256"] == policy
    assert second["operation_id"] is None and second["policy_sha256"] is None
    assert verify_audit_dir(tmp_path).ok


def test_a_prune_that_fails_while_writing_only_warns_and_the_record_is_written(tmp_path, make_record, FakeClock, start, caplog):
    clock = FakeClock(start)
    with open_audit_log(AuditSettings(dir=tmp_path, retention_days=1), "test", clock=clock) as log:
        log.write(make_record(request_id=1))
        clock.advance(days=3)
        (tmp_path / "anchor.json").mkdir()  # the new anchor cannot replace a directory
        log.write(make_record(request_id=2))  # the first record of a new day prunes first
        assert log.prune_error is not None and "cannot prune audit directory" in log.prune_error
    assert "cannot prune audit directory" in caplog.text
    assert sorted(p.name for p in tmp_path.glob("audit-*.jsonl")) == ["audit-2026-03-01.jsonl", "audit-2026-03-04.jsonl"]
    assert not list(tmp_path.glob(".anchor.json.*")), "the anchor's temp file was left behind"
    assert [r["request_id"] for r in _records(tmp_path)] == [1, 2]
