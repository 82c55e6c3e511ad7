"""The grant store: 0600 files under the state dir, secrets in the OS keyring when there is one."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import keyring
import keyring.backend
import pytest
from pydantic import SecretStr

from mcp_guard.config import Mode
from mcp_guard.errors import GrantError
from mcp_guard.oauth import Grant, GrantStore, default_store
from mcp_guard.oauth._store import KeyringSecrets

ACCESS, REFRESH, CLIENT_SECRET = "at-secret-0001", "rt-secret-0002", "cs-secret-0003"


def a_grant(profile: str = "test") -> Grant:
    return Grant(
        profile=profile, mode=Mode.TEST, server_url="http://127.0.0.1:1/mcp", resource="http://127.0.0.1:1/mcp",
        issuer="http://127.0.0.1:1", token_endpoint="http://127.0.0.1:1/token", revocation_endpoint="http://127.0.0.1:1/revoke",
        client_id="client-abcd", client_secret=SecretStr(CLIENT_SECRET), token_endpoint_auth_method="client_secret_post",
        access_token=SecretStr(ACCESS), refresh_token=SecretStr(REFRESH), expires_at=time.time() + 60, obtained_at=time.time(),
    )


class MemoryKeyring(keyring.backend.KeyringBackend):
    """keyring's backend interface over a dict: the keyring path without an OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def test_without_a_usable_keyring_the_grant_and_its_secrets_go_to_a_0600_file_in_a_0700_directory(tmp_path: Path) -> None:
    store = default_store({"MCP_GUARD_STATE_DIR": str(tmp_path)})  # conftest: keyring's `fail` backend
    store.save(a_grant())
    path = tmp_path / "oauth" / "test.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["secrets"]["refresh_token"] == REFRESH
    loaded = store.load("test")
    assert loaded is not None and loaded.access_token.get_secret_value() == ACCESS and store.kind == "file"


def test_with_a_keyring_the_secrets_stay_out_of_the_file(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = GrantStore(tmp_path, KeyringSecrets(backend))
    store.save(a_grant())
    text = (tmp_path / "test.json").read_text()
    loaded = store.load("test")
    assert json.loads(text)["secrets"] == "keyring"
    assert not [s for s in (ACCESS, REFRESH, CLIENT_SECRET) if s in text]
    assert json.loads(backend.entries[("mcp-guard", "oauth:test")])["access_token"] == ACCESS
    assert loaded is not None and loaded.refresh_token is not None and loaded.refresh_token.get_secret_value() == REFRESH
    assert store.delete("test") is True and backend.entries == {} and not (tmp_path / "test.json").exists()


def test_the_default_store_uses_the_keyring_when_one_is_usable(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        store = default_store({"MCP_GUARD_STATE_DIR": str(tmp_path)})
        forced = default_store({"MCP_GUARD_STATE_DIR": str(tmp_path), "MCP_GUARD_TOKEN_STORE": "file"})
    finally:
        keyring.set_keyring(previous)
    assert store.kind == "OS keyring" and forced.kind == "file"


def test_a_grant_whose_secrets_are_in_a_keyring_this_process_cannot_reach_says_so(tmp_path: Path) -> None:
    GrantStore(tmp_path, KeyringSecrets(MemoryKeyring())).save(a_grant())
    with pytest.raises(GrantError, match="in the OS keyring, which this process cannot reach"):
        GrantStore(tmp_path, None).load("test")


def test_a_grant_file_other_users_can_read_is_refused(tmp_path: Path) -> None:
    store = GrantStore(tmp_path, None)
    store.save(a_grant())
    os.chmod(tmp_path / "test.json", 0o644)
    with pytest.raises(GrantError, match="readable by other users"):
        store.load("test")


def test_a_grant_never_shows_its_secrets_in_repr_or_fingerprint() -> None:
    grant = a_grant()
    shown = f"{grant!r} {grant} {grant.fingerprint}"
    assert not [s for s in (ACCESS, REFRESH, CLIENT_SECRET) if s in shown]
    assert grant.fingerprint.startswith("oauth test grant …abcd sha256:")


def test_no_stored_grant_loads_as_none_and_a_stranger_file_is_refused(tmp_path: Path) -> None:
    store = GrantStore(tmp_path, None)
    assert store.load("test") is None
    fd = os.open(tmp_path / "test.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"hello": "world"}')
    os.close(fd)
    with pytest.raises(GrantError, match="not an mcp-guard OAuth grant"):
        store.load("test")
