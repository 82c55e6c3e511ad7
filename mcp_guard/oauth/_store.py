"""Where grants are kept, one per profile, and the lock that serializes their refreshes.

Layout, under the state dir (`$MCP_GUARD_STATE_DIR`, else `$XDG_STATE_HOME/mcp-guard`, else
`~/.local/state/mcp-guard`):

    oauth/                 0700
      <profile>.json       0600: the grant's public part, and its secrets inline (file store)
                           or `"secrets": "keyring"` (keyring store)
      <profile>.lock       held (flock) while a process refreshes the grant

The secrets (access token, refresh token, client secret) go to the OS keyring, under service
`mcp-guard` and user `oauth:<profile>`, when the `keyring` package is installed and has a real
backend; otherwise into the 0600 file. `MCP_GUARD_TOKEN_STORE=keyring|file` forces the choice. The
file says where its secrets are, so a process that cannot reach the keyring (an MCP client started
with a bare environment) says so instead of "no grant".

A grant file readable or writable by other users is refused, like a key left in the open.
Writes are atomic (a temporary file renamed over the old one), so a reader never sees half a grant.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from mcp_guard.errors import GrantError
from mcp_guard.oauth._grant import SECRET_FIELDS, Grant

STORE_ENV_VAR = "MCP_GUARD_TOKEN_STORE"
KEYRING_SERVICE = "mcp-guard"
_KEYRING_MARK = "keyring"


def state_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """mcp-guard's per-user state directory (the default config keeps its audit trail there too)."""
    if environ.get("MCP_GUARD_STATE_DIR"):
        return Path(environ["MCP_GUARD_STATE_DIR"]).expanduser()
    if environ.get("XDG_STATE_HOME"):
        return Path(environ["XDG_STATE_HOME"]).expanduser() / "mcp-guard"
    return Path("~/.local/state/mcp-guard").expanduser()


class SecretBackend(Protocol):
    """Holds a grant's secrets somewhere other than its file."""

    name: str

    def get(self, profile: str) -> dict[str, str | None] | None: ...
    def set(self, profile: str, secrets: dict[str, str | None]) -> None: ...
    def delete(self, profile: str) -> None: ...


class KeyringSecrets:
    """The OS keyring through the `keyring` package: one JSON entry per profile."""

    name = "OS keyring"

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def get(self, profile: str) -> dict[str, str | None] | None:
        value = self._call(self._backend.get_password, KEYRING_SERVICE, _user(profile))
        if value is None:
            return None
        try:
            secrets = json.loads(value)
        except ValueError:
            raise GrantError(f"the OS keyring entry {KEYRING_SERVICE}/{_user(profile)} is not mcp-guard's: run `mcp-guard login --profile {profile}`") from None
        return secrets if isinstance(secrets, dict) else None

    def set(self, profile: str, secrets: dict[str, str | None]) -> None:
        self._call(self._backend.set_password, KEYRING_SERVICE, _user(profile), json.dumps(secrets))

    def delete(self, profile: str) -> None:
        with contextlib.suppress(GrantError):  # nothing to delete is what delete wants
            self._call(self._backend.delete_password, KEYRING_SERVICE, _user(profile))

    def _call(self, method: Any, *args: str) -> Any:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            return method(*args)
        except PasswordDeleteError:
            raise GrantError("no such keyring entry") from None
        except KeyringError as exc:
            raise GrantError(f"the OS keyring failed: {type(exc).__name__}: {exc}") from None


def _user(profile: str) -> str:
    return f"oauth:{profile}"


