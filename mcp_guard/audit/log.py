"""The audit log writer: one JSON line per request, appended by many processes at once.

A line is the record's canonical JSON (keys sorted, compact: exactly what its hash covers) with
`hash` added as the last member, so each record is encoded once. Lines written by earlier
versions (python-json-logger's key order and spacing) read and verify the same way: `audit
verify` re-encodes every record canonically before hashing it.

Every write takes an exclusive flock on the directory's lock file, finds the chain head (cached
with the file size it was read at, re-read only when another process appended), hashes the new
records onto it and appends all their lines with a single os.write on an O_APPEND descriptor
(`write_batch`; `write` is a batch of one). The lines are in the kernel when the call returns
(and on disk, with `audit.fsync`), so killing the process afterwards loses nothing; killing it
during the write leaves at most one partial last line, which the next writer cuts off before
appending (the records it held were never acknowledged). A write that fails leaves no byte of
its batch behind.

Pruning is housekeeping: when it fails (a full disk cannot take the new anchor, say) the log
says so on stderr and keeps writing; `prune()` called directly still raises.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from mcp_guard.audit import layout
from mcp_guard.audit.chain import seal_line
from mcp_guard.audit.health import probe_directory
from mcp_guard.audit.record import AuditRecord, Fields, format_ts, record_fields
from mcp_guard.audit.retention import PruneResult, prune_locked
from mcp_guard.audit.settings import AuditFailureMode, AuditSettings
from mcp_guard.errors import AuditError

Clock = Callable[[], datetime]
Listener = Callable[[Sequence[Mapping[str, Any]]], None]

logger = logging.getLogger("mcp_guard")

PROBE_INTERVAL_S = 0.5  # health(): how often the disk is probed, healthy or not


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AuditRecordError(AuditError):
    """One record of a batch cannot be encoded; nothing of the batch was written."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index  # the record's position in the batch


