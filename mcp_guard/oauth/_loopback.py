"""The loopback redirect of a native app's login (RFC 8252 §7.3): `http://127.0.0.1:PORT/callback`.

A small Starlette app under uvicorn (both already installed with the MCP SDK) listens on a free
port of 127.0.0.1 only, for the one browser redirect that carries the authorization code (or the
error) back to `mcp-guard login`. The first answer wins; the port closes when the login ends.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.shared.auth import AuthorizationCodeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from mcp_guard.errors import GrantError

CALLBACK_PATH = "/callback"
_DONE_PAGE = "<!doctype html><title>mcp-guard</title><p>mcp-guard: {text} You can close this tab.</p>"


class LoopbackRedirect:
    """The redirect URI to register, and the wait for the browser to come back to it."""

    def __init__(self, port: int) -> None:
        self.uri = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
        self._answered = anyio.Event()
        self._result: AuthorizationCodeResult | None = None
        self._error: str | None = None

    async def wait(self) -> AuthorizationCodeResult:
        """The code and state the authorization server sent back. GrantError on a refusal."""
        await self._answered.wait()
        if self._result is None:
            raise GrantError(f"the authorization server refused the login: {self._error}")
        return self._result

    async def _callback(self, request: Request) -> Response:
        if self._answered.is_set():
            return HTMLResponse(_DONE_PAGE.format(text="this login was already answered."), status_code=400)
        query = request.query_params
        code, error = query.get("code"), query.get("error")
        if code:
            self._result = AuthorizationCodeResult(code=code, state=query.get("state"), iss=query.get("iss"))
            page = HTMLResponse(_DONE_PAGE.format(text="authorization received; finishing the login in the terminal."))
        elif error:
            # Shown to the user: only the short RFC 6749 error code, never free text from the URL.
            self._error = error if error.isascii() and error.replace("_", "").isalnum() else "unreadable error"
            page = HTMLResponse(_DONE_PAGE.format(text=f"authorization failed ({self._error})."), status_code=400)
        else:
            return HTMLResponse(_DONE_PAGE.format(text="this is not an authorization response."), status_code=400)
        self._answered.set()
        return page


@asynccontextmanager
async def loopback_redirect() -> AsyncIterator[LoopbackRedirect]:
    """Listen on 127.0.0.1 (a free port) for the authorization redirect while the block runs."""
    import uvicorn  # only login needs it

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    redirect = LoopbackRedirect(sock.getsockname()[1])
    app = Starlette(routes=[Route(CALLBACK_PATH, redirect._callback, methods=["GET"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        try:
            yield redirect
        finally:
            server.should_exit = True
    sock.close()
