"""`mcp-guard run`: build the guarded session from the config and serve it on stdio.

Start time matters (an editor starts one guard per window and profile), so only what the
configured upstream and the enabled features need is imported: the MCP SDK's HTTP client only
for a `url:` upstream, OpenTelemetry only when an exporter is named.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from mcp_guard import __version__
from mcp_guard.audit import AuditLog, AuditRecord, open_audit_log
from mcp_guard.checks import build_pipeline
from mcp_guard.config import UpstreamConfig
from mcp_guard.errors import AuditError, GuardError
from mcp_guard.guard import Guard, SessionInfo
from mcp_guard.redaction import Redactor, build_redactor, load_pseudonym_key
from mcp_guard.relay import ExitCode, Relay, Timeouts, UpstreamChannel
from mcp_guard.resolve import ResolvedProfile, describe_upstream, preflight, resolve_profile
from mcp_guard.telemetry import telemetry_from_env
from mcp_guard.transports.client_stdio import open_client_stdio
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
    resolved = resolve_profile(options.config, options.profile, command=options.command)
    logger.info("config %s sha256:%s profile %s", resolved.loaded.path, resolved.loaded.sha256, resolved.name)
    problems = preflight(resolved)
    if problems:
        raise GuardError(problems[0])
    oauth = _open_oauth(resolved)  # None unless the upstream says `auth: oauth`
    profile = resolved.profile
    redactor: Redactor | None = None
    if profile.redaction == "off":
        logger.warning("profile %r has redaction off: for diagnostics only, data reaches the client unredacted", resolved.name)
    else:
        redactor = build_redactor(profile.redaction, profile.mode, load_pseudonym_key())
    audit_log = open_audit_log(profile.audit, resolved.name)
    telemetry = telemetry_from_env(os.environ, service_version=__version__)
    fingerprint = oauth.fingerprint if oauth is not None else resolved.key_fingerprint
    session = SessionInfo(profile_name=resolved.name, profile=profile, upstream=describe_upstream(resolved.upstream), key_fingerprint=fingerprint)
    guard = Guard(session, build_pipeline(resolved.name, profile, redactor=redactor), LogSink(audit_log), telemetry, redactor=redactor)
    try:
        code: ExitCode = anyio.run(_serve, guard, resolved, audit_log, oauth)
        return int(code)
    finally:
        telemetry.shutdown()
        audit_log.close()


class LogSink:
    """The audit log as the guard's sink: each record is in the kernel before its answer goes out."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def commit(self, record: AuditRecord) -> None:
        self._log.write(record)


async def _serve(guard: Guard, resolved: ResolvedProfile, audit_log: AuditLog, oauth: OAuthCredential | None) -> ExitCode:
    upstream = resolved.upstream
    max_message_bytes = resolved.loaded.config.limits.max_message_bytes
    key = resolved.key.value if resolved.key is not None else None
    async with open_client_stdio(max_message_bytes) as client, _open_upstream(upstream, key, oauth) as channel:
        timeouts = Timeouts(initialize=upstream.initialize_timeout, request=upstream.request_timeout)
        async with anyio.create_task_group() as tg:
            read_stderr = getattr(channel, "read_stderr", None)
            if read_stderr is not None:
                tg.start_soon(read_stderr, guard.on_stderr)
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
async def _open_upstream(upstream: UpstreamConfig, key: str | None, oauth: OAuthCredential | None) -> AsyncIterator[UpstreamChannel]:
    if upstream.url is not None:
        from mcp_guard.transports.upstream_http import open_upstream_http  # the SDK's HTTP client: ~360 ms to import

        headers = dict(upstream.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = oauth.transport() if oauth is not None else None  # adds the grant's token, refreshing it
        async with open_upstream_http(upstream.url, headers, transport) as http_channel:
            yield http_channel
        return
    assert upstream.command is not None
    env = dict(upstream.env)
    if key:
        env[KEY_ENV_VAR] = key
    spec = StdioCommand(upstream.command, list(upstream.args), env, upstream.cwd)
    async with open_upstream_stdio(spec, UPSTREAM_MAX_MESSAGE_BYTES) as stdio_channel:
        yield stdio_channel


def _open_oauth(resolved: ResolvedProfile) -> OAuthCredential | None:
    """The profile's OAuth grant, checked offline and then with the upstream (which account, which
    mode); None when the upstream does not use `auth: oauth`. A missing, revoked or wrong-mode
    grant raises a GuardError here, before anything is served."""
    upstream = resolved.upstream
    if upstream.url is None or upstream.auth != "oauth":
        return None
    from mcp_guard.oauth import open_credential  # only OAuth profiles pay for its imports

    credential = open_credential(resolved.name, resolved.profile, upstream)
    assert credential is not None
    anyio.run(credential.verify)
    return credential


def _log_to_stderr() -> None:
    level = os.environ.get("MCP_GUARD_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mcp-guard: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
