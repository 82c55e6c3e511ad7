"""Append-only record of every write the sandbox executed, for out-of-process tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class WriteJournal:
    """Appends one JSON line per executed write; a missing path records nothing.

    Each line is written with a single ``os.write`` on an ``O_APPEND`` descriptor, so it is on
    disk (in the page cache) before the tool result is sent and lines from several processes
    never interleave.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def record(self, *, tool: str, operation: str, result: dict[str, Any]) -> None:
        if self.path is None:
            return
        entry = {"tool": tool, "operation": operation, "object": result.get("object"),
                 "id": result.get("id")}
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The entries recorded so far (an absent file means no writes)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
