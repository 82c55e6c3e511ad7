"""`mcp-guard logout --profile P`: revoke the profile's OAuth grant and delete it.

The refresh and access tokens are revoked at the authorization server (RFC 7009) when it has a
revocation endpoint; the stored grant is deleted in every case.

Exit codes: 0 revoked and deleted, or nothing was stored; 1 deleted here, but the server could not
revoke it (revoke it in the Stripe Dashboard); 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("logout", help="revoke and delete the profile's stored OAuth grant")
    parser.add_argument("--profile", required=True, help="profile name whose grant `mcp-guard login` stored")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import anyio

    from mcp_guard.errors import GrantError
    from mcp_guard.oauth import default_store, revoke_grant

    store = default_store()
    try:
        grant = store.load(args.profile)
    except GrantError as exc:
        store.delete(args.profile)
        print(f"profile {args.profile}: deleted an unreadable grant ({exc}); revoke it in the Stripe Dashboard if it was valid")
        return 1
    if grant is None:
        print(f"profile {args.profile}: no OAuth grant is stored")
        return 0
    problem = None
    try:
        revoked = anyio.run(revoke_grant, grant)
    except GrantError as exc:
        revoked, problem = False, str(exc)
    store.delete(args.profile)
    if problem is not None:
        print(f"mcp-guard: profile {args.profile}: deleted here, but not revoked: {problem}; revoke it in the Stripe Dashboard", file=sys.stderr)
        return 1
    how = "revoked and deleted" if revoked else "deleted (the server has no revocation endpoint: revoke it in the Stripe Dashboard)"
    print(f"profile {args.profile}: OAuth grant {grant.fingerprint} {how}")
    return 0