def usable_keyring() -> Any | None:
    """The `keyring` package's backend when it is installed and can store anything, else None."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    return backend


class GrantStore:
    """Load, save and delete the grant of each profile (see the module docstring)."""

    def __init__(self, directory: Path, keyring: SecretBackend | None) -> None:
        self.directory = directory
        self._keyring = keyring  # None: secrets go into the file

    @property
    def kind(self) -> str:
        return self._keyring.name if self._keyring is not None else "file"

    def path(self, profile: str) -> Path:
        return self.directory / f"{profile}.json"

    def describe(self, profile: str) -> str:
        """Where the profile's grant is (or would be) kept, for messages."""
        where = str(self.path(profile))
        if self._stored_in_keyring(profile) or (self._keyring is not None and not self.path(profile).exists()):
            return f"{where} (secrets in the OS keyring)"
        return where

    def load(self, profile: str) -> Grant | None:
        """The stored grant, or None when there is none. GrantError when it exists but cannot be read."""
        path = self.path(profile)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise GrantError(f"{path}: cannot read the OAuth grant: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as file:
            mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
            if mode & 0o077:
                raise GrantError(f"{path}: an OAuth grant readable by other users (mode {mode:04o}) is not used: chmod 600 it, or run `mcp-guard logout --profile {profile}` and log in again")
            raw = file.read()
        try:
            data = json.loads(raw)
            secrets = data.pop("secrets")
        except (ValueError, KeyError, AttributeError, TypeError):
            raise GrantError(f"{path}: not an mcp-guard OAuth grant: run `mcp-guard login --profile {profile}`") from None
        if secrets == _KEYRING_MARK:
            if self._keyring is None:
                raise GrantError(f"profile {profile!r}: the OAuth grant's tokens are in the OS keyring, which this process cannot reach; "
                                 f"set {STORE_ENV_VAR}=keyring where the keyring works, or log in again with {STORE_ENV_VAR}=file")
            secrets = self._keyring.get(profile)
            if secrets is None:
                raise GrantError(f"profile {profile!r}: the OAuth grant's tokens are missing from the OS keyring: run `mcp-guard login --profile {profile}`")
        if not isinstance(secrets, dict):
            raise GrantError(f"{path}: not an mcp-guard OAuth grant: run `mcp-guard login --profile {profile}`")
        try:
            grant = Grant.model_validate({**data, **{k: secrets.get(k) for k in SECRET_FIELDS}})
        except ValidationError:
            raise GrantError(f"{path}: not an mcp-guard OAuth grant: run `mcp-guard login --profile {profile}`") from None
        if grant.profile != profile:
            raise GrantError(f"{path}: holds the grant of profile {grant.profile!r}, not {profile!r}: run `mcp-guard login --profile {profile}`")
        return grant

    def save(self, grant: Grant) -> None:
        public = grant.public_part()
        if self._keyring is not None:
            self._keyring.set(grant.profile, grant.secret_part())
            public["secrets"] = _KEYRING_MARK
        else:
            public["secrets"] = grant.secret_part()
        self._write(self.path(grant.profile), json.dumps(public, indent=2, sort_keys=True).encode() + b"\n")

    def delete(self, profile: str) -> bool:
        """Remove the profile's grant (file and keyring entry); False when there was none."""
        in_keyring = self._stored_in_keyring(profile)
        if self._keyring is not None:
            self._keyring.delete(profile)
        try:
            self.path(profile).unlink()
        except FileNotFoundError:
            return in_keyring
        return True

    def lock(self, profile: str) -> ProfileLock:
        """The profile's cross-process refresh lock (not yet acquired)."""
        self._ensure_directory()
        return ProfileLock(self.directory / f"{profile}.lock")

    def _stored_in_keyring(self, profile: str) -> bool:
        try:
            return bool(json.loads(self.path(profile).read_bytes()).get("secrets") == _KEYRING_MARK)
        except (OSError, ValueError, AttributeError):
            return False

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise GrantError(f"{self.directory}: cannot create the OAuth grant directory: {exc.strerror}") from None

    def _write(self, path: Path, data: bytes) -> None:
        self._ensure_directory()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise GrantError(f"{path}: cannot write the OAuth grant: {exc.strerror}") from None


class ProfileLock:
    """An exclusive flock on a lock file. `acquire` blocks: call it from a worker thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def default_store(environ: Mapping[str, str] = os.environ) -> GrantStore:
    """The store `login`, `run`, `check` and `logout` share (see the module docstring)."""
    choice = environ.get(STORE_ENV_VAR, "").strip().lower()
    if choice not in ("", "keyring", "file"):
        raise GrantError(f"{STORE_ENV_VAR}={choice!r}: expected 'keyring' or 'file'")
    directory = state_dir(environ) / "oauth"
    if choice == "file":
        return GrantStore(directory, None)
    backend = usable_keyring()
    if backend is None and choice == "keyring":
        raise GrantError(f"{STORE_ENV_VAR}=keyring, but no OS keyring is usable here (pip install 'mcp-guard[keyring]' and a keyring backend)")
    return GrantStore(directory, KeyringSecrets(backend) if backend is not None else None)
