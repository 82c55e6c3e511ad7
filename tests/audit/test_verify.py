"""`audit verify` catches each kind of tampering, at the right file and line, with exit code 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, open_audit_log, verify_audit_dir
from mcp_guard.audit.chain import link_hash
from mcp_guard.audit.layout import Anchor

DAY1, DAY2, DAY3 = "audit-2026-03-01.jsonl", "audit-2026-03-02.jsonl", "audit-2026-03-03.jsonl"


def _edit_lines(path: Path, change: Callable[[list[bytes]], None]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    change(lines)
    path.write_bytes(b"".join(lines))


def _edit_record(line: bytes, rehash: bool) -> bytes:
    record = json.loads(line)
    record["decision"] = "deny" if record["decision"] == "allow" else "allow"
    if rehash:
        record.pop("hash")
        record["hash"] = link_hash(record["prev"], record)
    return json.dumps(record).encode() + b"\n"


def edit_a_field(d: Path) -> None:
    _edit_lines(d / DAY2, lambda lines: lines.__setitem__(2, _edit_record(lines[2], rehash=False)))


def edit_a_field_and_recompute_its_hash(d: Path) -> None:
    _edit_lines(d / DAY2, lambda lines: lines.__setitem__(2, _edit_record(lines[2], rehash=True)))


def delete_a_line(d: Path) -> None:
    _edit_lines(d / DAY2, lambda lines: lines.pop(2))


def insert_a_line(d: Path) -> None:
    copied = (d / DAY1).read_bytes().splitlines(keepends=True)[1]
    _edit_lines(d / DAY2, lambda lines: lines.insert(2, copied))


def swap_two_lines(d: Path) -> None:
    def swap(lines: list[bytes]) -> None:
        lines[1], lines[2] = lines[2], lines[1]

    _edit_lines(d / DAY2, swap)


def delete_a_middle_day_file(d: Path) -> None:
    (d / DAY2).unlink()


def delete_the_first_day_file(d: Path) -> None:
    (d / DAY1).unlink()


def cut_the_end_of_an_older_file(d: Path) -> None:
    (d / DAY2).write_bytes((d / DAY2).read_bytes()[:-40])


TAMPERING = [
    (edit_a_field, DAY2, 3, "record edited"),
    (edit_a_field_and_recompute_its_hash, DAY2, 4, "prev does not match the hash of audit-2026-03-02.jsonl:3"),
    (delete_a_line, DAY2, 3, "prev does not match"),
    (insert_a_line, DAY2, 3, "prev does not match"),
    (swap_two_lines, DAY2, 2, "prev does not match"),
    (delete_a_middle_day_file, DAY3, 1, "prev does not match the hash of audit-2026-03-01.jsonl:5"),
    (delete_the_first_day_file, DAY2, 1, "the chain's start (no anchor)"),
    (cut_the_end_of_an_older_file, DAY2, 5, "incomplete last line"),
]


@pytest.fixture
def chain(tmp_path, write_days, start) -> Path:
    write_days(tmp_path, start, days=3, per_day=5)
    assert verify_audit_dir(tmp_path).ok
    return tmp_path


@pytest.mark.parametrize(("tamper", "file", "line", "message"), TAMPERING, ids=[t[0].__name__ for t in TAMPERING])
def test_verify_reports_tampering_at_its_file_and_line(chain, run_cli, tamper, file, line, message):
    tamper(chain)
    report = verify_audit_dir(chain)
    assert not report.ok
    first = report.problems[0]
    assert (first.file, first.line) == (file, line)
    assert message in first.message
    result = run_cli("audit", "verify", "--dir", chain)
    assert result.returncode == 1
    assert f"TAMPERED: {chain / file}:{line}: " in result.stdout
    assert "BROKEN" in result.stdout


def test_an_untouched_chain_verifies_with_exit_code_0(chain, run_cli):
    result = run_cli("audit", "verify", "--dir", chain)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("15 records in 3 file(s): OK")


def _prune_first_day(chain: Path, clock_start) -> None:
    clock = lambda: clock_start + timedelta(days=2, hours=1)  # noqa: E731  03-03 13:00
    open_audit_log(AuditSettings(dir=chain, retention_days=1), "test", clock=clock).close()
    assert sorted(p.name for p in chain.glob("audit-*")) == [DAY2, DAY3]
    assert verify_audit_dir(chain).ok


def test_an_edited_anchor_is_reported_at_the_anchor(chain, run_cli, start):
    _prune_first_day(chain, start)
    anchor = json.loads((chain / "anchor.json").read_text())
    anchor["last_seq"] = 2
    (chain / "anchor.json").write_text(json.dumps(anchor))
    report = verify_audit_dir(chain)
    assert [(p.file, p.line) for p in report.problems] == [("anchor.json", None)]
    assert "anchor edited" in report.problems[0].message
    result = run_cli("audit", "verify", "--dir", chain)
    assert result.returncode == 1 and f"TAMPERED: {chain / 'anchor.json'}: " in result.stdout


def test_a_forged_anchor_no_longer_matches_the_first_record(chain, start):
    _prune_first_day(chain, start)
    data = json.loads((chain / "anchor.json").read_text())
    forged = Anchor(**{**{k: data[k] for k in ("file", "last_hash", "last_seq", "records", "pruned_at")}, "last_hash": "f" * 64})
    (chain / "anchor.json").write_text(json.dumps({**forged.body(), "hash": forged.seal()}))
    report = verify_audit_dir(chain)
    assert [(p.file, p.line) for p in report.problems] == [(DAY2, 1)]
    assert "anchor.json (last_hash)" in report.problems[0].message


def test_a_deleted_anchor_is_reported(chain, start):
    _prune_first_day(chain, start)
    (chain / "anchor.json").unlink()
    report = verify_audit_dir(chain)
    assert [(p.file, p.line) for p in report.problems] == [(DAY2, 1)]


def test_a_garbage_line_is_reported_and_the_chain_check_resumes_after_it(chain):
    _edit_lines(chain / DAY3, lambda lines: lines.insert(1, b"not json\n"))
    report = verify_audit_dir(chain)
    assert [(p.file, p.line) for p in report.problems] == [(DAY3, 2), (DAY3, 3)]
    assert "not an audit record" in report.problems[0].message
