"""A stored OAuth grant: what `mcp-guard login` obtained for one profile, and what `run` uses.

The model keeps the three secrets (access token, refresh token, client secret) as `SecretStr`, so
a grant's repr, a log line or an exception never shows them; `public_part` and `secret_part` split
a grant for storage (see `_store`). A grant is bound to the profile it was made for, to the MCP
endpoint and resource it was requested for, and to the mode (test or live) of the account it
reaches, which `login` learned by asking the upstream.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from mcp.shared.auth import OAuthToken
from pydantic import BaseModel, ConfigDict, SecretStr

from mcp_guard.config import Mode

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret")


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str
    mode: Mode  # the mode of the account the grant reaches, as the upstream reported it at login
    server_url: str  # the MCP endpoint login was run against
    resource: str  # the RFC 8707 resource the tokens are bound to
    issuer: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    client_id: str
    client_secret: SecretStr | None = None
    token_endpoint_auth_method: str | None = None
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    scope: str | None = None
    expires_at: float | None = None  # unix time; None when the server gave no lifetime
    account: str | None = None  # the acct_ id the grant reaches, when the upstream said
    obtained_at: float

    @property
    def fingerprint(self) -> str:
        """`oauth test grant …c0de sha256:1a2b3c4d`: names the grant (one per login) without any secret.

        Stable across refreshes: it hashes the issuer and the client registered at login, never
        a token, so audit records of one grant share it.
        """
        digest = hashlib.sha256(f"{self.issuer}\n{self.client_id}".encode()).hexdigest()[:8]
        return f"oauth {self.mode.value} grant …{self.client_id[-4:]} sha256:{digest}"

    def expires_in(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def refreshed(self, token: OAuthToken, now: float | None = None) -> Grant:
        """This grant with the tokens of a token response.

        RFC 6749 §6: a refresh response may omit the refresh token (the server does not rotate)
        and the scope (unchanged); both carry forward.
        """
        now = time.time() if now is None else now
        refresh = SecretStr(token.refresh_token) if token.refresh_token else self.refresh_token
        return self.model_copy(
            update={
                "access_token": SecretStr(token.access_token),
                "refresh_token": refresh,
                "scope": token.scope or self.scope,
                "expires_at": now + int(token.expires_in) if token.expires_in is not None else None,
            }
        )

    def public_part(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(SECRET_FIELDS))

    def secret_part(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            out[name] = value.get_secret_value() if value is not None else None
        return out


def describe_expiry(grant: Grant, now: float | None = None) -> str:
    """`access token expires in 4m 10s (refreshable)`, for `check` and log lines."""
    remaining = grant.expires_in(now)
    refreshable = "refreshable" if grant.refresh_token is not None else "no refresh token"
    if remaining is None:
        return f"access token has no stated expiry ({refreshable})"
    if remaining <= 0:
        return f"access token expired {_duration(-remaining)} ago ({refreshable})"
    return f"access token expires in {_duration(remaining)} ({refreshable})"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"
