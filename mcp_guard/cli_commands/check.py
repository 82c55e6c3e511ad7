"""`mcp-guard check [--config F] [--profile P]`: validate the config and print the effective policy.

Exit codes: 0 valid; 1 invalid config (one line per problem) or a key that does not fit its profile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp_guard.config import LoadedConfig, Profile, UpstreamConfig, load_config
from mcp_guard.errors import KeyBindingError
from mcp_guard.keys import check_key_binding, find_upstream_keys, key_fingerprint


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("check", help="validate a config and print the effective policy")
    parser.add_argument("--config", type=Path, help="config file (default: the usual places, then the shipped default)")
    parser.add_argument("--profile", help="only this profile (default: all)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    names = [args.profile] if args.profile else list(loaded.config.profiles)
    print(f"config: {loaded.path}")
    failures: list[str] = []
    for name in names:
        profile = loaded.profile(name)
        print()
        failures.extend(print_profile(loaded, profile))
    for failure in failures:
        print(f"mcp-guard: {failure}", file=sys.stderr)
    return 1 if failures else 0


def print_profile(loaded: LoadedConfig, profile: Profile) -> list[str]:
    """Print one profile; return its key binding failures."""
    name = profile.name
    upstream = profile.upstream or loaded.config.upstream
    rows: list[tuple[str, str]] = [("mode", profile.mode.value)]
    failures: list[str] = []
    keys: list[tuple[str, str]] = []
    if profile.api_key is not None:
        keys.append((f"profiles.{name}.api_key", profile.api_key.get_secret_value()))
    if upstream is not None:
        where = f"profiles.{name}.upstream" if profile.upstream else "upstream"
        keys.extend(find_upstream_keys(upstream, where))
    oauth = upstream is not None and upstream.url is not None and upstream.auth == "oauth"
    if not keys and not oauth:
        rows.append(("key", f"no key (profiles.{name}.api_key is not set; the upstream gets none)"))
    for where, key in keys:
        try:
            check_key_binding(profile, key, where=where)
            status = "ok"
        except KeyBindingError as exc:
            failures.append(str(exc))
            status = "REFUSED"
        rows.append(("key", f"{key_fingerprint(key)} from {where}: {status}"))
        if ".args[" in where:  # `run` refuses this too: argv is readable by every local user (ps)
            failures.append(f"{where}: an API key on the upstream's command line; pass it through profiles.{name}.api_key")
    if oauth:
        from mcp_guard.oauth import grant_report  # only OAuth profiles pay for its imports

        assert upstream is not None
        grant_rows, grant_failures = grant_report(name, profile, upstream)
        rows.extend(grant_rows)
        failures.extend(grant_failures)
    rows.append(("upstream", describe_upstream(upstream)))
    rows.append(("allowed", ", ".join(o.value for o in profile.allowed_operations) or "nothing"))
    rows.append(("blocked", ", ".join(o.value for o in profile.blocked_operations) or "nothing"))
    overlap = [o.value for o in profile.allowed_operations if o in profile.blocked_operations]
    if overlap:
        rows.append(("note", f"{', '.join(overlap)} both allowed and blocked: blocked wins"))
    for tool, rule in profile.tools.items():
        parts = [f"operation {rule.operation.value}"] if rule.operation else []
        parts += [f"decision {rule.decision}"] if rule.decision else []
        rows.append(("tool", f"{tool}: {', '.join(parts)}"))
    rows.append(("methods", ", ".join(profile.allowed_methods) or "none"))
    a = profile.arguments
    rows.append(("max_limit", str(a.max_limit) if a.max_limit is not None else "no cap"))
    rows.append(("expand_deny", ", ".join(a.expand_deny) or "none"))
    rows.append(("expand_allow", "any path not denied" if a.expand_allow is None else (", ".join(a.expand_allow) or "none")))
    rows.append(("accounts", "platform account only" if a.connected_accounts is None else (", ".join(a.connected_accounts) or "none")))
    if profile.redaction == "off":
        rows.append(("redaction", "OFF"))
        rows.append(("warning", "redaction is off: PII, card data and secrets reach the client unchanged"))
    else:
        rows.append(("redaction", f"on ({profile.mode.value} defaults)"))
    audit = profile.audit
    cap = f", at most {audit.max_bytes} bytes" if audit.max_bytes else ""
    rows.append(("audit", f"{audit.dir} (retention {audit.retention_days} days{cap}, on failure: {audit.on_failure.value})"))
    print(f"profile {name}")
    for label, value in rows:
        print(f"  {label + ':':<13} {value}")
    return failures


def describe_upstream(upstream: UpstreamConfig | None) -> str:
    if upstream is None:
        return "none configured"
    timing = f"initialize {upstream.initialize_timeout:g}s, requests {upstream.request_timeout:g}s"
    if upstream.url is not None:
        auth = ", OAuth" if upstream.auth == "oauth" else ""
        return f"{upstream.url} (streamable HTTP{auth}; {timing})"
    # Arguments are shown except a --api-key= value, which is never printed.
    shown = [a.split("=", 1)[0] + "=***" if a.startswith("--api-key=") else a for a in upstream.args]
    return f"{' '.join([upstream.command or '', *shown])} (stdio; {timing})"
