"""`mcp-guard check [--config F] [--profile P]`: validate the config and print the effective policy.

Uses the same resolver and preflight as `run` (`mcp_guard.resolve`), so a config that passes
`check` starts: keys fit their profiles and are not on argv, a key the upstream needs is there,
the upstream command exists, the audit directory can be created and written.
Exit codes: 0 valid; 1 invalid config or a preflight problem (one line each on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp_guard.checks.budgets.check import describe_budgets
from mcp_guard.checks.catalog_pin.lock import describe_pinning
from mcp_guard.config import UpstreamConfig, load_config
from mcp_guard.errors import ConfigError, KeyBindingError
from mcp_guard.keys import check_key_binding, key_fingerprint
from mcp_guard.resolve import ResolvedProfile, preflight, resolve_profile


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("check", help="validate a config and print the effective policy")
    parser.add_argument("--config", type=Path, help="config file (default: $MCP_GUARD_CONFIG, the user config dir, then the shipped default)")
    parser.add_argument("--profile", help="only this profile (default: all)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    names = [args.profile] if args.profile else list(loaded.config.profiles)
    print(f"config: {loaded.path} (sha256:{loaded.sha256})")
    failures: list[str] = []
    for name in names:
        loaded.profile(name)  # an unknown profile is a ConfigError naming the known ones
        print()
        try:
            resolved = resolve_profile(loaded.path, name)
        except ConfigError as exc:  # e.g. a profile without an upstream: report it with the others
            print(f"profile {name}\n  {'problem:':<13} {exc}")
            failures.append(str(exc))
            continue
        problems = preflight(resolved)
        print_profile(resolved, problems)
        failures.extend(problems)
    for failure in failures:
        print(f"mcp-guard: {failure}", file=sys.stderr)
    return 1 if failures else 0


def print_profile(resolved: ResolvedProfile, problems: list[str]) -> None:
    """Print one profile's effective policy and key state; an OAuth grant's problems are added to `problems`."""
    profile = resolved.profile
    name = resolved.name
    upstream = resolved.upstream
    rows: list[tuple[str, str]] = [("mode", profile.mode.value)]
    credentials = resolved.credentials()
    oauth = upstream.url is not None and upstream.auth == "oauth"
    if not credentials and not oauth:
        rows.append(("key", f"no key (profiles.{name}.api_key is not set; the upstream gets none)"))
    for credential in credentials:
        try:
            check_key_binding(profile, credential.value, where=credential.where)
            status = "ok"
        except KeyBindingError:
            status = "REFUSED"
        rows.append(("key", f"{key_fingerprint(credential.value)} from {credential.where}: {status}"))
    if oauth:
        from mcp_guard.oauth import grant_report  # only OAuth profiles pay for its imports

        grant_rows, grant_problems = grant_report(name, profile, upstream)
        rows.extend(grant_rows)
        problems.extend(grant_problems)
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
    if a.search_fields is not None:
        keep = profile.redaction.metadata_keep if profile.redaction != "off" else []
        rows.append(("search", ", ".join([*a.search_fields, *(f"metadata[{key}]" for key in keep)]) or "no fields"))
    if profile.redaction == "off":
        rows.append(("redaction", "OFF"))
        rows.append(("warning", "redaction is off: PII, card data and secrets reach the client unchanged"))
    else:
        rows.append(("redaction", f"on ({profile.mode.value} defaults)"))
    audit = profile.audit
    cap = f", at most {audit.max_bytes} bytes" if audit.max_bytes else ""
    rows.append(("audit", f"{audit.dir} (retention {audit.retention_days} days{cap}, on failure: {audit.on_failure.value})"))
    rows.append(("pinning", describe_pinning(resolved.loaded.path, name, profile)))
    rows.append(("budgets", describe_budgets(name, profile)))
    rows.append(("preflight", "ok" if not problems else f"{len(problems)} problem(s), listed on stderr"))
    print(f"profile {name}")
    for label, value in rows:
        print(f"  {label + ':':<13} {value}")


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
