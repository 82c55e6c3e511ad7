"""`audit show --follow`: read the records appended to an audit directory since the last look.

    tail = Tail(directory, since)   # starts at the first day file on or after `since`'s day
    tail.poll()                     # every complete record not returned before, oldest first

Writers from any number of processes append whole lines to the newest day file under the
directory's lock, and never append to a day file once a newer one exists (the chain runs in
file-name order). So one open file and an offset follow them all: each poll lists the directory
and reads the current file from the offset to its last newline (a line still being written is
read on a later poll). When a newer file exists, the current one is read to its end one last time
(after the listing, so nothing written before the newer file appeared is missed) and the tail
moves on. A day file deleted and re-created under the same name is reopened from its start.
A poll with nothing new costs a listdir and an fstat or two.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mcp_guard.audit import layout

_READ_CHUNK = 1 << 20


class Tail:
    """New complete records of one audit directory, across the UTC day-file rollover."""

    def __init__(self, directory: Path, since: datetime | None = None) -> None:
        self.directory = Path(directory).expanduser()
        self._first = layout.day_file_name(since.astimezone(timezone.utc).date()) if since is not None else ""
        self._file: Path | None = None
        self._fd: int | None = None
        self._offset = 0

    def poll(self) -> list[dict[str, Any]]:
        """Every complete, parseable record appended since the last poll, in file order."""
        records: list[dict[str, Any]] = []
        while True:
            newer = self._newer_files()
            if self._fd is not None:
                records.extend(self._read_new())
            if not newer and self._replaced():
                newer = [self._file] if self._file is not None else []
            if not newer:
                return records
            self._open(newer[0])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Tail:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _newer_files(self) -> list[Path]:
        current = self._file.name if self._file is not None else ""
        floor = max(current, self._first)
        return [
            path
            for path in layout.list_day_files(self.directory)
            if path.name > current and path.name >= floor
        ]

    def _replaced(self) -> bool:
        """The current file was deleted and a writer has re-created it under the same name."""
        if self._file is None:
            return False
        if self._fd is not None and os.fstat(self._fd).st_nlink > 0:
            return False
        return self._file.exists()

    def _open(self, path: Path) -> None:
        self.close()
        self._file, self._offset = path, 0
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # pruned between the listing and now: the next one follows
            self._fd = None

    def _read_new(self) -> list[dict[str, Any]]:
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        if size < self._offset:  # cut back (a killed writer's fragment removed): resume at the cut
            self._offset = size
        records: list[dict[str, Any]] = []
        while self._offset < size:
            data = os.pread(self._fd, min(_READ_CHUNK, size - self._offset), self._offset)
            end = data.rfind(b"\n") + 1
            if end == 0:
                if len(data) == _READ_CHUNK:  # one line longer than a chunk: read it whole
                    data = os.pread(self._fd, size - self._offset, self._offset)
                    end = data.rfind(b"\n") + 1
                if end == 0:
                    break  # only a line still being written
            for raw in data[:end].splitlines():
                record = _parse(raw)
                if record is not None:
                    records.append(record)
            self._offset += end
        return records


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
