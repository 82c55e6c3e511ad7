"""`mcp-guard run`: build the guarded session from the config and serve it on stdio."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from mcp_guard import __version__
from mcp_guard.audit import AuditLog, open_audit_log
from mcp_guard.config import Profile, UpstreamConfig, load_config
from mcp_guard.errors import AuditError, ConfigError
from mcp_guard.guard import Guard, SessionInfo
from mcp_guard.keys import check_key_binding, find_upstream_keys, key_fingerprint
from mcp_guard.redaction import build_redactor, load_pseudonym_key
from mcp_guard.relay import ExitCode, Relay, Timeouts
from mcp_guard.telemetry import telemetry_from_env
from mcp_guard.transports.client_stdio import open_client_stdio
from mcp_guard.transports.upstream_http import open_upstream_http
from mcp_guard.transports.upstream_stdio import StdioCommand, open_upstream_stdio

if TYPE_CHECKING:
    from mcp_guard.oauth import OAuthCredential

logger = logging.getLogger("mcp_guard")

# Results from Stripe can be large (a page of 100 expanded objects); the client-side cap is the
# config's limits.max_message_bytes, the upstream's is this fixed ceiling.
UPSTREAM_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
KEY_ENV_VAR = "STRIPE_SECRET_KEY"
PRUNE_INTERVAL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RunOptions:
    profile: str
    config: Path | None
    command: Sequence[str]  # overrides the config's upstream with a stdio command when given


def run(options: RunOptions) -> int:
    _log_to_stderr()
    loaded = load_config(options.config)
    profile = loaded.profile(options.profile)
    upstream = _override(loaded, options) if options.command else loaded.upstream_for(options.profile)
    key = profile.api_key.get_secret_value() if profile.api_key is not None else None
    _check_keys(options.profile, profile, upstream, key)
    oauth = _open_oauth(options.profile, profile, upstream)  # None unless `auth: oauth`

    if profile.redaction == "off":
        logger.warning("profile %r has redaction off: for diagnostics only, data reaches the client unredacted", options.profile)
        redactor = None
    else:
        redactor = build_redactor(profile.redaction, profile.mode, load_pseudonym_key())
    audit_log = open_audit_log(profile.audit, options.profile)
    telemetry = telemetry_from_env(os.environ, service_version=__version__)
    fingerprint = oauth.fingerprint if oauth is not None else (key_fingerprint(key) if key else None)
    session = SessionInfo(options.profile, profile, _describe(upstream), fingerprint)
    try:
        return int(anyio.run(_serve, session, upstream, key, loaded.config.limits.max_message_bytes, redactor, audit_log, telemetry, oauth))
    finally:
        telemetry.shutdown()
        audit_log.close()


async def _serve(session, upstream: UpstreamConfig, key, max_message_bytes, redactor, audit_log, telemetry, oauth=None) -> ExitCode:  # type: ignore[no-untyped-def]
    async with open_client_stdio(max_message_bytes) as client, _open_upstream(upstream, key, oauth) as channel:
        guard = Guard(session, redactor, audit_log, telemetry)
        timeouts = Timeouts(initialize=upstream.initialize_timeout, request=upstream.request_timeout)
        async with anyio.create_task_group() as tg:
            if hasattr(channel, "read_stderr"):
                tg.start_soon(channel.read_stderr, guard.on_stderr)
            tg.start_soon(_prune_daily, audit_log)
            code = await Relay(client, channel, guard, timeouts, max_message_bytes).run()
            tg.cancel_scope.cancel()
    return code


async def _prune_daily(audit_log: AuditLog) -> None:
    """Writes prune on the first record of each UTC day; this covers a guard left idle for days."""
    while True:
        await anyio.sleep(PRUNE_INTERVAL_SECONDS)
        try:
            await anyio.to_thread.run_sync(audit_log.prune)
        except AuditError as exc:
            logger.error("audit prune failed: %s", exc)


@asynccontextmanager
async def _open_upstream(upstream: UpstreamConfig, key: str | None, oauth: OAuthCredential | None = None) -> AsyncIterator:  # type: ignore[type-arg]
    if upstream.url is not None:
        headers = dict(upstream.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = oauth.transport() if oauth is not None else None  # adds the grant's token, refreshing it
        async with open_upstream_http(upstream.url, headers, transport) as channel:
            yield channel
        return
    assert upstream.command is not None
    env = dict(upstream.env)
    if key:
        env[KEY_ENV_VAR] = key
    spec = StdioCommand(upstream.command, list(upstream.args), env, upstream.cwd)
    async with open_upstream_stdio(spec, UPSTREAM_MAX_MESSAGE_BYTES) as channel:
        yield channel


def _override(loaded, options: RunOptions) -> UpstreamConfig:  # type: ignore[no-untyped-def]
    """A command after `--` replaces the configured one; its env and timeouts still apply."""
    try:
        base = loaded.upstream_for(options.profile)
    except ConfigError:
        base = None
    command, *args = options.command
    settings = {"initialize_timeout": base.initialize_timeout, "request_timeout": base.request_timeout, "env": base.env} if base else {}
    return UpstreamConfig(command=command, args=args, **settings)



def _check_keys(name: str, profile: Profile, upstream: UpstreamConfig, key: str | None) -> None:
    """Every key the upstream could receive must fit the profile, and none may sit on argv."""
    found = [(f"profiles.{name}.api_key", key)] if key else []
    found += list(find_upstream_keys(upstream, "upstream"))
    for where, value in found:
        check_key_binding(profile, value, where=where)
    secrets = [value for _, value in found]
    for arg in [upstream.command or "", *upstream.args]:
        if arg.startswith("--api-key") or any(secret in arg for secret in secrets):
            raise ConfigError(
                f"profile {name!r}: an API key is on the upstream's command line ({arg.split('=')[0]}...); "
                f"pass it through profiles.{name}.api_key so it travels in the environment"
            )


def _open_oauth(name: str, profile: Profile, upstream: UpstreamConfig) -> OAuthCredential | None:
    """The profile's OAuth grant, checked offline and then with the upstream (which account, which
    mode); None when the upstream does not use `auth: oauth`. A missing, revoked or wrong-mode
    grant raises a GuardError here, before anything is served."""
    if upstream.url is None or upstream.auth != "oauth":
        return None
    from mcp_guard.oauth import open_credential  # only OAuth profiles pay for its imports

    credential = open_credential(name, profile, upstream)
    assert credential is not None
    anyio.run(credential.verify)
    return credential


def _describe(upstream: UpstreamConfig) -> str:
    if upstream.url is not None:
        parts = urlsplit(upstream.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return " ".join([os.path.basename(upstream.command or ""), *upstream.args[:2]])


def _log_to_stderr() -> None:
    level = os.environ.get("MCP_GUARD_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mcp-guard: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
