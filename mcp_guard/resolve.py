"""From a config file and a profile name to what a guarded session needs, and what would stop it.

One resolver for `run`, `check` and `tools`, so `check` validates exactly what `run` would:
`resolve_profile` loads the config and picks the profile, its upstream (or the command given
after `--`) and its key; `preflight` lists every problem `run` would fail on (a key that does
not fit the profile or sits on argv, a missing key the upstream needs, an upstream command that
does not exist, an audit directory that cannot be created or written, a catalog lock missing
under `pinning: enforce`). Messages name the config key and the environment variable a key came
from, never the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mcp_guard.config import LoadedConfig, PinningMode, Profile, UpstreamConfig, load_config
from mcp_guard.errors import ConfigError, KeyBindingError, UpstreamError
from mcp_guard.keys import check_key_binding, find_upstream_keys, key_fingerprint
from mcp_guard.transports.process import child_environment, resolve_command

# Upstreams that cannot work without a Stripe key: the npm relay and the hosted server.
STRIPE_RELAY_PACKAGE = "@stripe/mcp"
STRIPE_HOSTED_HOST = "mcp.stripe.com"


@dataclass(frozen=True)
class Credential:
    """A key and where it came from: `profiles.live.api_key (from $STRIPE_LIVE_KEY)`."""

    value: str
    where: str

    def __repr__(self) -> str:
        return f"Credential({key_fingerprint(self.value)!r}, where={self.where!r})"


@dataclass(frozen=True)
class ResolvedProfile:
    loaded: LoadedConfig
    name: str
    profile: Profile
    upstream: UpstreamConfig
    key: Credential | None  # what the upstream gets as STRIPE_SECRET_KEY or a bearer token

    @property
    def key_fingerprint(self) -> str | None:
        return key_fingerprint(self.key.value) if self.key is not None else None

    def credentials(self) -> list[Credential]:
        """Every key the upstream could receive: the profile's, and any in the upstream's own config."""
        found = [self.key] if self.key is not None else []
        where = f"profiles.{self.name}.upstream" if self.profile.upstream is not None else "upstream"
        found += [Credential(value, place) for place, value in find_upstream_keys(self.upstream, where)]
        return found


def resolve_profile(
    config: Path | None, name: str, *, command: Sequence[str] = (), environ: Mapping[str, str] = os.environ
) -> ResolvedProfile:
    """Load the config and resolve one profile; raises ConfigError naming the file and key."""
    return resolve_loaded(load_config(config, environ), name, command=command)


def resolve_loaded(loaded: LoadedConfig, name: str, *, command: Sequence[str] = ()) -> ResolvedProfile:
    """Resolve one profile of a loaded config (see `resolve_profile`)."""
    profile = loaded.profile(name)
    upstream = _override(loaded, name, command) if command else loaded.upstream_for(name)
    key = None
    if profile.api_key is not None:
        keypath = f"profiles.{name}.api_key"
        variables = loaded.variables_of(keypath)
        source = f" (from ${', $'.join(variables)})" if variables else ""
        key = Credential(profile.api_key.get_secret_value(), keypath + source)
    return ResolvedProfile(loaded, name, profile, upstream, key)


def _override(loaded: LoadedConfig, name: str, command: Sequence[str]) -> UpstreamConfig:
    """A command after `--` replaces the configured upstream; its env and timeouts still apply."""
    try:
        base: UpstreamConfig | None = loaded.upstream_for(name)
    except ConfigError:
        base = None
    executable, *args = command
    if base is None:
        return UpstreamConfig(command=executable, args=args)
    return UpstreamConfig(
        command=executable, args=args, env=base.env, initialize_timeout=base.initialize_timeout, request_timeout=base.request_timeout
    )


def preflight(resolved: ResolvedProfile, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every reason `run` would refuse to start, one line each (empty: it would start)."""
    return [*upstream_preflight(resolved, environ), *_audit_problems(resolved), *_pinning_problems(resolved)]


