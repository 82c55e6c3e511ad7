"""The per-installation pseudonym key (an edge helper: the only file I/O of the redaction package)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from mcp_guard.errors import RedactionError

KEY_FILE_ENV = "MCP_GUARD_PSEUDONYM_KEY_FILE"
KEY_BYTES = 32


def default_key_path() -> Path:
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".config" / "mcp-guard" / "pseudonym.key"


def load_pseudonym_key(path: Path | None = None) -> bytes:
    """Read the installation's pseudonym key, creating it (0600, directory 0700) on first use.

    The file holds hex text. A key readable by group or others is refused: with it, anyone could
    test guessed emails against the pseudonyms in audit logs and transcripts.
    """
    path = path if path is not None else default_key_path()
    try:
        _create_if_missing(path)
        mode = path.stat().st_mode
        if mode & 0o077:
            raise RedactionError(f"pseudonym key {path} is readable by others: chmod 600 it")
        text = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise RedactionError(f"cannot read or create the pseudonym key {path}: {exc.strerror}") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise RedactionError(f"pseudonym key {path} is not hex text") from exc
    if len(key) < 16:
        raise RedactionError(f"pseudonym key {path} is shorter than 16 bytes")
    return key


def _create_if_missing(path: Path) -> None:
    """Create the key whole or not at all: several guards may start at once and read it at once.

    The key is written to a private temporary file and hard-linked into place; the link fails if
    another process won the race, and then its key is used. A reader never sees a half-written file.
    """
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".pseudonym-", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process created it first: use theirs
            pass
    finally:
        os.unlink(temporary)
