"""The line format: one encoding (the canonical JSON the hash covers) with `hash` last, and lines
written by earlier versions (python-json-logger's key order and spacing) still read and verify."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_guard.audit import AuditSettings, open_audit_log, read_records, verify_audit_dir
from mcp_guard.audit.chain import GENESIS, canonical_json, link_hash
from mcp_guard.audit.record import Fields, record_fields


def _lines(directory: Path) -> list[bytes]:
    return [line for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_bytes().splitlines()]


def test_a_line_is_the_canonical_json_it_was_hashed_over_with_the_hash_added_last(tmp_path, make_record, FakeClock, start):
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=FakeClock(start)) as log:
        log.write(make_record(arguments={"é": "ü", "limit": 3}, error="naïve"))
        log.write(make_record())
    for line in _lines(tmp_path):
        record = json.loads(line)
        assert list(record)[-1] == "hash"
        digest = record.pop("hash")
        assert line == (canonical_json(record)[:-1] + f',"hash":"{digest}"}}').encode("utf-8")
        assert digest == link_hash(record["prev"], record)
    assert verify_audit_dir(tmp_path).ok


def test_lines_written_by_earlier_versions_verify_and_the_chain_continues_from_them(tmp_path, make_record, FakeClock, start):
    """Earlier writers encoded each record twice: canonically for the hash, then with python-json-logger
    (insertion order, `", "` and `": "`) for the line. Those lines verify as they are, and new lines
    chain on to them."""
    clock = FakeClock(start)
    (tmp_path / "audit.lock").touch(mode=0o600)
    tmp_path.chmod(0o700)
    prev, old_lines = GENESIS, []
    for seq in (1, 2):
        body = {**record_fields(make_record(request_id=seq), ts=start, pid=4242), "seq": seq, "prev": prev}
        digest = link_hash(prev, body)
        old_lines.append(json.dumps({**body, "hash": digest}, ensure_ascii=False).encode() + b"\n")
        prev = digest
    day_file = tmp_path / "audit-2026-03-01.jsonl"
    day_file.write_bytes(b"".join(old_lines))
    day_file.chmod(0o600)
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=clock) as log:
        log.write(make_record(request_id=3))
    records = [json.loads(line) for line in _lines(tmp_path)]
    assert [r["seq"] for r in records] == [1, 2, 3] and records[2]["prev"] == records[1]["hash"]
    report = verify_audit_dir(tmp_path)
    assert report.ok and report.records == 3, report.problems
    assert [r["request_id"] for r in read_records(tmp_path)] == [1, 2, 3]


def test_a_prepared_record_is_written_with_the_same_fields_as_an_audit_record(tmp_path, make_record, FakeClock, start):
    record = make_record(decision_id="d" * 32, outcome="ok", mode="test")
    prepared = {key: value for key, value in record_fields(record, ts=start, pid=1).items() if key not in ("ts", "pid")}
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=FakeClock(start)) as log:
        log.write(record)
        log.write(Fields(prepared))
    first, second = (json.loads(line) for line in _lines(tmp_path))
    for written in (first, second):
        del written["seq"], written["prev"], written["hash"]
    assert first == second
    assert verify_audit_dir(tmp_path).ok


def test_a_prepared_record_that_cannot_be_encoded_fails_alone_and_is_not_changed(tmp_path, make_record, FakeClock, start):
    from mcp_guard.audit.commit import write_isolated

    good = Fields({"method": "ping", "arguments": None, "decision_id": "a" * 32})
    bad = Fields({"method": "tools/call", "arguments": {"text": "\ud800"}, "decision_id": "b" * 32})  # not Unicode
    after = Fields({"method": "ping", "arguments": None, "decision_id": "c" * 32})
    with open_audit_log(AuditSettings(dir=tmp_path), "test", clock=FakeClock(start)) as log:
        results = write_isolated(log, [good, bad, after])
    assert results[0] is None and results[2] is None and "cannot be encoded" in (results[1] or "")
    assert set(good.values) == {"method", "arguments", "decision_id"}  # the log wrote a copy
    assert [json.loads(line)["decision_id"] for line in _lines(tmp_path)] == ["a" * 32, "c" * 32]
    assert verify_audit_dir(tmp_path).ok
