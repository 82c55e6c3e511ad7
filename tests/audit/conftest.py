"""Shared helpers for the audit tests: a settable clock, records, and a subprocess writer."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mcp_guard.audit import AuditRecord, AuditSettings, Outcome, open_audit_log

WRITER = Path(__file__).with_name("writer_process.py")
CLI = Path(sys.executable).with_name("mcp-guard")


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_record(**fields: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "profile": "test",
        "mode": "test",
        "client": {"name": "pytest", "version": "1.0"},
        "request_id": 1,
        "method": "tools/call",
        "tool": "list_customers",
        "operation": "list",
        "decision": "allow",
        "rule": "allowed_operations",
        "reason": "list is allowed",
        "arguments": {"limit": 3},
        "outcome": Outcome.OK,
        "duration_ms": 4.2,
        "result_bytes": 120,
        "redactions": {"email": 1},
        "upstream": "node",
        "key_fingerprint": "fp:1234abcd",
    }
    values.update(fields)
    return AuditRecord(**values)


def write_days(directory: Path, start: datetime, days: int, per_day: int, retention_days: int = 365) -> FakeClock:
    """Write `per_day` records on each of `days` consecutive UTC days starting at `start`."""
    clock = FakeClock(start)
    log = open_audit_log(AuditSettings(dir=directory, retention_days=retention_days), "test", clock=clock)
    try:
        for day in range(days):
            for index in range(per_day):
                log.write(make_record(request_id=day * 100 + index))
                clock.advance(minutes=1)
            if day < days - 1:
                clock.now = clock.now.replace(hour=12, minute=0) + timedelta(days=1)
    finally:
        log.close()
    return clock


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def run_cli(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=60)


# Test modules are imported with --import-mode=importlib and cannot import this file: the
# helpers reach them as fixtures.


@pytest.fixture
def start() -> datetime:
    """Noon on an arbitrary UTC day: the fake clocks start here."""
    return datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(name="FakeClock")
def _fake_clock() -> type[FakeClock]:
    return FakeClock


@pytest.fixture(name="make_record")
def _make_record() -> Any:
    return make_record


@pytest.fixture(name="write_days")
def _write_days() -> Any:
    return write_days


@pytest.fixture(name="lines_of")
def _lines_of() -> Any:
    return lines_of


@pytest.fixture(name="run_cli")
def _run_cli() -> Any:
    return run_cli


@pytest.fixture
def writer_script() -> Path:
    return WRITER
