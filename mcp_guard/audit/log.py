"""The audit log writer: one JSON line per request, appended by many processes at once.

Every write takes an exclusive flock on the directory's lock file, finds the chain head (cached
with the file size it was read at, re-read only when another process appended), hashes the new
record onto it and appends the whole line with a single os.write on an O_APPEND descriptor. The
line is in the kernel when write() returns, so killing the process afterwards loses nothing;
killing it during the write leaves at most one partial last line, which the next writer cuts off
before appending (the record it held was never acknowledged).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from mcp_guard.audit import layout
from mcp_guard.audit.chain import seal
from mcp_guard.audit.record import AuditRecord, record_fields
from mcp_guard.audit.retention import PruneResult, prune_locked
from mcp_guard.audit.settings import AuditFailureMode, AuditSettings
from mcp_guard.errors import AuditError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _FieldsOnlyFormatter(JsonFormatter):
    """A JsonFormatter that emits only the dict logged as the message (no `message`, `asctime`)."""

    def parse(self) -> list[str]:  # the fields named by `fmt`: none (works on 3.x and 4.x)
        return []


class _LineFormatter:
    """Renders a record dict as one JSON line through python-json-logger."""

    def __init__(self) -> None:
        self._formatter = _FieldsOnlyFormatter(json_ensure_ascii=False)
        self._record = logging.LogRecord("mcp_guard.audit", logging.INFO, "", 0, "", None, None)

    def line(self, fields: dict[str, Any]) -> bytes:
        self._record.msg = fields
        return (self._formatter.format(self._record) + "\n").encode("utf-8")


class AuditLog:
    """An open audit directory for one profile. Thread-safe; safe across processes."""

    def __init__(self, settings: AuditSettings, profile: str, clock: Clock) -> None:
        self.settings = settings
        self.profile = profile
        self.directory = Path(settings.dir).expanduser()
        self._clock = clock
        self._mutex = threading.Lock()  # flock does not exclude threads sharing one descriptor
        self._formatter = _LineFormatter()
        self._pid = os.getpid()
        self._lock_fd: int | None = None
        self._fd: int | None = None  # the day file being appended to
        self._file: Path | None = None
        self._day: date | None = None  # clock day the current file was chosen for
        self._cache: tuple[int, int, str, int] | None = None  # (size, mtime_ns, hash, seq) of _fd
        self._pruned_day: date | None = None
        self.last_prune = PruneResult()  # what the latest prune by this log removed

    @property
    def fails_open(self) -> bool:
        """True when the profile serves requests whose record could not be written."""
        return self.settings.on_failure == AuditFailureMode.ALLOW

    def _open(self) -> PruneResult:
        layout.ensure_dir(self.directory)
        lock_path = self.directory / layout.LOCK_NAME
        try:
            self._lock_fd = layout.open_private(lock_path, os.O_RDWR)
        except OSError as exc:
            raise AuditError(f"cannot open audit lock file {lock_path}: {exc.strerror}") from exc
        return self.prune()

    def prune(self) -> PruneResult:
        """Remove expired day files now (also done at open and on the first write of each UTC day)."""
        with self._mutex:
            if self._lock_fd is None:
                raise AuditError(f"audit log {self.directory} is closed")
            with self._locked():
                return self._prune_now(self._clock())

    def _prune_now(self, now: datetime) -> PruneResult:
        result = self.last_prune = prune_locked(self.directory, self.settings, now)
        self._pruned_day = now.astimezone(timezone.utc).date()
        if self._file is not None and not self._file.exists():
            self._switch(None)
        return result

    def write(self, record: AuditRecord) -> None:
        """Append `record`, chained to the previous one; in the kernel when this returns."""
        with self._mutex:
            if self._lock_fd is None:
                raise AuditError(f"audit log {self.directory} is closed")
            try:
                with self._locked():
                    self._append(record)
            except OSError as exc:
                raise AuditError(self._describe(exc)) from exc
            except (TypeError, ValueError) as exc:  # e.g. a naive timestamp: still fail closed, cleanly
                raise AuditError(f"audit record for {record.method} cannot be encoded: {exc}") from exc

    def _describe(self, exc: OSError) -> str:
        where = exc.filename or self._file or self.directory
        return f"cannot write audit record to {where}: {exc.strerror or exc}"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the directory's flock; re-create the lock file if someone deleted it."""
        lock_path = self.directory / layout.LOCK_NAME
        try:
            while True:
                assert self._lock_fd is not None
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                if os.fstat(self._lock_fd).st_nlink:
                    break
                # A deleted lock file would let a newer process lock a different file: follow it.
                os.close(self._lock_fd)
                self._lock_fd = None
                self._lock_fd = layout.open_private(lock_path, os.O_RDWR)
        except OSError as exc:
            raise AuditError(f"cannot lock audit directory {self.directory}: {exc.strerror}") from exc
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _append(self, record: AuditRecord) -> None:
        now = self._clock()
        today = now.astimezone(timezone.utc).date()
        if today != self._pruned_day:
            self._prune_now(now)
        if today != self._day or self._fd is None:
            self._choose_file(today)
        assert self._fd is not None and self._file is not None
        prev, seq, size = self._head()
        body = record_fields(record, ts=now, pid=self._pid)
        body["seq"] = seq
        body["prev"] = prev
        body, digest = seal(body)
        body["hash"] = digest
        line = self._formatter.line(body)
        self._write_all(line, size)
        stat = os.fstat(self._fd)
        self._cache = (stat.st_size, stat.st_mtime_ns, body["hash"], seq)
        if self.settings.fsync:
            os.fsync(self._fd)

    def _write_all(self, line: bytes, size: int) -> None:
        assert self._fd is not None
        written = 0
        try:
            while written < len(line):
                written += os.write(self._fd, line[written:])
        except OSError:
            if written:  # disk full mid-line: take the fragment back so earlier lines stay clean
                try:
                    os.ftruncate(self._fd, size)
                except OSError:
                    pass
            raise

    def _choose_file(self, today: date) -> None:
        # Never append to a file older than the newest one: the chain runs in file-name order.
        name = layout.day_file_name(today)
        files = layout.list_day_files(self.directory)
        if files and files[-1].name > name:
            name = files[-1].name
        self._switch(self.directory / name)
        self._day = today

    def _switch(self, path: Path | None) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._file, self._cache, self._day = None, None, None, None
        if path is not None:
            try:
                self._fd = layout.open_private(path, os.O_RDWR | os.O_APPEND)
            except OSError as exc:
                raise AuditError(f"cannot open audit file {path}: {exc.strerror}") from exc
            self._file = path

    def _head(self) -> tuple[str, int, int]:
        """(prev, seq, size) for the record about to be appended to the current file."""
        assert self._fd is not None and self._file is not None
        stat = os.fstat(self._fd)
        if stat.st_nlink == 0:
            return self._reopen_deleted()
        if self._cache is not None and self._cache[:2] == (stat.st_size, stat.st_mtime_ns):
            return self._cache[2], self._cache[3] + 1, stat.st_size
        head = layout.read_head(self._fd)
        end = head.end if head is not None else 0
        if end != stat.st_size:  # a writer was killed mid-line: drop its unacknowledged fragment
            os.ftruncate(self._fd, end)
        if head is not None:
            return head.hash, head.seq + 1, end
        prev, seq = self._previous_file_head()
        return prev, seq, 0

    def _reopen_deleted(self) -> tuple[str, int, int]:
        """The day file was deleted under us: never write into the void, and keep the gap visible.

        The deleted inode still holds the true head, so a re-created file chains to it and
        verify reports the missing records instead of a seamless chain.
        """
        assert self._fd is not None and self._file is not None
        lost = layout.read_head(self._fd)
        day = self._day
        self._switch(self._file)
        self._day = day
        assert self._fd is not None
        if lost is not None and os.fstat(self._fd).st_size == 0:
            return lost.hash, lost.seq + 1, 0
        return self._head()

    def _previous_file_head(self) -> tuple[str, int]:
        """Where a new day file's chain starts: the previous day file's last record, or the anchor."""
        assert self._file is not None
        for path in reversed(layout.list_day_files(self.directory)):
            if path.name >= self._file.name:
                continue
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            try:
                head = layout.read_head(fd)
                end = head.end if head is not None else 0
                if end != os.fstat(fd).st_size:
                    os.ftruncate(fd, end)
            finally:
                os.close(fd)
            if head is not None:
                return head.hash, head.seq + 1
        return layout.chain_start(layout.read_anchor(self.directory))

    def close(self) -> None:
        with self._mutex:
            self._switch(None)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_audit_log(settings: AuditSettings, profile: str, *, clock: Clock = utc_now) -> AuditLog:
    """Open (creating 0700) the profile's audit directory and prune expired records.

    Raises AuditError naming the path and the OS reason when the directory cannot be used.
    """
    log = AuditLog(settings, profile, clock)
    try:
        log._open()
    except BaseException:
        log.close()
        raise
    return log
