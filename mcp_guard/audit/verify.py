"""`audit verify`: walk the day files in order and check every link of the hash chain.

What each kind of tampering looks like:
- an edited record: its hash no longer matches its content (reported at that line);
  if the editor recomputed the hash, the next record's `prev` no longer matches;
- a deleted record or day file: the next record's `prev` and `seq` do not follow;
- an inserted or reordered record: `prev` (and usually `seq`) do not follow;
- an edited anchor.json: its own hash fails, or the first record no longer chains to it.
A missing newline on the very last line of the newest file is the record that was being written
when a writer was killed: a warning, not tampering. Verify cannot see records cut from the end of
the newest file, nor a directory emptied together with its anchor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mcp_guard.audit import layout
from mcp_guard.audit.chain import link_hash, raw_line_hash


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class VerifyReport:
    directory: Path
    files: int = 0
    records: int = 0
    problems: list[Finding] = field(default_factory=list)  # tampering or corruption
    warnings: list[Finding] = field(default_factory=list)  # expected after a crash or a killed prune

    @property
    def ok(self) -> bool:
        return not self.problems


class _Walker:
    def __init__(self, report: VerifyReport, prev: str, seq: int | None, origin: str) -> None:
        self.report = report
        self.prev = prev
        self.seq = seq
        self.origin = origin  # what `prev` came from, for messages

    def line(self, name: str, number: int, raw: bytes) -> None:
        problems: list[str] = []
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
            self.report.problems.append(Finding(name, number, "not an audit record (unparseable or no hash)"))
            self.prev, self.seq, self.origin = raw_line_hash(raw), None, f"{name}:{number}"
            return
        self.report.records += 1
        stored = record.pop("hash")
        if link_hash(str(record.get("prev")), record) != stored:
            problems.append("hash does not match the record's content (record edited)")
        if record.get("prev") != self.prev:
            problems.append(f"prev does not match the hash of {self.origin} (a record was deleted, inserted or moved)")
        seq = record.get("seq")
        if self.seq is not None and seq != self.seq:
            problems.append(f"seq is {seq}, expected {self.seq}")
        if problems:
            self.report.problems.append(Finding(name, number, "; ".join(problems)))
        self.prev = stored
        self.seq = seq + 1 if isinstance(seq, int) else None
        self.origin = f"{name}:{number}"


def verify_audit_dir(directory: Path) -> VerifyReport:
    """Check the whole chain of `directory`; never raises for tampering, only reports it."""
    directory = Path(directory).expanduser()
    report = VerifyReport(directory)
    files = layout.list_day_files(directory)
    try:
        anchor = layout.read_anchor(directory)
    except layout.AnchorError as exc:
        report.problems.append(Finding(layout.ANCHOR_NAME, None, str(exc).split(": ", 1)[-1]))
        anchor = None
        start: tuple[str, int | None] = ("", None)  # unknown: the first record cannot be checked
    else:
        start = layout.chain_start(anchor)
    if anchor is not None:
        for path in files:
            if path.name <= anchor.file:
                report.warnings.append(
                    Finding(path.name, None, f"older than {layout.ANCHOR_NAME} (interrupted prune): not checked")
                )
        files = [path for path in files if path.name > anchor.file]
    origin = f"{layout.ANCHOR_NAME} (last_hash)" if anchor is not None else "the chain's start (no anchor)"
    walker = _Walker(report, start[0], start[1], origin)
    unchecked_start = start[0] == ""
    for index, path in enumerate(files):
        report.files += 1
        data = path.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        for number, raw in enumerate(lines, start=1):
            if unchecked_start:
                walker.prev = _prev_of(raw, walker.prev)
                unchecked_start = False
            walker.line(path.name, number, raw)
        if tail:
            finding = Finding(path.name, len(lines) + 1, "incomplete last line (a writer was killed mid-write)")
            if index == len(files) - 1:
                report.warnings.append(finding)
            else:
                report.problems.append(finding)
            walker.prev, walker.seq = raw_line_hash(tail), None
    return report


def _prev_of(raw: bytes, default: str) -> str:
    try:
        value = json.loads(raw).get("prev")
    except (ValueError, AttributeError):
        return default
    return value if isinstance(value, str) else default
