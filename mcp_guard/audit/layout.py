"""Where the audit files live and how their tails and the anchor are read and written.

    <audit.dir>/                 0700, one per profile
        audit-YYYY-MM-DD.jsonl   0600, one per UTC day, one JSON record per line
        anchor.json              0600, where the chain resumes after pruning
        audit.lock               0600, flock'ed by every writer and pruner
        audit.probe              0600, empty; AuditLog.health() writes and truncates it to test the disk
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mcp_guard.audit.chain import GENESIS, canonical_json, raw_line_hash
from mcp_guard.errors import AuditError

DIR_MODE = 0o700
FILE_MODE = 0o600
LOCK_NAME = "audit.lock"
PROBE_NAME = "audit.probe"
ANCHOR_NAME = "anchor.json"
_DAY_FILE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
_TAIL_CHUNK = 8192


def day_file_name(day: date) -> str:
    return f"audit-{day.isoformat()}.jsonl"


def day_of(name: str) -> date | None:
    match = _DAY_FILE.match(name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def list_day_files(directory: Path) -> list[Path]:
    """The day files of `directory`, oldest first (names sort like dates)."""
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise AuditError(f"cannot list audit directory {directory}: {exc.strerror}") from exc
    return [directory / name for name in sorted(names) if day_of(name) is not None]


def ensure_dir(directory: Path) -> None:
    """Create `directory` 0700, or tighten an existing one to 0700."""
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if not directory.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        if directory.stat().st_mode & 0o777 != DIR_MODE:
            os.chmod(directory, DIR_MODE)
    except OSError as exc:
        raise AuditError(f"audit directory {directory} is unusable: {exc.strerror or exc}") from exc


def open_private(path: Path, flags: int) -> int:
    """Open (creating 0600) and make sure the mode is exactly 0600 whatever the umask did."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True)
class ChainHead:
    """The last complete record of a file: what the next record chains to."""

    hash: str
    seq: int
    end: int  # byte offset just past its newline: anything after it is an interrupted write


def link_of(line: bytes) -> tuple[str, int | None]:
    """The (hash, seq) a line contributes to the chain, whether or not it is a valid record."""
    try:
        record = json.loads(line)
    except ValueError:
        return raw_line_hash(line), None
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        return raw_line_hash(line), None
    seq = record.get("seq")
    return record["hash"], seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def read_head(fd: int) -> ChainHead | None:
    """The last complete line of an open file, reading backwards from its end; None if it has none."""
    size = os.fstat(fd).st_size
    buffer = b""
    position = size
    end: int | None = None  # offset just past the last newline
    while position > 0:
        step = min(_TAIL_CHUNK, position)
        position -= step
        buffer = os.pread(fd, step, position) + buffer
        if end is None:
            last_newline = buffer.rfind(b"\n")
            if last_newline < 0:
                continue
            end = position + last_newline + 1
            buffer = buffer[: last_newline + 1]
        start_newline = buffer.rfind(b"\n", 0, len(buffer) - 1)
        if start_newline >= 0:
            line = buffer[start_newline + 1 : -1]
            break
    else:
        if end is None:
            return None
        line = buffer[:-1]
    digest, seq = link_of(line)
    return ChainHead(hash=digest, seq=seq or 0, end=end)


def read_file_head(path: Path) -> ChainHead | None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return read_head(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Anchor:
    """Where the chain resumes after pruning: the last record of the newest removed file."""

    file: str
    last_hash: str
    last_seq: int
    records: int
    pruned_at: str

    def body(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "last_hash": self.last_hash,
            "last_seq": self.last_seq,
            "records": self.records,
            "pruned_at": self.pruned_at,
        }

    def seal(self) -> str:
        """A hash of the anchor's own fields: catches a careless edit (not a forger who recomputes it)."""
        return hashlib.sha256(canonical_json(self.body()).encode("utf-8")).hexdigest()


class AnchorError(AuditError):
    """anchor.json exists but cannot be trusted."""


def read_anchor(directory: Path) -> Anchor | None:
    path = directory / ANCHOR_NAME
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AnchorError(f"{path}: cannot be read as JSON ({exc})") from exc
    try:
        anchor = Anchor(
            file=str(data["file"]),
            last_hash=str(data["last_hash"]),
            last_seq=int(data["last_seq"]),
            records=int(data["records"]),
            pruned_at=str(data["pruned_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnchorError(f"{path}: missing or invalid field {exc}") from exc
    if data.get("hash") != anchor.seal():
        raise AnchorError(f"{path}: its hash does not match its content (anchor edited)")
    return anchor


def write_anchor(directory: Path, anchor: Anchor) -> None:
    """Atomically replace anchor.json (write a temp file, fsync, rename, fsync the directory).

    On any error (a full disk, say) the temp file is removed and the old anchor.json is untouched.
    """
    path = directory / ANCHOR_NAME
    temp = directory / f".{ANCHOR_NAME}.{os.getpid()}.tmp"
    data = (json.dumps({**anchor.body(), "hash": anchor.seal()}, indent=2) + "\n").encode("utf-8")
    try:
        fd = open_private(temp, os.O_WRONLY | os.O_TRUNC)
        try:
            written = 0
            while written < len(data):  # a short write is how a nearly full disk first shows
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:
            temp.unlink(missing_ok=True)
        except OSError:
            pass  # the original error is the one worth reporting
        raise
    dir_fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def chain_start(anchor: Anchor | None) -> tuple[str, int]:
    """(prev, seq) the first record after `anchor` (or of a fresh directory) carries."""
    if anchor is None:
        return GENESIS, 1
    return anchor.last_hash, anchor.last_seq + 1
