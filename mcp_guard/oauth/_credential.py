"""A profile's OAuth credential for `run` and `check`: the stored grant, bound and checked.

`open_credential` is the fast, offline part (`run` calls it before anything else): the upstream
uses `auth: oauth`, no API key competes with it, a grant is stored for the profile, for the same
endpoint, and for the profile's mode. `OAuthCredential.verify` is the online part: it asks the
upstream, with the grant, which account it reaches (refreshing the token when due), and refuses
a grant whose account is in the other mode. Every refusal is one line naming the fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio
import httpx2

from mcp_guard.config import Profile, UpstreamConfig
from mcp_guard.errors import ConfigError, GrantError
from mcp_guard.oauth._grant import Grant, describe_expiry
from mcp_guard.oauth._probe import reach_problem
from mcp_guard.oauth._session import ask_reach
from mcp_guard.oauth._store import GrantStore, default_store
from mcp_guard.oauth._tokens import GrantTokens, relogin
from mcp_guard.oauth._transport import GrantTransport

logger = logging.getLogger("mcp_guard")


def uses_oauth(upstream: UpstreamConfig | None) -> bool:
    return upstream is not None and upstream.url is not None and upstream.auth == "oauth"


@dataclass
class OAuthCredential:
    profile: Profile
    upstream: UpstreamConfig
    store: GrantStore
    tokens: GrantTokens

    @property
    def fingerprint(self) -> str:
        return self.tokens.grant.fingerprint

    def transport(self) -> GrantTransport:
        """The HTTP transport that puts the grant's token on the upstream's requests."""
        assert self.upstream.url is not None
        return GrantTransport(self.tokens, self.upstream.url)

    async def verify(self) -> None:
        """Ask the upstream what the grant reaches; GrantError unless it fits the profile."""
        assert self.upstream.url is not None
        with anyio.fail_after(self.upstream.initialize_timeout):
            async with httpx2.AsyncClient(transport=self.transport(), timeout=self.upstream.initialize_timeout) as http:
                reach = await ask_reach(self.upstream.url, http)
        name = self.profile.name
        problem = reach_problem(reach, name, self.profile.mode)
        if problem is not None:
            raise GrantError(f"profile {name!r}: {problem}: {relogin(name)} with a {self.profile.mode.value}-mode account")
        grant = self.tokens.grant
        account = f", account {reach.account}" if reach.account else ""
        logger.info("OAuth grant %s: reaches a %s-mode account%s; %s", grant.fingerprint, grant.mode.value, account, describe_expiry(grant))


def open_credential(name: str, profile: Profile, upstream: UpstreamConfig, store: GrantStore | None = None) -> OAuthCredential | None:
    """The profile's OAuth credential, or None when its upstream does not use OAuth."""
    if not uses_oauth(upstream):
        return None
    if profile.api_key is not None:
        raise ConfigError(f"profile {name!r}: profiles.{name}.api_key is set, but its upstream uses `auth: oauth`; remove one of them")
    store = store or default_store()
    grant = store.load(name)
    problem = grant_problem(name, profile, upstream, grant)
    if problem is not None:
        raise GrantError(problem)
    assert grant is not None
    return OAuthCredential(profile, upstream, store, GrantTokens(store, grant))


def grant_problem(name: str, profile: Profile, upstream: UpstreamConfig, grant: Grant | None) -> str | None:
    """Why a stored grant (or its absence) cannot serve the profile, without asking the network."""
    if grant is None:
        return f"profile {name!r} has no OAuth grant: {relogin(name)}"
    if grant.mode is not profile.mode:
        return f"profile {name!r} has mode {profile.mode.value} but its OAuth grant reaches a {grant.mode.value}-mode account; test and live never mix: {relogin(name)}"
    if grant.server_url != upstream.url:
        return f"profile {name!r}: the OAuth grant was made for {grant.server_url}, not for the upstream {upstream.url}: {relogin(name)}"
    return None


def grant_report(name: str, profile: Profile, upstream: UpstreamConfig, store: GrantStore | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """`check`'s rows for an OAuth profile (present, mode, account, expiry, where), and its failures.

    Offline: it reads the stored grant and never asks the upstream. No grant is reported, not
    failed, like a profile without a key; a grant `run` would refuse is a failure.
    """
    rows: list[tuple[str, str]] = [("auth", f"oauth (the grant `mcp-guard login --profile {name}` stores)")]
    failures: list[str] = []
    if profile.api_key is not None:
        failures.append(f"profile {name!r}: profiles.{name}.api_key is set, but its upstream uses `auth: oauth`; remove one of them")
    try:
        store = store or default_store()
        grant = store.load(name)
    except GrantError as exc:
        rows.append(("grant", "UNREADABLE"))
        failures.append(str(exc))
        return rows, failures
    if grant is None:
        rows.append(("grant", f"none stored ({relogin(name)})"))
        return rows, failures
    problem = grant_problem(name, profile, upstream, grant)
    account = f" {grant.account}" if grant.account else ""
    rows.append(("grant", f"{grant.fingerprint}: {'REFUSED' if problem else 'ok'}"))
    rows.append(("account", f"{grant.mode.value} mode{account}"))
    rows.append(("expiry", describe_expiry(grant)))
    rows.append(("stored", store.describe(name)))
    if problem is not None:
        failures.append(problem)
    return rows, failures
