"""Retention: remove whole day files that are past `retention_days` (or over `max_bytes`).

A day file is removed once its whole day is older than `retention_days`: a record written at
23:59 on day D lives until D + 1 + retention_days, so nothing younger than the retention is
removed. The optional size cap removes further whole files, oldest first, but never today's (or a
newer) file: the directory may stay above the cap when today's file alone exceeds it.
Before anything is removed, anchor.json records the last hash of the newest removed file, so the
chain of what remains still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from mcp_guard.audit import layout
from mcp_guard.audit.record import format_ts
from mcp_guard.audit.settings import AuditSettings
from mcp_guard.errors import AuditError


@dataclass(frozen=True)
class PruneResult:
    removed: list[str] = field(default_factory=list)  # file names, oldest first
    freed_bytes: int = 0
    anchor: layout.Anchor | None = None  # the anchor written, if any


def is_expired(name: str, now: datetime, retention_days: int) -> bool:
    day = layout.day_of(name)
    if day is None:
        return False
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)
    return now - day_end >= timedelta(days=retention_days)


def _select(files: list[Path], settings: AuditSettings, now: datetime) -> tuple[list[Path], list[Path]]:
    """(leftovers of an interrupted prune, files to remove now), each oldest first."""
    try:
        anchor = layout.read_anchor(files[0].parent) if files else None
    except layout.AnchorError:
        anchor = None  # prune never follows the old anchor; verify reports the edit
    today_name = layout.day_file_name(now.astimezone(timezone.utc).date())
    leftovers = [path for path in files if anchor is not None and path.name <= anchor.file]
    kept = [path for path in files if path not in leftovers]
    chosen = [
        path for path in kept if path.name < today_name and is_expired(path.name, now, settings.retention_days)
    ]
    if settings.max_bytes is not None:
        kept = [path for path in kept if path not in chosen]
        total = sum(_size(path) for path in kept)
        for path in kept:
            if total <= settings.max_bytes or path.name >= today_name:
                break
            chosen.append(path)
            total -= _size(path)
    return leftovers, sorted(chosen)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _anchor_for(removed: list[Path], now: datetime) -> layout.Anchor | None:
    """The anchor after removing `removed`: the newest removed record, named after the newest file."""
    for path in reversed(removed):
        head = layout.read_file_head(path)
        if head is None:
            continue
        with open(path, "rb") as handle:
            records = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return layout.Anchor(
            file=removed[-1].name, last_hash=head.hash, last_seq=head.seq, records=records, pruned_at=format_ts(now)
        )
    return None


def prune_locked(directory: Path, settings: AuditSettings, now: datetime) -> PruneResult:
    """Prune `directory`; the caller holds the directory's lock."""
    try:
        leftovers, expired = _select(layout.list_day_files(directory), settings, now)
        if not leftovers and not expired:
            return PruneResult()
        anchor = _anchor_for(expired, now)
        if anchor is not None:
            layout.write_anchor(directory, anchor)
        # Oldest first: a prune killed half-way leaves the anchor's own file, whose chain still matches.
        removed = leftovers + expired
        freed = 0
        for path in removed:
            freed += _size(path)
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot prune audit directory {directory}: {exc.strerror or exc} ({exc.filename})") from exc
    return PruneResult(removed=[path.name for path in removed], freed_bytes=freed, anchor=anchor)
