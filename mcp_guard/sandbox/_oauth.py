"""The sandbox's OAuth mode: an authorization server in front of the same MCP catalog.

The protocol is the MCP SDK's server-side auth (`mcp.server.auth`): its routes serve the
authorization server metadata (RFC 8414), dynamic client registration (RFC 7591), the authorize,
token and revocation (RFC 7009) endpoints, with PKCE S256 checked by its token handler, and the
protected resource metadata (RFC 9728); its bearer middleware guards ``/mcp`` and answers 401
with a ``WWW-Authenticate`` naming that metadata. This module is only the provider behind them:

- clients, codes and tokens live in memory and die with the process;
- ``/authorize`` leads to a consent page (``/consent``) with Approve and Deny buttons, the step a
  person takes in a browser; tests submit the form with an HTTP client;
- access tokens are short-lived (``token_ttl``), refresh tokens rotate on every use, and each
  token is bound to the resource (RFC 8707) it was requested for;
- revoking a refresh token ends the whole grant (its access tokens too); revoking an access token
  ends only that token, so a client's next request gets a 401 and must refresh.

``GET /sandbox/oauth/events`` lists what happened (registrations, consents, tokens issued,
refreshed, rejected, revoked) for tests. It never shows a token or a secret.
"""

from __future__ import annotations

import html
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

SCOPES = ("stripe:read",)
CODE_TTL_SECONDS = 300
DEFAULT_TOKEN_TTL_SECONDS = 300
REFRESH_TTL_SECONDS = 7 * 86_400
CONSENT_PATH = "/consent"
EVENTS_PATH = "/sandbox/oauth/events"


@dataclass(frozen=True)
class OAuthOptions:
    """How the sandbox's authorization server behaves."""

    token_ttl: int = DEFAULT_TOKEN_TTL_SECONDS  # seconds an access token lives
    livemode: bool = False  # shown on the consent page: which data set the grant reaches


@dataclass
class _Grant:
    """One approved authorization: the tokens issued under it share its fate on revocation."""

    id: str
    client_id: str
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)


class SandboxAuthProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """In-memory clients, consents, codes and tokens for the SDK's auth routes."""

    def __init__(self, issuer: str, options: OAuthOptions) -> None:
        self.issuer = issuer
        self.options = options
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.events: list[dict[str, Any]] = []
        self._consents: dict[str, tuple[str, AuthorizationParams]] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._grants: dict[str, _Grant] = {}
        self._grant_of: dict[str, str] = {}  # token -> grant id
        self._grant_ids = itertools.count(1)

    def record(self, event: str, **details: Any) -> None:
        self.events.append({"event": event, "at": time.time(), **details})

    # ---- clients and consent ------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.clients[client_info.client_id] = client_info
        self.record("registered", client_id=client_info.client_id, client_name=client_info.client_name)

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Park the request and send the browser to the consent page."""
        request_id = secrets.token_urlsafe(16)
        self._consents[request_id] = (client.client_id, params)
        return f"{self.issuer}{CONSENT_PATH}?request={request_id}"

    def consent_request(self, request_id: str) -> tuple[OAuthClientInformationFull, AuthorizationParams] | None:
        entry = self._consents.get(request_id)
        if entry is None or entry[0] not in self.clients:
            return None
        return self.clients[entry[0]], entry[1]

    def decide(self, request_id: str, approve: bool) -> str | None:
        """The redirect back to the client after the person's decision; None for an unknown request."""
        entry = self._consents.pop(request_id, None)
        if entry is None:
            return None
        client_id, params = entry
        redirect = str(params.redirect_uri)
        if not approve:
            self.record("denied", client_id=client_id)
            return construct_redirect_uri(redirect, error="access_denied", error_description="the user denied access", state=params.state)
        code = secrets.token_urlsafe(32)
        self._codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or list(SCOPES),
            expires_at=time.time() + CODE_TTL_SECONDS,
            client_id=client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        self.record("approved", client_id=client_id)
        return construct_redirect_uri(redirect, code=code, state=params.state)

    # ---- codes and tokens ---------------------------------------------------------------

    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str) -> AuthorizationCode | None:
        code = self._codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    async def exchange_authorization_code(self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode) -> OAuthToken:
        # Codes are single-use: the SDK has already checked PKCE, expiry and the redirect URI.
        if self._codes.pop(authorization_code.code, None) is None:
            raise TokenError("invalid_grant", "authorization code already used")
        grant = _Grant(f"grant-{next(self._grant_ids)}", client.client_id)
        self._grants[grant.id] = grant
        tokens = self._issue(grant, authorization_code.scopes, authorization_code.resource)
        self.record("issued", client_id=client.client_id, grant=grant.id)
        return tokens

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        token = self._refresh.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]) -> OAuthToken:
        grant_id = self._grant_of.get(refresh_token.token)
        grant = self._grants.get(grant_id or "")
        if grant is None:
            raise TokenError("invalid_grant", "refresh token was revoked")
        # Rotation: the presented refresh token is spent, whatever happens next.
        self._forget(refresh_token.token)
        tokens = self._issue(grant, scopes, refresh_token.resource)
        self.record("refreshed", client_id=client.client_id, grant=grant.id)
        return tokens

    async def load_access_token(self, token: str) -> AccessToken | None:
        return self._access.get(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        grant_id = self._grant_of.get(token.token)
        if isinstance(token, RefreshToken) and grant_id is not None:
            grant = self._grants.pop(grant_id)
            for value in grant.access | grant.refresh:
                self._forget(value)
            self.record("revoked", kind="grant", grant=grant_id, client_id=token.client_id)
            return
        self._forget(token.token)
        self.record("revoked", kind="access_token", grant=grant_id, client_id=token.client_id)

    def _issue(self, grant: _Grant, scopes: list[str], resource: str | None) -> OAuthToken:
        now = int(time.time())
        access, refresh = f"sbx_at_{secrets.token_urlsafe(32)}", f"sbx_rt_{secrets.token_urlsafe(32)}"
        self._access[access] = AccessToken(
            token=access, client_id=grant.client_id, scopes=scopes, expires_at=now + self.options.token_ttl, resource=resource
        )
        self._refresh[refresh] = RefreshToken(
            token=refresh, client_id=grant.client_id, scopes=scopes, expires_at=now + REFRESH_TTL_SECONDS, resource=resource
        )
        grant.access.add(access)
        grant.refresh.add(refresh)
        self._grant_of[access] = self._grant_of[refresh] = grant.id
        return OAuthToken(
            access_token=access, token_type="Bearer", expires_in=self.options.token_ttl, scope=" ".join(scopes), refresh_token=refresh
        )

    def _forget(self, token: str) -> None:
        self._access.pop(token, None)
        self._refresh.pop(token, None)
        grant = self._grants.get(self._grant_of.pop(token, ""))
        if grant is not None:
            grant.access.discard(token)
            grant.refresh.discard(token)


class SandboxTokenVerifier:
    """The bearer middleware's verifier: the provider's tokens, with every refusal recorded."""

    def __init__(self, provider: SandboxAuthProvider) -> None:
        self._provider = provider

    async def verify_token(self, token: str) -> AccessToken | None:
        found = await self._provider.load_access_token(token)
        if found is None:
            self._provider.record("bearer_rejected", reason="unknown or revoked")
        elif found.expires_at is not None and found.expires_at < int(time.time()):
            self._provider.record("bearer_rejected", reason="expired", client_id=found.client_id)
            return None
        return found


def auth_app_options(issuer: str, resource: str, options: OAuthOptions) -> dict[str, Any]:
    """Keyword arguments for ``Server.streamable_http_app`` that put ``/mcp`` behind OAuth."""
    provider = SandboxAuthProvider(issuer, options)
    settings = AuthSettings(
        issuer_url=issuer,  # type: ignore[arg-type]  # pydantic parses the URL
        resource_server_url=resource,  # type: ignore[arg-type]
        client_registration_options=ClientRegistrationOptions(enabled=True, valid_scopes=list(SCOPES), default_scopes=list(SCOPES)),
        revocation_options=RevocationOptions(enabled=True),
        required_scopes=list(SCOPES),
        validate_token_resource=True,  # a token requested for another resource is refused
    )
    return {
        "auth": settings,
        "token_verifier": SandboxTokenVerifier(provider),
        "auth_server_provider": provider,
        "custom_starlette_routes": _routes(provider),
    }


def _routes(provider: SandboxAuthProvider) -> list[Route]:
    async def consent(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            target = provider.decide(str(form.get("request", "")), approve=form.get("decision") == "approve")
            if target is None:
                return HTMLResponse("<p>Unknown or already answered authorization request.</p>", status_code=400)
            return RedirectResponse(target, status_code=302)
        request_id = request.query_params.get("request", "")
        found = provider.consent_request(request_id)
        if found is None:
            return HTMLResponse("<p>Unknown or already answered authorization request.</p>", status_code=400)
        client, params = found
        return HTMLResponse(_consent_page(request_id, client, params, provider.options.livemode))

    async def events(request: Request) -> Response:
        return JSONResponse({"events": provider.events})

    return [Route(CONSENT_PATH, consent, methods=["GET", "POST"]), Route(EVENTS_PATH, events, methods=["GET"])]


def _consent_page(request_id: str, client: OAuthClientInformationFull, params: AuthorizationParams, livemode: bool) -> str:
    name = html.escape(client.client_name or client.client_id)
    mode = "LIVE" if livemode else "test"
    scopes = html.escape(" ".join(params.scopes or SCOPES))
    rid = html.escape(request_id)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {name}</title></head>
<body>
<h1>Stripe MCP sandbox</h1>
<p><strong>{name}</strong> asks for access ({scopes}) to the sandbox's made-up <strong>{mode}-mode</strong> account.</p>
<form method="post" action="{CONSENT_PATH}">
<input type="hidden" name="request" value="{rid}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""
