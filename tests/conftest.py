"""Fixtures shared by every test directory: paths to the real programs under test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis profiles: `dev` keeps the local loop fast, `ci` explores more (and prints the blob
# that reproduces a failure). CI sets CI=true; HYPOTHESIS_PROFILE picks one explicitly.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the developer's own config, keys or audit trail."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MCP_GUARD_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("MCP_GUARD_PSEUDONYM_KEY_FILE", str(home / "pseudonym.key"))
    monkeypatch.delenv("MCP_GUARD_CONFIG", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_METRICS_EXPORTER", raising=False)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (the relay's transports are asyncio-native); session scope lets
    module-scoped async fixtures share one upstream process."""
    return "asyncio"


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def mcp_guard_bin() -> str:
    return str(Path(sys.executable).parent / "mcp-guard")
