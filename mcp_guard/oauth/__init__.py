"""mcp-guard as an OAuth client of the upstream (e.g. https://mcp.stripe.com): issue 14.

`mcp-guard login --profile P` obtains a grant (the MCP SDK's OAuth client flow: RFC 9728 and
RFC 8414 discovery, RFC 7591 registration, PKCE, a loopback redirect) and stores it per profile
(`_store`: the OS keyring, or a 0600 file). `run` binds it to the profile (`open_credential`),
checks the account's mode with the upstream (`OAuthCredential.verify`) and sends the upstream's
requests through `GrantTransport`, which refreshes the token before expiry and after a 401. Tokens
never leave this package except in an `Authorization` header to the upstream's own origin: the
client, the logs, the audit trail and the telemetry only ever see `Grant.fingerprint`.

Modules: `_grant` (the stored grant), `_store` (where it is kept), `_tokens` (refresh and
revocation), `_transport` (the bearer token on requests), `_probe` and `_session` (which account a
grant reaches), `_loopback` and `_login` (the login), `_credential` (run and check).
"""

from mcp_guard.oauth._credential import OAuthCredential, grant_problem, grant_report, open_credential, uses_oauth
from mcp_guard.oauth._grant import Grant, describe_expiry
from mcp_guard.oauth._login import login
from mcp_guard.oauth._store import GrantStore, default_store, state_dir
from mcp_guard.oauth._tokens import REFRESH_MARGIN_SECONDS, GrantTokens, revoke_grant
from mcp_guard.oauth._transport import GrantTransport

__all__ = [
    "REFRESH_MARGIN_SECONDS",
    "Grant",
    "GrantStore",
    "GrantTokens",
    "GrantTransport",
    "OAuthCredential",
    "default_store",
    "describe_expiry",
    "grant_problem",
    "grant_report",
    "login",
    "open_credential",
    "revoke_grant",
    "state_dir",
    "uses_oauth",
]
