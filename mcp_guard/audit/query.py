"""Reading records back for `audit show`: filters and a terminal table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from mcp_guard.audit import layout

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """`2h`, `30m`, `7d`, `1w`, an ISO date (UTC midnight) or an ISO date-time (UTC if no zone)."""
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: expected e.g. 2h, 7d, 2026-11-20 or 2026-11-20T08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_POLICY_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")


def parse_policy_prefix(text: str) -> str:
    """A policy hash or its prefix (at least 8 hex digits), lower-cased; ValueError otherwise."""
    prefix = text.strip().lower().removeprefix("sha256:")
    if not _POLICY_PREFIX.match(prefix):
        raise ValueError(f"--policy {text!r}: expected at least 8 hex digits of the config's sha256")
    return prefix


@dataclass(frozen=True)
class RecordFilter:
    profile: str | None = None
    tool: str | None = None
    decision: str | None = None
    method: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    policy: str | None = None  # a prefix of policy_sha256 (see parse_policy_prefix)

    def matches(self, record: dict[str, Any]) -> bool:
        for name in ("profile", "tool", "decision", "method", "outcome"):
            wanted = getattr(self, name)
            if wanted is not None and record.get(name) != wanted:
                return False
        if self.policy is not None:
            version = record.get("policy_sha256")
            if not isinstance(version, str) or not version.lower().startswith(self.policy):
                return False
        if self.since is not None:
            moment = parse_ts(record.get("ts"))
            if moment is None or moment < self.since:
                return False
        return True


def read_records(directory: Path, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every parseable record of `directory`, oldest first; skips files that end before `since`."""
    first_day = since.astimezone(timezone.utc).date() if since is not None else None
    for path in layout.list_day_files(Path(directory).expanduser()):
        day = layout.day_of(path.name)
        if first_day is not None and day is not None and day < first_day:
            continue
        with open(path, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    continue  # a write in flight or interrupted
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record


def select(records: Iterable[dict[str, Any]], where: RecordFilter, limit: int | None = None) -> list[dict[str, Any]]:
    """The matching records, oldest first; with `limit`, only the most recent `limit`."""
    matched = [record for record in records if where.matches(record)]
    return matched[-limit:] if limit else matched


_COLUMNS = ("time", "profile", "client", "method", "tool", "operation", "operation_id", "decision", "rule", "outcome", "ms")
_MAX_WIDTH = {"client": 20, "rule": 36, "tool": 28, "method": 24, "operation_id": 40}
# `--follow` prints rows as they come, so it cannot measure them first: these widths are fixed.
_FOLLOW_WIDTH = {
    "time": 19, "profile": 8, "client": 14, "method": 14, "tool": 22, "operation": 9,
    "operation_id": 28, "decision": 8, "rule": 28, "outcome": 13, "ms": 8,
}


def _cells(record: dict[str, Any], widths: dict[str, int]) -> list[str]:
    moment = parse_ts(record.get("ts"))
    when = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if moment else str(record.get("ts"))
    duration = record.get("duration_ms")
    client = record.get("client")
    values = {
        "time": when,
        "profile": record.get("profile"),
        "client": client.get("name") if isinstance(client, dict) else None,
        "method": record.get("method"),
        "tool": record.get("tool"),
        "operation": record.get("operation"),
        "operation_id": record.get("operation_id"),
        "decision": record.get("decision"),
        "rule": record.get("rule"),
        "outcome": record.get("outcome"),
        "ms": f"{duration:.1f}" if isinstance(duration, (int, float)) else "",
    }
    cells = []
    for column in _COLUMNS:
        text = "-" if values[column] is None else str(values[column])
        limit = widths.get(column)
        if limit and len(text) > limit:
            text = text[: limit - 1] + "…"
        cells.append(text)
    return cells


def _join(row: list[str], widths: list[int]) -> str:
    padded = [cell.rjust(width) if column == "ms" else cell.ljust(width) for cell, width, column in zip(row, widths, _COLUMNS, strict=True)]
    return "  ".join(padded).rstrip()


def format_table(records: list[dict[str, Any]]) -> str:
    """A table whose columns fit the records (UTC times); an empty selection says so."""
    if not records:
        return "no matching audit records"
    rows = [[column.upper() for column in _COLUMNS]] + [_cells(record, _MAX_WIDTH) for record in records]
    widths = [max(len(row[index]) for row in rows) for index in range(len(_COLUMNS))]
    return "\n".join(_join(row, widths) for row in rows)


def format_follow_header() -> str:
    """The header of the fixed-width table `--follow` prints (see format_follow_rows)."""
    return _join([column.upper() for column in _COLUMNS], [_FOLLOW_WIDTH[column] for column in _COLUMNS])


def format_follow_rows(records: list[dict[str, Any]]) -> str:
    """One fixed-width line per record, each ending in a newline ("" for no records)."""
    widths = [_FOLLOW_WIDTH[column] for column in _COLUMNS]
    return "".join(_join(_cells(record, _FOLLOW_WIDTH), widths) + "\n" for record in records)


def format_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