class AuditLog:
    """An open audit directory for one profile. Thread-safe; safe across processes."""

    def __init__(self, settings: AuditSettings, profile: str, clock: Clock, probe_interval: float = PROBE_INTERVAL_S) -> None:
        self.settings = settings
        self.profile = profile
        self.directory = Path(settings.dir).expanduser()
        self._lock_path = self.directory / layout.LOCK_NAME
        self._clock = clock
        self._mutex = threading.Lock()  # flock does not exclude threads sharing one descriptor
        self._pid = os.getpid()
        self._lock_fd: int | None = None  # None while closed, or after the lock file vanished (re-opened on the next write)
        self._closed = False
        self._fd: int | None = None  # the day file being appended to
        self._file: Path | None = None
        self._day: date | None = None  # clock day the current file was chosen for
        self._cache: tuple[int, int, str, int] | None = None  # (size, mtime_ns, hash, seq) of _fd
        self._pruned_day: date | None = None
        self._listeners: list[Listener] = []
        self._failed_listeners: set[int] = set()  # index of listeners already reported as failing
        # health(): read on the event loop while a worker thread may write; each is one attribute
        # assignment, so no lock is needed.
        self._failure: str | None = None  # why the last write failed for an OS reason
        self._probe_interval_ns = int(probe_interval * 1e9)
        self._next_probe_ns = 0  # the first health() probes
        self._size_hint = 0  # the day file's size after our last write: what RLIMIT_FSIZE is checked against
        self.last_prune = PruneResult()  # what the latest prune by this log removed
        self.prune_error: str | None = None  # why the latest prune failed, if it did

    @property
    def fails_open(self) -> bool:
        """True when the profile serves requests whose record could not be written."""
        return self.settings.on_failure == AuditFailureMode.ALLOW

    def _open(self) -> None:
        layout.ensure_dir(self.directory)
        try:
            self._lock_fd = layout.open_private(self._lock_path, os.O_RDWR)
        except OSError as exc:
            raise AuditError(f"cannot open audit lock file {self._lock_path}: {exc.strerror}") from exc
        with self._mutex, self._locked():
            self._prune_quietly(self._clock())

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(records)` with the fields of each batch once it is written (durably, with fsync).

        `records` are the lines as written (chain fields included). Called on the writing thread,
        outside the lock; an exception is logged once and never fails a write.
        """
        self._listeners.append(listener)

    def prune(self) -> PruneResult:
        """Remove expired day files now (also done at open and on the first write of each UTC day).

        Raises AuditError when pruning fails.
        """
        with self._mutex:
            if self._closed:
                raise AuditError(f"audit log {self.directory} is closed")
            with self._locked():
                return self._prune_now(self._clock())

    def _prune_now(self, now: datetime) -> PruneResult:
        self._pruned_day = now.astimezone(timezone.utc).date()
        result = self.last_prune = prune_locked(self.directory, self.settings, now)
        self.prune_error = None
        if self._file is not None and not self._file.exists():
            self._switch(None)
        return result

    def _prune_quietly(self, now: datetime) -> None:
        """Prune, but a failure only warns: an old file left in place is no reason to refuse requests."""
        try:
            self._prune_now(now)
        except AuditError as exc:
            self.prune_error = str(exc)
            logger.warning("%s; expired records stay until the next prune", exc)

    def write(self, record: AuditRecord | Fields) -> None:
        """Append `record`, chained to the previous one; in the kernel when this returns."""
        self.write_batch((record,))

    def write_batch(self, records: Sequence[AuditRecord | Fields]) -> list[dict[str, Any]]:
        """Append `records` in order, chained, with one flock and one write; in the kernel on return.

        With `audit.fsync` the batch is also on disk. All or nothing: on failure no byte of the
        batch stays in the file and AuditError is raised for the whole batch. AuditRecordError
        (an AuditError carrying `index`) means one record cannot be encoded; nothing was written.
        Returns the fields of each record as written.
        """
        if not records:
            return []
        with self._mutex:
            if self._closed:
                raise AuditError(f"audit log {self.directory} is closed")
            try:
                lock_fd = self._lock()
                try:
                    written = self._append(records)
                finally:
                    fcntl.flock(lock_fd, fcntl.LOCK_UN)
            except AuditRecordError:
                raise
            except OSError as exc:
                self._failure = self._describe(exc)
                raise AuditError(self._failure) from exc
            except AuditError as exc:  # the lock or the day file could not be opened
                self._failure = str(exc)
                raise
            self._failure = None
        self._notify(written)
        return written

    def health(self) -> str | None:
        """None when the next record can be expected to be written; else why not, on one line.

        The reason names the path and the OS error. Cheap: a clock read and two attribute reads,
        except when a probe is due (at most once per probe interval, see health.py). After a
        failed write it stays unhealthy until a probe or a write succeeds.
        """
        if self._failure is None and time.monotonic_ns() < self._next_probe_ns:
            return None
        return self._probe()

    def _probe(self) -> str | None:
        now = time.monotonic_ns()
        if now < self._next_probe_ns:
            return self._failure
        self._next_probe_ns = now + self._probe_interval_ns
        if self._closed:
            return self._failure
        problem = probe_directory(self.directory, self._file, self._size_hint)
        self._failure = problem
        return problem

    def _notify(self, written: list[dict[str, Any]]) -> None:
        for index, listener in enumerate(self._listeners):
            try:
                listener(written)
            except Exception as exc:  # noqa: BLE001 - an exporter must never fail the record it exports
                if index not in self._failed_listeners:
                    self._failed_listeners.add(index)
                    logger.warning("audit record export failed (reported once): %s", exc)

    def _describe(self, exc: OSError) -> str:
        where = exc.filename or self._file or self.directory
        return f"cannot write audit record to {where}: {exc.strerror or exc}"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the directory's flock; re-create the lock file if someone deleted it."""
        fd = self._lock()
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock(self) -> int:
        """Take the directory's flock (the caller unlocks the descriptor returned); re-create the
        lock file if someone deleted it."""
        try:
            while True:
                if self._lock_fd is None:  # lost with its directory: the directory may be back
                    self._lock_fd = layout.open_private(self._lock_path, os.O_RDWR)
                fd = self._lock_fd
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink:
                    return fd
                # A deleted lock file would let a newer process lock a different file: follow it.
                os.close(fd)
                self._lock_fd = None
        except OSError as exc:
            raise AuditError(f"cannot lock audit directory {self.directory}: {exc.strerror}") from exc

    def _append(self, records: Sequence[AuditRecord | Fields]) -> list[dict[str, Any]]:
        now = self._clock()
        today = now.astimezone(timezone.utc).date()
        if today != self._pruned_day:
            self._prune_quietly(now)
        if today != self._day or self._fd is None:
            self._choose_file(today)
        assert self._fd is not None and self._file is not None
        prev, seq, size = self._head()
        lines: list[bytes] = []
        written: list[dict[str, Any]] = []
        ts: str | None = None  # the batch's time as text, formatted once for its prepared records
        for index, record in enumerate(records):
            try:
                if isinstance(record, Fields):
                    if ts is None:
                        ts = format_ts(now)
                    body = {**record.values, "ts": ts, "pid": self._pid}  # a copy: a batch may be retried
                else:
                    body = record_fields(record, ts=now, pid=self._pid)
                body["seq"] = seq
                body["prev"] = prev
                body, digest, line = seal_line(body)
                body["hash"] = digest
                lines.append(line)
            except (TypeError, ValueError) as exc:  # e.g. a naive timestamp: still fail closed, cleanly
                method = record.values.get("method") if isinstance(record, Fields) else record.method
                raise AuditRecordError(index, f"audit record for {method} cannot be encoded: {exc}") from exc
            written.append(body)
            prev, seq = digest, seq + 1
        self._write_all(b"".join(lines), size)
        stat = os.fstat(self._fd)
        self._cache = (stat.st_size, stat.st_mtime_ns, prev, seq - 1)
        self._size_hint = stat.st_size
        return written

    def _write_all(self, data: bytes, size: int) -> None:
        """Append `data` (and fsync, when configured); on failure, cut the file back to `size`."""
        assert self._fd is not None
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
            if self.settings.fsync:
                os.fsync(self._fd)
        except OSError:
            if written:  # disk full mid-batch, or not durable: take it all back so no record half-exists
                self._cache = None
                try:
                    os.ftruncate(self._fd, size)
                except OSError:
                    pass  # the next writer cuts off a partial last line; verify reports whole ones
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
            self._closed = True
            self._failure = f"audit log {self.directory} is closed"  # health() says so at once
            self._switch(None)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_audit_log(
    settings: AuditSettings, profile: str, *, clock: Clock = utc_now, probe_interval: float = PROBE_INTERVAL_S
) -> AuditLog:
    """Open (creating 0700) the profile's audit directory and prune expired records.

    Raises AuditError naming the path and the OS reason when the directory cannot be used.
    """
    log = AuditLog(settings, profile, clock, probe_interval)
    try:
        log._open()
    except BaseException:
        log.close()
        raise
    return log
