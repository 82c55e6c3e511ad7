"""Every OAuth test keeps grants in its own state dir and never touches a real OS keyring: the
`fail` backend makes the store fall back to its 0600 file, as on CI machines."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("MCP_GUARD_TOKEN_STORE", raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
