"""`mcp-guard login --profile P [--config F] [--no-browser] [--timeout SECONDS]`

Authorizes mcp-guard with the profile's upstream over OAuth (the upstream has `auth: oauth`), once,
in a terminal: the authorization URL is printed on stderr (and opened in the system browser when
there is one), the person approves, and the grant is checked against the profile's mode and stored
(mcp_guard.oauth). The summary goes to stdout; no token is ever printed.

Exit codes: 0 logged in; 1 a GuardError (no OAuth upstream, refused or timed-out authorization, a
grant for the wrong mode); 2 bad usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT_SECONDS = 300.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "login",
        help="authorize mcp-guard with the profile's upstream over OAuth and store the grant",
        description="Run the OAuth login of a profile whose upstream has `auth: oauth` (e.g. https://mcp.stripe.com).",
    )
    parser.add_argument("--profile", required=True, help="profile name from the config (e.g. test, live)")
    parser.add_argument("--config", type=Path, help="config file (default: the usual places, then the shipped default)")
    parser.add_argument("--no-browser", action="store_true", help="only print the authorization URL; do not open a browser")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, metavar="SECONDS",
                        help=f"give up when the authorization takes longer (default {DEFAULT_TIMEOUT_SECONDS:g})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import anyio

    from mcp_guard.config import load_config
    from mcp_guard.errors import ConfigError, GrantError
    from mcp_guard.oauth import default_store, describe_expiry, login, uses_oauth

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="mcp-guard: %(levelname)s: %(message)s")
    loaded = load_config(args.config)
    profile = loaded.profile(args.profile)
    upstream = loaded.upstream_for(args.profile)
    if not uses_oauth(upstream):
        raise ConfigError(f"{loaded.path}: profile {args.profile!r}: its upstream does not use OAuth (set `url:` and `auth: oauth`)")
    if profile.api_key is not None:
        raise ConfigError(f"profile {args.profile!r}: profiles.{args.profile}.api_key is set, but its upstream uses `auth: oauth`; remove one of them")
    url = upstream.url
    assert url is not None
    store = default_store()

    def announce(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    async def main() -> Any:
        with anyio.fail_after(args.timeout):
            return await login(profile, url, store, announce=announce, open_browser=not args.no_browser)

    try:
        grant = anyio.run(main)
    except TimeoutError:
        raise GrantError(f"profile {args.profile!r}: no authorization within {args.timeout:g} s; nothing was stored") from None
    account = f" {grant.account}" if grant.account else ""
    print(f"profile {args.profile}: logged in to {url}")
    print(f"  grant:    {grant.fingerprint}")
    print(f"  account:  {grant.mode.value} mode{account}")
    print(f"  expiry:   {describe_expiry(grant)}")
    print(f"  stored:   {store.describe(args.profile)}")
    return 0
