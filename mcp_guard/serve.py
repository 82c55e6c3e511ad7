"""`mcp-guard run`: build the guarded session from the config and serve it on stdio.

Start time matters (an editor starts one guard per window and profile), so only what the
configured upstream and the enabled features need is imported: the MCP SDK's HTTP client only
for a `url:` upstream, OpenTelemetry only when an exporter is named.

Logging never blocks serving: log lines go through a bounded queue to a thread that writes
stderr, so a host that does not read mcp-guard's stderr costs log lines (counted, and the count
reported once stderr drains), never answers or timers. The upstream's own stderr is logged at
debug level; its error blocks and fatal causes, folded into one line each, at warning.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from mcp_guard import __version__
from mcp_guard.audit import AuditLog, GroupCommitter, open_audit_log
from mcp_guard.checks import build_pipeline
from mcp_guard.checks.catalog_pin.lock import open_catalog_lock
from mcp_guard.config import Limits, UpstreamConfig
from mcp_guard.errors import AuditError, GuardError
from mcp_guard.guard import Guard, SessionInfo
from mcp_guard.redaction import Redactor, build_redactor, load_pseudonym_key
from mcp_guard.relay import ExitCode, Relay, Timeouts, UpstreamChannel
from mcp_guard.resolve import ResolvedProfile, describe_upstream, preflight, resolve_profile
from mcp_guard.telemetry import Telemetry, telemetry_from_env
from mcp_guard.transports.client_stdio import open_client_stdio
from mcp_guard.transports.upstream_stdio import StdioCommand, open_upstream_stdio

if TYPE_CHECKING:
    from mcp_guard.oauth import OAuthCredential

logger = logging.getLogger("mcp_guard")

KEY_ENV_VAR = "STRIPE_SECRET_KEY"
PRUNE_INTERVAL_SECONDS = 24 * 3600
LOG_QUEUE_LINES = 2000  # log lines waiting for stderr before new ones are dropped (and counted)
LOG_FLUSH_SECONDS = 0.25  # at exit, how long queued log lines may take to reach stderr


@dataclass(frozen=True)
class RunOptions:
    profile: str
    config: Path | None
    command: Sequence[str]  # overrides the config's upstream with a stdio command when given


def run(options: RunOptions) -> int:
    log = _log_to_stderr()
    try:
        return _run(options)
    finally:
        log.flush_within(LOG_FLUSH_SECONDS)


def _run(options: RunOptions) -> int:
    resolved = resolve_profile(options.config, options.profile, command=options.command)
    logger.info("config %s sha256:%s profile %s", resolved.loaded.path, resolved.loaded.sha256, resolved.name)
    problems = preflight(resolved)
    if problems:
        raise GuardError(problems[0])
    oauth = _open_oauth(resolved)  # None unless the upstream says `auth: oauth`
    audit_log = open_audit_log(resolved.profile.audit, resolved.name)
    telemetry = telemetry_from_env(os.environ, service_version=__version__)
    if telemetry.exports_audit:  # OTEL_LOGS_EXPORTER: each written record also goes to the collector
        audit_log.add_listener(telemetry.export_audit)
    try:
        code: ExitCode = anyio.run(_serve, resolved, audit_log, telemetry, oauth)
        return int(code)
    finally:
        telemetry.shutdown()
        audit_log.close()


def _build_guard(resolved: ResolvedProfile, sink: GroupCommitter, telemetry: Telemetry, oauth: OAuthCredential | None) -> Guard:
    profile = resolved.profile
    redactor: Redactor | None = None
    if profile.redaction == "off":
        logger.warning("profile %r has redaction off: for diagnostics only, data reaches the client unredacted", resolved.name)
    else:
        redactor = build_redactor(profile.redaction, profile.mode, load_pseudonym_key())
    fingerprint = oauth.fingerprint if oauth is not None else resolved.key_fingerprint
    session = SessionInfo(
        profile_name=resolved.name,
        profile=profile,
        upstream=describe_upstream(resolved.upstream),
        key_fingerprint=fingerprint,
        policy_sha256=resolved.loaded.sha256,
    )
    catalog_lock = open_catalog_lock(resolved.loaded.path, resolved.name, profile)  # None with pinning off
    pipeline = build_pipeline(resolved.name, profile, redactor=redactor, catalog_lock=catalog_lock, audit_health=sink.log.health)
    return Guard(session, pipeline, sink, telemetry, redactor=redactor, stderr_log=_log_upstream_stderr)


async def _serve(resolved: ResolvedProfile, audit_log: AuditLog, telemetry: Telemetry, oauth: OAuthCredential | None) -> ExitCode:
    upstream = resolved.upstream
    limits = resolved.loaded.config.limits
    key = resolved.key.value if resolved.key is not None else None
    sink = GroupCommitter(audit_log)  # records of answers that are ready together share one write
    # The upstream is started first: its start (node takes hundreds of milliseconds) overlaps
    # building the guard (the redaction table, the pipeline).
    async with _open_upstream(upstream, key, oauth, limits) as channel:
        guard = _build_guard(resolved, sink, telemetry, oauth)
        async with open_client_stdio(limits.max_message_bytes, limits.max_depth) as client:
            timeouts = Timeouts(initialize=upstream.initialize_timeout, request=upstream.request_timeout, eof_grace=limits.eof_grace_seconds)
            async with anyio.create_task_group() as tg:
                read_stderr = getattr(channel, "read_stderr", None)
                if read_stderr is not None:
                    tg.start_soon(read_stderr, guard.on_stderr)
                tg.start_soon(_prune_daily, audit_log)
                relay = Relay(client, channel, guard, timeouts, limits.max_message_bytes, max_upstream_message_bytes=limits.max_upstream_message_bytes)
                code = await relay.run()
                tg.cancel_scope.cancel()
            await sink.aclose()
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
async def _open_upstream(
    upstream: UpstreamConfig, key: str | None, oauth: OAuthCredential | None, limits: Limits | None = None
) -> AsyncIterator[UpstreamChannel]:
    limits = limits or Limits()
    if upstream.url is not None:
        from mcp_guard.transports.upstream_http import open_upstream_http  # the SDK's HTTP client: ~360 ms to import

        headers = dict(upstream.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = oauth.transport() if oauth is not None else None  # adds the grant's token, refreshing it
        async with open_upstream_http(upstream.url, headers, transport, max_depth=limits.max_depth) as http_channel:
            yield http_channel
        return
    assert upstream.command is not None
    env = dict(upstream.env)
    if key:
        env[KEY_ENV_VAR] = key
    spec = StdioCommand(upstream.command, list(upstream.args), env, upstream.cwd)
    async with open_upstream_stdio(spec, limits.max_upstream_message_bytes, limits.max_depth) as stdio_channel:
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


def _log_upstream_stderr(text: str) -> None:
    logger.debug("upstream stderr: %s", text)


def _log_to_stderr() -> StderrLog:
    level = os.environ.get("MCP_GUARD_LOG_LEVEL", "INFO").upper()
    handler = StderrLog(2, LOG_QUEUE_LINES)
    handler.setFormatter(logging.Formatter("mcp-guard: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings too go through the queue, never straight to stderr
    return handler


class StderrLog(logging.Handler):
    """A log handler that never blocks: lines wait in a bounded queue for a thread to write them.

    When the queue is full (stderr is not being read), a line is dropped and counted; the count is
    written ahead of the next line that gets through.
    """

    def __init__(self, fd: int, capacity: int) -> None:
        super().__init__()
        self._fd = fd
        self._lines: queue.Queue[bytes] = queue.Queue(capacity)
        self.dropped = 0
        self._reported = 0
        threading.Thread(target=self._drain, name="mcp-guard-log", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - logging's own contract: report a bad record, never raise
            self.handleError(record)
            return
        try:
            self._lines.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def flush_within(self, seconds: float) -> None:
        """Wait (at most `seconds`) for queued lines to reach stderr, the drop count included."""
        if self.dropped != self._reported:
            with suppress(queue.Full):
                self._lines.put_nowait(b"")
        deadline = time.monotonic() + seconds
        while self._lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _drain(self) -> None:
        while True:
            line = self._lines.get()
            dropped = self.dropped
            if dropped != self._reported:
                notice = f"mcp-guard: WARNING: {dropped - self._reported} log lines were dropped: stderr was not read\n"
                self._reported = dropped
                line = notice.encode() + line
            with suppress(OSError):
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view) :]
            self._lines.task_done()
