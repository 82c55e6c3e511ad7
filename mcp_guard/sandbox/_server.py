"""Serve a Sandbox over MCP: stdio, or streamable HTTP at ``http://HOST:PORT/mcp``."""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from mcp_guard.sandbox._sandbox import Sandbox, UnknownToolError

if TYPE_CHECKING:
    from mcp_guard.sandbox._oauth import OAuthOptions

SERVER_NAME = "stripe-sandbox"
SERVER_VERSION = "1.0.0"
INVALID_PARAMS = -32602


def _stripe_account_header(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The ``Stripe-Account`` header of an HTTP request (a connected account); None on stdio."""
    headers = getattr(ctx.request, "headers", None)
    if headers is None:
        return None
    value = headers.get("stripe-account")
    return value or None


def build_server(sandbox: Sandbox) -> Server[Any]:
    """A low-level MCP server whose tools are the sandbox's catalog, results as wire dicts."""

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> Any:
        # A wire dict, not the SDK's model: the sandbox answers as Stripe's servers do, field for field.
        return {"tools": sandbox.list_tools()}

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> Any:
        try:
            return sandbox.call_tool(params.name, params.arguments,
                                     stripe_account=_stripe_account_header(ctx))
        except UnknownToolError:
            raise MCPError(INVALID_PARAMS, f"Tool {params.name} not found") from None

    mode = "live" if sandbox.store.livemode else "test"
    return Server(
        SERVER_NAME,
        version=SERVER_VERSION,
        title=f"Stripe MCP sandbox ({sandbox.catalog} catalog, offline, {mode} mode)",
        instructions=f"Offline Stripe sandbox with made-up {mode}-mode data. Never a real account.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(sandbox: Sandbox) -> None:
    """Serve one client on stdin/stdout until stdin closes."""
    server = build_server(sandbox)
    async with stdio_server() as (read_stream, write_stream):
        try:
            await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            # stdio_server() waits for its writer, which only ends when the stream is closed.
            await write_stream.aclose()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it from ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_http(sandbox: Sandbox, host: str, port: int, oauth: OAuthOptions | None = None) -> None:
    """Serve streamable HTTP; prints ``listening http://HOST:PORT/mcp`` on stderr once bound.

    With ``oauth``, ``/mcp`` needs a bearer token from the sandbox's own authorization server
    (see ``_oauth``), whose issuer is ``http://HOST:PORT``.
    """
    import uvicorn  # only the HTTP mode needs it

    server = build_server(sandbox)
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    if oauth is None:
        app = server.streamable_http_app(host=host)
    else:
        from mcp_guard.sandbox._oauth import auth_app_options

        # The issuer and resource URLs name the bound port, so they are known only now.
        issuer = f"http://{url_host}:{bound_port}"
        app = server.streamable_http_app(host=host, **auth_app_options(issuer, f"{issuer}/mcp", oauth))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)
    # The socket already listens: a client that reads this line and connects at once is queued.
    print(f"listening http://{url_host}:{bound_port}/mcp", file=sys.stderr, flush=True)
    await http.serve(sockets=[sock])
