"""A short MCP session of mcp-guard's own to the upstream, to ask what a grant reaches.

`login` and `run` both use it; errors from anywhere under the SDK's transport (which raises them
wrapped in exception groups) come out as one GrantError with a one-line message.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import mcp_types as types
from mcp.client.auth import OAuthFlowError
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mcp_guard import __version__
from mcp_guard.errors import GrantError
from mcp_guard.oauth._probe import Reach, probe_reach

CLIENT_INFO = types.Implementation(name="mcp-guard", version=__version__)


async def ask_reach(url: str, http: httpx2.AsyncClient) -> Reach:
    """Initialize a session at `url` through `http` and probe the account (see `_probe`)."""
    try:
        async with streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write, client_info=CLIENT_INFO) as session:
            await session.initialize()
            return await probe_reach(session)
    except Exception as exc:  # noqa: BLE001 - the SDK wraps transport failures in groups: report the cause, on one line
        raise GrantError(describe_failure(exc, url)) from None


def describe_failure(exc: BaseException, url: str) -> str:
    causes = list(_leaves(exc))
    for kind in (GrantError, OAuthFlowError, MCPError):
        for cause in causes:
            if isinstance(cause, kind):
                text = str(cause.message) if isinstance(cause, MCPError) else str(cause)
                return text.removeprefix("mcp-guard: ")
    cause = causes[0] if causes else exc
    if isinstance(cause, httpx2.HTTPError):
        return f"could not reach {url}: {type(cause).__name__}"
    if isinstance(cause, TimeoutError):
        return f"{url} did not answer in time"
    return f"the session with {url} failed: {type(cause).__name__}: {cause}"


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc
        if exc.__cause__ is not None and exc.__cause__ is not exc:
            yield from _leaves(exc.__cause__)

