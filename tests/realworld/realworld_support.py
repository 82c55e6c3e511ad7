"""Helpers shared by the real-world tests (imported by name: conftest puts this directory on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import nodetools

# A fake key shaped like Stripe's (never real); restricted, as Stripe recommends for MCP.
FAKE_RESTRICTED_KEY = "rk_test_51FAKEmcpGuardRealWorld0000000000000000000000RwKy"
MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")


def require_node_tools(*packages: str) -> None:
    """Fail under CI, skip locally, when the pinned npm tools are not installed."""
    try:
        nodetools.node_binary()
        for package in packages:
            nodetools.entry_point(package)
    except nodetools.NodeToolsMissing as exc:
        if nodetools.ci():
            pytest.fail(f"{exc}", pytrace=False)
        pytest.skip(f"{exc}")


@dataclass(frozen=True)
class HostedSandbox:
    """`python -m mcp_guard.sandbox --http 0`: a local stand-in for https://mcp.stripe.com."""

    url: str
    journal: Path
    process: subprocess.Popen[str]

    def writes(self) -> list[dict[str, Any]]:
        """Every write the sandbox executed (its --journal file)."""
        try:
            text = self.journal.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_guard_config(tmp_path: Path, upstream: dict[str, Any], *, key: str = FAKE_RESTRICTED_KEY) -> Path:
    """A read-only `test` profile with default redaction, auditing into tmp_path/audit."""
    config = {
        "upstream": {"initialize_timeout": 30, "request_timeout": 60, **upstream},
        "profiles": {
            "test": {
                "mode": "test",
                "api_key": key,
                "allowed_operations": ["read", "list", "search"],
                "blocked_operations": ["create", "update", "delete"],
                "audit": {"dir": str(tmp_path / "audit"), "retention_days": 30},
            }
        },
    }
    path = tmp_path / "mcp-guard.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def guard_env() -> dict[str, str]:
    """The isolation variables set by tests/conftest.py, passed on to mcp-guard."""
    names = ("MCP_GUARD_STATE_DIR", "MCP_GUARD_PSEUDONYM_KEY_FILE")
    return {name: os.environ[name] for name in names if name in os.environ}


@asynccontextmanager
async def guarded_session(config: Path, errlog_path: Path) -> AsyncIterator[ClientSession]:
    """The MCP SDK's own client driving `mcp-guard run --profile test --config FILE`."""
    params = StdioServerParameters(command=MCP_GUARD, args=["run", "--profile", "test", "--config", str(config)],
                                   env=guard_env())
    with errlog_path.open("w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def text_of(result: Any) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def audit_records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for file in sorted(directory.glob("audit-*.jsonl"))
            for line in file.read_text().splitlines() if line.strip()]


# --- processes ------------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def guard_and_upstream_pids(config: Path) -> tuple[int, list[int]]:
    """The `mcp-guard run` started with this (unique, per-test) config, and its children."""
    guards = [pid for pid in _pids() if str(config) in _cmdline(pid)]
    assert len(guards) == 1, f"expected one mcp-guard process for {config}, found {guards}"
    children = [pid for pid in _pids() if _ppid(pid) == guards[0]]
    return guards[0], children


def cmdline_text(pid: int) -> str:
    return " ".join(_cmdline(pid))


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (part.decode(errors="replace").split("=", 1) for part in raw.split(b"\0") if b"=" in part)
    return {name: value for name, value in pairs}
