"""The per-installation pseudonym key file."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from mcp_guard.errors import RedactionError
from mcp_guard.redaction import KEY_FILE_ENV, load_pseudonym_key


def test_the_key_is_created_once_with_private_permissions(tmp_path):
    path = tmp_path / "cfg" / "mcp-guard" / "pseudonym.key"
    key = load_pseudonym_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_pseudonym_key(path) == key


def test_two_installations_get_different_keys(tmp_path):
    assert load_pseudonym_key(tmp_path / "a.key") != load_pseudonym_key(tmp_path / "b.key")


def test_the_env_variable_overrides_the_default_path(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    key = load_pseudonym_key()
    assert path.exists() and load_pseudonym_key(path) == key


def test_the_default_path_is_under_the_home_config_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    load_pseudonym_key()
    assert (tmp_path / ".config" / "mcp-guard" / "pseudonym.key").exists()


def test_a_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "open.key"
    path.write_text("00" * 32)
    path.chmod(0o644)
    with pytest.raises(RedactionError, match="chmod 600"):
        load_pseudonym_key(path)


def test_a_corrupt_or_short_key_is_refused_without_echoing_it(tmp_path):
    path = tmp_path / "bad.key"
    path.write_text("not-hex-at-all")
    path.chmod(0o600)
    with pytest.raises(RedactionError, match="not hex") as caught:
        load_pseudonym_key(path)
    assert "not-hex-at-all" not in str(caught.value)
    path.write_text("abcd")
    with pytest.raises(RedactionError, match="shorter"):
        load_pseudonym_key(path)


def _load_key_in_child(path: str) -> bytes:
    return load_pseudonym_key(Path(path))


def test_guards_starting_at_once_all_get_the_same_whole_key(tmp_path: Path) -> None:
    """Clients start one guard per window, often together: none may read a half-written key."""

    for round_number in range(10):
        path = str(tmp_path / f"round{round_number}" / "pseudonym.key")
        with multiprocessing.get_context("fork").Pool(8) as pool:
            keys = pool.map(_load_key_in_child, [path] * 8)
        assert len(set(keys)) == 1 and len(keys[0]) >= 16
