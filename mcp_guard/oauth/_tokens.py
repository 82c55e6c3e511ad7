"""One profile's access token, kept fresh: refresh before expiry and after a 401, revocation.

`current()` returns the token to send, refreshing it first when it expires within
REFRESH_MARGIN_SECONDS. `rejected(token)` is called when the upstream answered 401 to `token`: it
refreshes (unless someone already has) and returns the new token. Both raise GrantError, with a
one-line message that ends in "run `mcp-guard login --profile P`" when only a new login can help;
nothing ever falls back to sending a request without a valid token.

Several processes may share a grant (an MCP client starts one server per window), and a refresh
token is spent by its use when the server rotates them. So refreshes are serialized, in-process by
a lock and across processes by the store's lock file, and the grant is re-read from the store under
the lock: a token another process refreshed meanwhile is adopted instead of refreshed again.

The token requests are RFC 6749 §6 (refresh) and RFC 7009 (revocation), parsed with the MCP SDK's
OAuthToken model; the client authenticates as it registered (`client_secret_post`,
`client_secret_basic` or `none`).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import anyio
import anyio.to_thread
import httpx2
from mcp.shared.auth import OAuthToken
from pydantic import ValidationError

from mcp_guard.errors import GrantError
from mcp_guard.oauth._grant import Grant
from mcp_guard.oauth._store import GrantStore

logger = logging.getLogger("mcp_guard")

REFRESH_MARGIN_SECONDS = 30.0  # a token this close to expiry is refreshed before it is sent
TOKEN_REQUEST_TIMEOUT_SECONDS = 30.0


def relogin(profile: str) -> str:
    return f"run `mcp-guard login --profile {profile}`"


class GrantTokens:
    def __init__(self, store: GrantStore, grant: Grant, *, margin: float = REFRESH_MARGIN_SECONDS) -> None:
        self._store = store
        self._grant = grant
        self._margin = margin
        self._lock = anyio.Lock()

    @property
    def grant(self) -> Grant:
        return self._grant

    async def current(self) -> str:
        """The access token to send now (see the module docstring)."""
        if not self._due(self._grant):
            return self._grant.access_token.get_secret_value()
        return await self._refresh(stale=self._grant.access_token.get_secret_value())

    async def rejected(self, token: str) -> str:
        """A fresh token after the upstream refused `token` with a 401."""
        return await self._refresh(stale=token)

    def _due(self, grant: Grant) -> bool:
        remaining = grant.expires_in()
        return remaining is not None and remaining <= self._margin

    async def _refresh(self, stale: str) -> str:
        async with self._lock:
            if self._grant.access_token.get_secret_value() != stale and not self._due(self._grant):
                return self._grant.access_token.get_secret_value()  # another task refreshed meanwhile
            profile = self._grant.profile
            async with self._cross_process_lock(profile):
                # In a worker thread: a keyring may block (a desktop prompt) and must not stall the relay.
                stored = await anyio.to_thread.run_sync(self._store.load, profile)
                if stored is None:
                    raise GrantError(f"profile {profile!r}: the OAuth grant was removed (logout?): {relogin(profile)}")
                if stored.client_id != self._grant.client_id or stored.mode is not self._grant.mode:
                    # A new login replaced the grant; it was checked then. Its mode must still fit.
                    if stored.mode is not self._grant.mode:
                        raise GrantError(f"profile {profile!r}: the stored OAuth grant is now for {stored.mode.value} mode: {relogin(profile)}")
                    logger.info("OAuth grant for profile %r replaced by a new login: %s", profile, stored.fingerprint)
                if stored.access_token.get_secret_value() != stale and not self._due(stored):
                    self._grant = stored  # another process (or a new login) refreshed it
                    return stored.access_token.get_secret_value()
                self._grant = await refresh_grant(stored)
                await anyio.to_thread.run_sync(self._store.save, self._grant)
                return self._grant.access_token.get_secret_value()

    @asynccontextmanager
    async def _cross_process_lock(self, profile: str) -> AsyncIterator[None]:
        lock = self._store.lock(profile)
        # Shielded: a cancellation while the worker thread waits must not lose a lock it then gets.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lock.acquire)
        try:
            yield
        finally:
            lock.release()


async def refresh_grant(grant: Grant) -> Grant:
    """The grant with new tokens from its token endpoint. GrantError when it cannot be refreshed."""
    profile = grant.profile
    if grant.refresh_token is None:
        raise GrantError(f"profile {profile!r}: the OAuth access token expired and the server gave no refresh token: {relogin(profile)}")
    data = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token.get_secret_value(), "resource": grant.resource}
    if grant.scope:
        data["scope"] = grant.scope
    try:
        async with httpx2.AsyncClient(timeout=TOKEN_REQUEST_TIMEOUT_SECONDS) as http:
            form, headers = client_authentication(grant, data)
            response = await http.post(grant.token_endpoint, data=form, headers=headers)
    except httpx2.HTTPError as exc:
        raise GrantError(f"profile {profile!r}: could not refresh the OAuth token at {grant.token_endpoint}: {type(exc).__name__}") from None
    if response.status_code in (400, 401):
        # RFC 6749 §5.2: invalid_grant (revoked, expired, spent) or invalid_client: only a login helps.
        raise GrantError(f"profile {profile!r}: the OAuth grant was revoked or has expired ({_error_code(response)}): {relogin(profile)}")
    if response.status_code != 200:
        raise GrantError(f"profile {profile!r}: the token endpoint {grant.token_endpoint} answered HTTP {response.status_code} to a refresh")
    try:
        token = OAuthToken.model_validate_json(response.content)
    except ValidationError:
        raise GrantError(f"profile {profile!r}: the token endpoint {grant.token_endpoint} sent an unreadable token response") from None
    logger.info("refreshed the OAuth access token of profile %r (%s)", profile, grant.fingerprint)
    return grant.refreshed(token, time.time())


async def revoke_grant(grant: Grant) -> bool:
    """Revoke the refresh token, then the access token (RFC 7009). False when the server has no
    revocation endpoint. GrantError when the server could not be asked or refused."""
    if grant.revocation_endpoint is None:
        return False
    tokens = [("refresh_token", grant.refresh_token), ("access_token", grant.access_token)]
    try:
        async with httpx2.AsyncClient(timeout=TOKEN_REQUEST_TIMEOUT_SECONDS) as http:
            for hint, secret in tokens:
                if secret is None:
                    continue
                data = {"token": secret.get_secret_value(), "token_type_hint": hint}
                form, headers = client_authentication(grant, data)
                response = await http.post(grant.revocation_endpoint, data=form, headers=headers)
                # RFC 7009 §2.2: 200 even for a token already invalid.
                if response.status_code != 200:
                    raise GrantError(f"the revocation endpoint {grant.revocation_endpoint} answered HTTP {response.status_code}")
    except httpx2.HTTPError as exc:
        raise GrantError(f"could not reach the revocation endpoint {grant.revocation_endpoint}: {type(exc).__name__}") from None
    return True


def client_authentication(grant: Grant, data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Form data and headers for a token or revocation request, authenticated as the client registered."""
    data = {**data, "client_id": grant.client_id}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    secret = grant.client_secret.get_secret_value() if grant.client_secret is not None else None
    method = grant.token_endpoint_auth_method or ("client_secret_post" if secret else "none")
    if method == "client_secret_basic" and secret:
        # RFC 6749 §2.3.1: both parts form-urlencoded before the Basic encoding.
        pair = f"{quote(grant.client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif method == "client_secret_post" and secret:
        data["client_secret"] = secret
    elif method != "none":
        raise GrantError(f"profile {grant.profile!r}: the client was registered with token_endpoint_auth_method {method!r}, which mcp-guard cannot use: {relogin(grant.profile)}")
    return data, headers


def _error_code(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and error.isascii() and len(error) < 64 else f"HTTP {response.status_code}"
