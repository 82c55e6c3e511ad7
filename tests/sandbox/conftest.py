"""Fixtures for the sandbox tests: real `python -m mcp_guard.sandbox` processes over real pipes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client



@asynccontextmanager
async def sandbox_session(*args: str) -> AsyncIterator[ClientSession]:
    """An initialized SDK client session to a sandbox child process started with ``args``."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_guard.sandbox", *args])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def shared_session_fixture(*args: str) -> Any:
    """A module-scoped session for tests that only READ: one process start per module."""

    @pytest.fixture(scope="module")
    async def session() -> AsyncIterator[ClientSession]:
        async with sandbox_session(*args) as s:
            yield s

    return session


def result_json(result: types.CallToolResult) -> Any:
    """The JSON inside the single text content item of a Stripe-shaped tool result."""
    assert len(result.content) == 1, result
    item = result.content[0]
    assert isinstance(item, types.TextContent), item
    return json.loads(item.text)


def result_text(result: types.CallToolResult) -> str:
    item = result.content[0]
    assert isinstance(item, types.TextContent), item
    return item.text


def journal_reader(path: Path) -> Callable[[], list[dict[str, Any]]]:
    def read() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    return read
