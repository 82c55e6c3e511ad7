"""The HTTP transport under the upstream's httpx client: the grant's bearer token on every request.

It wraps the real transport, so the MCP SDK's streamable-HTTP client stays unchanged above it.
For each request to the upstream's origin it sets `Authorization: Bearer <token>` from
`GrantTokens.current()`; after a 401 it asks `GrantTokens.rejected()` for a fresh token and sends
the request once more. Requests to any other origin never carry the token.

When the grant cannot give a token (revoked, expired without refresh, the store gone), the request
is not sent at all: the transport answers it with a 401 whose JSON-RPC error names the cause and
"run `mcp-guard login --profile P`". The SDK client hands that error to the relay as the answer to
the pending request, so the client sees a clear error and nothing is sent unauthenticated. A
transport, not an `httpx2.Auth` flow, because an auth flow can only raise, and an exception inside
the SDK's transport task would end the whole session instead of answering the one request.
"""

from __future__ import annotations

import json

import httpx2

from mcp_guard.errors import GrantError
from mcp_guard.jsonrpc import UPSTREAM_UNAVAILABLE
from mcp_guard.oauth._tokens import GrantTokens, relogin


class GrantTransport(httpx2.AsyncBaseTransport):
    def __init__(self, tokens: GrantTokens, origin: str, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self._tokens = tokens
        self._origin = httpx2.URL(origin)
        self._inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not self._same_origin(request.url):
            request.headers.pop("Authorization", None)
            return await self._inner.handle_async_request(request)
        await request.aread()  # the body must be replayable after a 401
        try:
            token = await self._tokens.current()
        except GrantError as exc:
            return grant_error_response(request, exc)
        response = await self._send(request, token)
        if response.status_code != 401:
            return response
        await response.aclose()
        try:
            token = await self._tokens.rejected(token)
        except GrantError as exc:
            return grant_error_response(request, exc)
        response = await self._send(request, token)
        if response.status_code == 401:
            await response.aclose()
            profile = self._tokens.grant.profile
            refused = GrantError(f"profile {profile!r}: the upstream refuses the OAuth grant even with a freshly refreshed token: {relogin(profile)}")
            return grant_error_response(request, refused)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _send(self, request: httpx2.Request, token: str) -> httpx2.Response:
        request.headers["Authorization"] = f"Bearer {token}"
        return await self._inner.handle_async_request(request)

    def _same_origin(self, url: httpx2.URL) -> bool:
        return (url.scheme, url.host, url.port) == (self._origin.scheme, self._origin.host, self._origin.port)


def grant_error_response(request: httpx2.Request, error: GrantError) -> httpx2.Response:
    """A 401 carrying a JSON-RPC error, which the SDK client delivers as the request's answer."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": UPSTREAM_UNAVAILABLE, "message": f"mcp-guard: {error}"}}
    return httpx2.Response(401, headers={"Content-Type": "application/json"}, content=json.dumps(body).encode(), request=request)
