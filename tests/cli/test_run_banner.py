"""`mcp-guard run` says first which config it loaded: the line to look for in a client's MCP log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mcp_guard.config import default_config_path
from tests.cli.conftest import FAKE_TEST_KEY, SANDBOX, write_sandbox_config


def first_stderr_line(mcp_guard_bin: str, args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Start `run`, close its stdin at once (the client leaves), and read its first stderr line."""
    done = subprocess.run([mcp_guard_bin, "run", *args], input="", cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()[0]


def test_the_first_stderr_line_names_the_config_given(mcp_guard_bin: str, base_env: dict[str, str], workdir: Path, tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "cfg")
    line = first_stderr_line(mcp_guard_bin, ["--profile", "test", "--config", str(config)], {**base_env, "STRIPE_TEST_KEY": FAKE_TEST_KEY}, workdir)
    assert line.startswith(f"mcp-guard: INFO: config {config} sha256:")
    assert line.endswith(" profile test")


def test_the_first_stderr_line_names_the_packaged_default_when_nothing_else_is_found(mcp_guard_bin: str, base_env: dict[str, str], workdir: Path) -> None:
    line = first_stderr_line(mcp_guard_bin, ["--profile", "test", "--", *SANDBOX], {**base_env, "STRIPE_TEST_KEY": FAKE_TEST_KEY}, workdir)
    assert line.startswith(f"mcp-guard: INFO: config {default_config_path()} sha256:")
