"""Run the mcp-guard CLI as a real process, in its own empty directory and HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

FAKE_TEST_KEY = "sk_test_51FAKEmcpGuardCliTest000000000000000000000000aBcD"
FAKE_LIVE_KEY = "rk_live_51FAKEmcpGuardCliTest000000000000000000000000aBcD"
SANDBOX = [sys.executable, "-m", "mcp_guard.sandbox"]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def base_env(home: Path) -> dict[str, str]:
    """This environment without Stripe keys or mcp-guard settings, with the temporary HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "XDG_", "MCP_GUARD_CONFIG"))}
    env["HOME"] = str(home)
    return env


@pytest.fixture
def cli(mcp_guard_bin: str, workdir: Path, base_env: dict[str, str]) -> Cli:
    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [mcp_guard_bin, *args], cwd=cwd or workdir, env={**base_env, **(env or {})},
            capture_output=True, text=True, timeout=timeout, check=False,
        )

    return run


def write_sandbox_config(directory: Path, *, profile: dict[str, Any] | None = None, upstream: dict[str, Any] | None = None) -> Path:
    """A config whose upstream is the built-in sandbox and whose `test` profile reads ${STRIPE_TEST_KEY}."""
    body: dict[str, Any] = {"mode": "test", "api_key": "${STRIPE_TEST_KEY:-}", "audit": {"dir": str(directory / "audit")}}
    body.update(profile or {})
    config = {
        "upstream": upstream or {"command": SANDBOX[0], "args": SANDBOX[1:], "initialize_timeout": 20},
        "profiles": {"test": body},
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "mcp-guard.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
