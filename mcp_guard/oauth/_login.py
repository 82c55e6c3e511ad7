"""`mcp-guard login`: obtain, check and store the OAuth grant of one profile.

The protocol is the MCP SDK's client-side OAuth (`mcp.client.auth.OAuthClientProvider`): on the
upstream's 401 it discovers the protected resource metadata (RFC 9728) and the authorization
server metadata (RFC 8414), registers a client dynamically (RFC 7591), and runs the authorization
code grant with PKCE (S256) and the `resource` indicator (RFC 8707). This module supplies what the
SDK leaves to the application:

- a loopback redirect on 127.0.0.1 (`_loopback`), registered as the client's redirect URI;
- the authorization URL, always printed on stderr and opened in the system browser when there is
  one (`--no-browser` only prints it);
- the check that the grant fits the profile: within the same session, the account tools are asked
  which mode the account is in (`_probe`). A grant for the wrong mode (or an unknown one) is
  revoked and nothing is stored;
- storage of the grant (`_store`), replacing and revoking the profile's previous grant.

Nothing here prints a token, and nothing reaches stdout.
"""

from __future__ import annotations

import logging
import os
import platform
import time
import webbrowser
from collections.abc import Callable

import anyio
import anyio.to_thread
import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl, SecretStr

from mcp_guard import __version__
from mcp_guard.config import Profile
from mcp_guard.errors import GrantError
from mcp_guard.oauth._grant import Grant
from mcp_guard.oauth._loopback import loopback_redirect
from mcp_guard.oauth._probe import reach_problem
from mcp_guard.oauth._session import ask_reach
from mcp_guard.oauth._store import GrantStore
from mcp_guard.oauth._tokens import revoke_grant

logger = logging.getLogger("mcp_guard")

HTTP_TIMEOUT_SECONDS = 30.0


class _LoginStorage:
    """The SDK's TokenStorage for one login: starts empty (so the flow registers a new client) and
    remembers what the flow obtained, and when the tokens arrived (for their expiry)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.received_at = 0.0
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens, self.received_at = tokens, time.time()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def login(profile: Profile, url: str, store: GrantStore, *, announce: Callable[[str], None], open_browser: bool) -> Grant:
    """Run the whole login for `profile` against the MCP endpoint `url`; return the stored grant.

    It waits for the person as long as it takes: the caller bounds it (`anyio.fail_after`).
    """
    storage = _LoginStorage()

    async def show(authorization_url: str) -> None:
        announce(f"To authorize mcp-guard for profile {profile.name!r}, open this URL in a browser and approve:\n\n  {authorization_url}\n")
        if open_browser and _has_browser():
            opened = await anyio.to_thread.run_sync(webbrowser.open, authorization_url, abandon_on_cancel=True)
            announce("Opened the system browser." if opened else "No browser could be opened: open the URL above yourself.")
        announce("Waiting for the authorization...")

    async with loopback_redirect() as redirect:
        provider = OAuthClientProvider(
            server_url=url,
            client_metadata=OAuthClientMetadata(
                client_name=f"mcp-guard ({profile.name} profile)",
                redirect_uris=[AnyUrl(redirect.uri)],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                software_id="mcp-guard",
                software_version=__version__,
            ),
            storage=storage,
            redirect_handler=show,
            callback_handler=redirect.wait,
        )
        async with httpx2.AsyncClient(auth=provider, timeout=HTTP_TIMEOUT_SECONDS) as http:
            reach = await ask_reach(url, http)
    context = provider.context
    if storage.tokens is None or storage.client is None or context.oauth_metadata is None:
        # The upstream let the session through without asking for authorization.
        raise GrantError(f"{url} did not ask for OAuth authorization; set `auth: api_key` for this upstream, or check its URL")
    grant = _grant_from(profile, url, storage, provider)
    grant = grant.model_copy(update={"account": reach.account, "mode": reach.mode or profile.mode})
    problem = reach_problem(reach, profile.name, profile.mode)
    if problem is not None:
        revoked = await _revoke_quietly(grant)
        raise GrantError(f"{problem}. Nothing was stored{'; the new grant was revoked' if revoked else ''}. Log in to a {profile.mode.value}-mode account.")
    try:
        previous = store.load(profile.name)
    except GrantError:
        previous = None  # unreadable: replaced below
    store.save(grant)
    if previous is not None and previous.client_id != grant.client_id:
        await _revoke_quietly(previous)
    return grant


def _grant_from(profile: Profile, url: str, storage: _LoginStorage, provider: OAuthClientProvider) -> Grant:
    context = provider.context
    tokens, client, metadata = storage.tokens, storage.client, context.oauth_metadata
    assert tokens is not None and client is not None and metadata is not None
    return Grant(
        profile=profile.name,
        mode=profile.mode,
        server_url=url,
        resource=context.get_resource_url(),
        issuer=str(metadata.issuer),
        token_endpoint=str(metadata.token_endpoint),
        revocation_endpoint=str(metadata.revocation_endpoint) if metadata.revocation_endpoint else None,
        client_id=client.client_id,
        client_secret=SecretStr(client.client_secret) if client.client_secret else None,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        access_token=SecretStr(tokens.access_token),
        refresh_token=SecretStr(tokens.refresh_token) if tokens.refresh_token else None,
        scope=tokens.scope,
        expires_at=storage.received_at + int(tokens.expires_in) if tokens.expires_in is not None else None,
        obtained_at=time.time(),
    )


async def _revoke_quietly(grant: Grant) -> bool:
    try:
        return await revoke_grant(grant)
    except GrantError as exc:
        logger.warning("could not revoke the OAuth grant %s: %s", grant.fingerprint, exc)
        return False


def _has_browser() -> bool:
    """Whether a graphical browser can be expected. On a Linux console, `webbrowser` would start a
    text browser (lynx, w3m) inside this terminal; there the URL is only printed."""
    if platform.system() in ("Linux", "FreeBSD"):
        return bool(os.environ.get("BROWSER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