def upstream_preflight(resolved: ResolvedProfile, environ: Mapping[str, str] = os.environ) -> list[str]:
    """What would stop the upstream from being started safely (its key, its command): for `lock`."""
    return [*_key_problems(resolved), *_upstream_problems(resolved, environ)]


def _pinning_problems(resolved: ResolvedProfile) -> list[str]:
    """A catalog lock that cannot be read, or none for a profile with `pinning: enforce`."""
    if resolved.profile.pinning is PinningMode.OFF:
        return []  # nothing to read: and `run` does not import the pipeline before it starts the upstream
    from mcp_guard.checks.catalog_pin.lock import pinning_problems  # the pipeline: only when preflight runs

    return pinning_problems(resolved.loaded.path, resolved.name, resolved.profile)


def _key_problems(resolved: ResolvedProfile) -> list[str]:
    problems: list[str] = []
    credentials = resolved.credentials()
    for credential in credentials:
        try:
            check_key_binding(resolved.profile, credential.value, where=credential.where)
        except KeyBindingError as exc:
            problems.append(str(exc))
    secrets = [credential.value for credential in credentials]
    upstream = resolved.upstream
    for arg in [upstream.command or "", *upstream.args]:
        if arg.startswith("--api-key") or any(secret and secret in arg for secret in secrets):
            problems.append(
                f"profile {resolved.name!r}: an API key is on the upstream's command line ({arg.split('=')[0]}...), "
                f"where `ps` shows it to every local user; pass it through profiles.{resolved.name}.api_key"
            )
    if not credentials and upstream.auth != "oauth" and needs_stripe_key(upstream):
        keypath = f"profiles.{resolved.name}.api_key"
        variables = resolved.loaded.variables_of(keypath)
        hint = f"set ${variables[0]}" if variables else f"set {keypath}"
        problems.append(f"profile {resolved.name!r} has no Stripe key and {describe_upstream(upstream)} needs one: {hint}")
    return problems


def needs_stripe_key(upstream: UpstreamConfig) -> bool:
    if upstream.url is not None:
        return urlsplit(upstream.url).hostname == STRIPE_HOSTED_HOST
    return any(STRIPE_RELAY_PACKAGE in arg for arg in [upstream.command or "", *upstream.args])


def _upstream_problems(resolved: ResolvedProfile, environ: Mapping[str, str]) -> list[str]:
    upstream = resolved.upstream
    if upstream.url is not None:
        parts = urlsplit(upstream.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return [f"upstream url {upstream.url!r} is not an http(s) URL"]
        return []
    assert upstream.command is not None
    env = child_environment(upstream.env, environ)
    try:
        resolve_command(upstream.command, env.get("PATH"))
    except UpstreamError as exc:
        return [str(exc)]
    if upstream.cwd is not None and not Path(upstream.cwd).is_dir():
        return [f"upstream cwd {upstream.cwd} is not a directory"]
    return []


def _audit_problems(resolved: ResolvedProfile) -> list[str]:
    """The audit directory must be creatable and writable: without it every request is refused."""
    directory = Path(resolved.profile.audit.dir).expanduser()
    where = f"profiles.{resolved.name}.audit.dir"
    if directory.exists():
        if not directory.is_dir():
            return [f"{where}: {directory} is not a directory"]
        if not os.access(directory, os.W_OK | os.X_OK):
            return [f"{where}: {directory} is not writable by this user"]
        unwritable = [p.name for p in directory.glob("audit-*.jsonl") if not os.access(p, os.W_OK)]
        if unwritable:
            return [f"{where}: audit file {directory / unwritable[-1]} is not writable by this user"]
        return []
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return [f"{where}: {directory} cannot be created ({parent} is not a writable directory)"]
    return []


def describe_upstream(upstream: UpstreamConfig) -> str:
    """A short description without secrets: the URL without query, or the command and its first args."""
    if upstream.url is not None:
        parts = urlsplit(upstream.url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return " ".join([os.path.basename(upstream.command or ""), *upstream.args[:2]])
