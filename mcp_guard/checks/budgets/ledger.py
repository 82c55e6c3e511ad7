"""A profile's budget usage, shared by every mcp-guard process of it through one small file.

    <audit.dir>/budgets-<profile>.json   0600; JSON, space-padded to STATE_BYTES:
    {"version": 1, "windows": {"calls_per_minute": {"start": 1764650000.25, "used": 12}, ...}}

Windows are fixed, not sliding: each starts with the first counted call after the previous one
of that budget ended, and lasts its length (a minute or an hour), so a budget resets all at once
at a time the refusal can name. Every window is tracked once any budget is set, so turning one on
later starts from real usage.

Each transaction (`admit`, `spend`) takes an exclusive flock on the file, reads it, changes it
and writes it back with one pwrite of STATE_BYTES bytes at offset 0 before unlocking. The size
never changes, so a process killed mid-transaction leaves the old state or the new one, never a
torn file. A file deleted while open is followed, as the audit log follows its lock file.

Fail closed: a state file that cannot be opened, locked, read, parsed or written raises
BudgetStateError, and the check refuses the call (or withholds the result) with that reason.
A missing file is a fresh start: deleting it resets the profile's budgets.

Thread-safe: a mutex covers each transaction too, since flock does not exclude two threads
sharing one descriptor.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_guard.config import BUDGET_WINDOWS
from mcp_guard.errors import BudgetStateError

STATE_VERSION = 1
STATE_BYTES = 512  # every write is this long: one page, so it lands whole
FILE_MODE = 0o600
DIR_MODE = 0o700

Clock = Callable[[], float]


@dataclass
class Window:
    start: float  # epoch seconds of the window's first counted call
    used: int


@dataclass(frozen=True)
class Exhausted:
    """A budget that is used up, and when its window ends (epoch seconds)."""

    budget: str
    limit: int
    resets_at: float


def state_path(audit_dir: Path | str, profile_name: str) -> Path:
    return Path(audit_dir).expanduser() / f"budgets-{profile_name}.json"


class BudgetLedger:
    """The usage of one profile's budgets; every call goes through the shared state file."""

    def __init__(self, path: Path, *, clock: Clock = time.time) -> None:
        self.path = path
        self._clock = clock
        self._fd: int | None = None  # opened on first use, kept for the life of the process
        self._mutex = threading.Lock()

    def admit(self, limits: Mapping[str, int]) -> Exhausted | None:
        """Count one call, unless a budget in `limits` is used up: then the one that resets last.

        Raises BudgetStateError when the state file cannot be used.
        """
        with self._transaction() as windows:
            exhausted = [
                Exhausted(name, limit, windows[name].start + BUDGET_WINDOWS[name])
                for name, limit in limits.items()
                if windows[name].used >= limit
            ]
            if exhausted:
                return max(exhausted, key=lambda found: found.resets_at)
            windows["calls_per_minute"].used += 1
        return None

    def spend(self, objects: int, size: int) -> None:
        """Count what a result carried. Raises BudgetStateError when the state file cannot be used."""
        with self._transaction() as windows:
            windows["objects_per_hour"].used += objects
            windows["bytes_per_hour"].used += size

    def usage(self) -> dict[str, Window]:
        """The current windows (read under the lock, nothing counted): for `check` and tests."""
        with self._transaction() as windows:
            return {name: Window(window.start, window.used) for name, window in windows.items()}

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---- the file -----------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[dict[str, Window]]:
        """Lock, read and roll the windows, yield them; write them back if the body returns normally."""
        with self._mutex:
            try:
                fd = self._locked_fd()
            except OSError as exc:
                raise BudgetStateError(f"budget state file {self.path} cannot be opened or locked: {exc.strerror or exc}") from exc
            try:
                windows = _roll(self._read(fd), self._clock())
                yield windows
                self._write(fd, windows)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _locked_fd(self) -> int:
        while True:
            if self._fd is None:
                self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            if os.fstat(self._fd).st_nlink:
                return self._fd
            # Deleted while we held it open: a newer process counts in a new file, so follow it.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.close()

    def _read(self, fd: int) -> dict[str, Window]:
        try:
            data = os.pread(fd, STATE_BYTES * 8, 0)
        except OSError as exc:
            raise BudgetStateError(f"budget state file {self.path} cannot be read: {exc.strerror or exc}") from exc
        if not data.strip():
            return {}  # a new file: nothing counted yet
        try:
            return _parse(json.loads(data))
        except (ValueError, TypeError, KeyError) as exc:
            raise BudgetStateError(
                f"budget state file {self.path} is not valid ({exc}); it is refused rather than guessed at: "
                "delete it to start this profile's budgets afresh"
            ) from None

    def _write(self, fd: int, windows: Mapping[str, Window]) -> None:
        state = {"version": STATE_VERSION, "windows": {name: {"start": w.start, "used": w.used} for name, w in windows.items()}}
        data = (json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n").encode().ljust(STATE_BYTES)
        try:
            written = os.pwrite(fd, data, 0)
            if written != len(data):
                raise OSError(0, f"short write ({written} of {len(data)} bytes)")
            if len(data) > STATE_BYTES:  # cannot happen with three windows; keeps the file exact if it did
                os.ftruncate(fd, len(data))
        except OSError as exc:
            raise BudgetStateError(f"budget state file {self.path} cannot be written: {exc.strerror or exc}") from exc


def _parse(state: Any) -> dict[str, Window]:
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or not isinstance(state.get("windows"), dict):
        raise ValueError(f"expected version {STATE_VERSION} with windows")
    windows: dict[str, Window] = {}
    for name, window in state["windows"].items():
        start, used = window["start"], window["used"]
        if name not in BUDGET_WINDOWS or not isinstance(start, (int, float)) or isinstance(used, bool) or not isinstance(used, int) or used < 0:
            raise ValueError(f"bad window {name!r}")
        windows[name] = Window(float(start), used)
    return windows


def _roll(windows: dict[str, Window], now: float) -> dict[str, Window]:
    """Every budget's current window: an ended (or absent) one is replaced by a fresh one starting now."""
    for name, length in BUDGET_WINDOWS.items():
        window = windows.get(name)
        if window is None or now >= window.start + length:
            windows[name] = Window(now, 0)
        elif window.start > now:  # the clock went back: keep what was used, restart the window
            windows[name] = Window(now, window.used)
    return windows
