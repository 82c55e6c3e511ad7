"""`mcp-guard run`: build the guarded session from the config and serve it on stdio.

Start time matters (an editor starts one guard per window and profile), so only what the
configured upstream and the enabled features need is imported, and the upstream starts as early
as it safely can. The config file is read without pydantic (`config_file`), and a plain stdio
upstream whose key fits the profile's mode starts at once (`early_start`), while pydantic is
imported and the config validated; it is kept only if the validated config starts exactly the
same command and environment, else killed and restarted. Otherwise the upstream starts once the
config is validated and checked (preflight: the key fits the profile and is not on argv, the
audit directory is usable). Then the audit log is opened and the event loop, the relay, the
redactor and the pipeline imported and built, while the upstream starts (node takes hundreds of
milliseconds). Nothing reaches the upstream before the guard serves; if anything fails before
that, the upstream is killed. The MCP SDK's HTTP client is imported only for a `url:` upstream
(with anyio, which it runs on), OpenTelemetry only when an exporter is named, catalog pinning and
budgets only when enabled.

Logging never blocks serving: log lines go through a bounded queue to a thread that writes
stderr, so a host that does not read mcp-guard's stderr costs log lines (counted, and the count
reported once stderr drains), never answers or timers. The upstream's own stderr is logged at
debug level; its error blocks and fatal causes, folded into one line each, at warning.
`MCP_GUARD_LOG_FORMAT=json` writes them as JSON lines (python-json-logger) instead of text.
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

from mcp_guard import __version__
from mcp_guard.config_file import read_config_file
from mcp_guard.early_start import EarlyUpstream, start_early
from mcp_guard.errors import AuditError, GuardError
from mcp_guard.transports.process import StdioCommand, kill_group, spawn, stdio_command

if TYPE_CHECKING:
    import subprocess

    from mcp_guard.audit.commit import GroupCommitter
    from mcp_guard.audit.log import AuditLog
    from mcp_guard.config import Limits, UpstreamConfig
    from mcp_guard.guard import Guard
    from mcp_guard.oauth import OAuthCredential
    from mcp_guard.relay import ExitCode, UpstreamChannel
    from mcp_guard.resolve import ResolvedProfile
    from mcp_guard.telemetry import Telemetry

logger = logging.getLogger("mcp_guard")

PRUNE_INTERVAL_SECONDS = 24 * 3600
LOG_QUEUE_LINES = 2000  # log lines waiting for stderr before new ones are dropped (and counted)
LOG_FLUSH_SECONDS = 0.25  # at exit, how long queued log lines may take to reach stderr
LOG_FORMAT_ENV = "MCP_GUARD_LOG_FORMAT"  # "json": stderr log lines as JSON objects


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
    file = read_config_file(options.config)  # no pydantic yet
    early = start_early(file, options.profile, options.command)  # a plain stdio upstream whose key fits starts now
    child = early.child if early is not None else None
    try:
        from mcp_guard.config import validate_config_file  # pydantic: imported and built while the upstream starts
        from mcp_guard.resolve import preflight, resolve_loaded

        resolved = resolve_loaded(validate_config_file(file), options.profile, command=options.command)
        logger.info("config %s sha256:%s profile %s", resolved.loaded.path, resolved.loaded.sha256, resolved.name)
        problems = preflight(resolved)  # the key fits the profile and is not on argv; the audit dir is usable
        if problems:
            raise GuardError(problems[0])
        oauth = _open_oauth(resolved)  # None unless the upstream says `auth: oauth`
        child = _start_upstream(resolved, early)  # a stdio upstream starts now (unless it did early), while the rest is built
        from mcp_guard.audit.log import open_audit_log

        audit_log = open_audit_log(resolved.profile.audit, resolved.name)
        try:
            return _serve_session(resolved, audit_log, oauth, child)
        finally:
            audit_log.close()
    except BaseException:
        if child is not None and child.poll() is None:
            kill_group(child)  # never served, or not shut down: it must not outlive mcp-guard
        raise


def _start_upstream(resolved: ResolvedProfile, early: EarlyUpstream | None) -> subprocess.Popen[bytes] | None:
    """The stdio upstream's process, started with its key: the early one when the validated config
    starts exactly the same, else a new one (the early one is killed). None for an HTTP upstream."""
    upstream = resolved.upstream
    command = None if upstream.url is not None else _stdio_command(upstream, resolved.key.value if resolved.key is not None else None)
    if early is not None:
        if early.command == command:
            return early.child
        kill_group(early.child)  # nothing was sent to it
        logger.debug("the upstream started before validation is not the validated one; it was stopped")
    return spawn(command) if command is not None else None


def _serve_session(resolved: ResolvedProfile, audit_log: AuditLog, oauth: OAuthCredential | None, child: subprocess.Popen[bytes] | None) -> int:
    import asyncio

    from mcp_guard.telemetry import telemetry_from_env

    telemetry = telemetry_from_env(os.environ, service_version=__version__)
    if telemetry.exports_audit:  # OTEL_LOGS_EXPORTER: each written record also goes to the collector
        audit_log.add_listener(telemetry.export_audit)
    try:
        code: ExitCode = asyncio.run(_serve(resolved, audit_log, telemetry, oauth, child))
        return int(code)
    finally:
        telemetry.shutdown()


def _build_guard(resolved: ResolvedProfile, sink: GroupCommitter, telemetry: Telemetry, oauth: OAuthCredential | None) -> Guard:
    from mcp_guard.checks import build_pipeline
    from mcp_guard.config import PinningMode
    from mcp_guard.guard import Guard, SessionInfo
    from mcp_guard.redaction import Redactor, build_redactor, load_pseudonym_key
    from mcp_guard.resolve import describe_upstream

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
    catalog_lock = None  # with pinning off there is no lock to read (nor its module to import)
    if profile.pinning is not PinningMode.OFF:
        from mcp_guard.checks.catalog_pin.lock import open_catalog_lock

        catalog_lock = open_catalog_lock(resolved.loaded.path, resolved.name, profile)
    pipeline = build_pipeline(resolved.name, profile, redactor=redactor, catalog_lock=catalog_lock, audit_health=sink.log.health)
    return Guard(session, pipeline, sink, telemetry, redactor=redactor, stderr_log=_log_upstream_stderr)


async def _serve(
    resolved: ResolvedProfile, audit_log: AuditLog, telemetry: Telemetry, oauth: OAuthCredential | None, child: subprocess.Popen[bytes] | None = None
) -> ExitCode:
    import asyncio

    from mcp_guard.audit.commit import GroupCommitter
    from mcp_guard.relay import Relay, Timeouts
    from mcp_guard.transports.client_stdio import open_client_stdio

    upstream = resolved.upstream
    limits = resolved.loaded.config.limits
    key = resolved.key.value if resolved.key is not None else None
    sink = GroupCommitter(audit_log)  # records of answers that are ready together share one write
    # The upstream was started first (`child`): its start overlaps building the guard (the
    # redaction table, the pipeline).
    async with open_upstream(upstream, key, oauth, limits, child=child) as channel:
        guard = _build_guard(resolved, sink, telemetry, oauth)
        async with open_client_stdio(limits.max_message_bytes, limits.max_depth) as client:
            timeouts = Timeouts(initialize=upstream.initialize_timeout, request=upstream.request_timeout, eof_grace=limits.eof_grace_seconds)
            async with asyncio.TaskGroup() as tg:
                background = [tg.create_task(_prune_daily(audit_log))]
                read_stderr = getattr(channel, "read_stderr", None)
                if read_stderr is not None:
                    background.append(tg.create_task(read_stderr(guard.on_stderr)))
                relay = Relay(
                    client,
                    channel,
                    guard,
                    timeouts,
                    limits.max_message_bytes,
                    max_upstream_message_bytes=limits.max_upstream_message_bytes,
                    max_client_backlog_bytes=limits.max_client_backlog_bytes,
                )
                code = await relay.run()
                for task in background:
                    task.cancel()
            await sink.aclose()
    return code


async def _prune_daily(audit_log: AuditLog) -> None:
    """Writes prune on the first record of each UTC day; this covers a guard left idle for days."""
    import asyncio

    while True:
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)
        try:
            await asyncio.to_thread(audit_log.prune)
        except AuditError as exc:
            logger.error("audit prune failed: %s", exc)


def _stdio_command(upstream: UpstreamConfig, key: str | None) -> StdioCommand:
    assert upstream.command is not None
    return stdio_command(upstream.command, upstream.args, upstream.env, upstream.cwd, key)


@asynccontextmanager
async def open_upstream(
    upstream: UpstreamConfig,
    key: str | None,
    oauth: OAuthCredential | None,
    limits: Limits,
    *,
    child: subprocess.Popen[bytes] | None = None,
) -> AsyncIterator[UpstreamChannel]:
    """The upstream's channel: HTTP for a `url:`, else the stdio `child` (started here when None).

    `run`, `tools` and `lock` all reach the upstream through this: the same env, key, transport and limits.
    """
    if upstream.url is not None:
        from mcp_guard.transports.upstream_http import open_upstream_http  # the SDK's HTTP client: ~360 ms to import

        headers = dict(upstream.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = oauth.transport() if oauth is not None else None  # adds the grant's token, refreshing it
        async with open_upstream_http(upstream.url, headers, transport, max_depth=limits.max_depth) as http_channel:
            yield http_channel
        return
    from mcp_guard.transports.upstream_stdio import open_upstream_stdio

    spec = child if child is not None else _stdio_command(upstream, key)
    async with open_upstream_stdio(spec, limits.max_upstream_message_bytes, limits.max_depth) as stdio_channel:
        yield stdio_channel


def _open_oauth(resolved: ResolvedProfile) -> OAuthCredential | None:
    """The profile's OAuth grant, checked offline and then with the upstream (which account, which
    mode); None when the upstream does not use `auth: oauth`. A missing, revoked or wrong-mode
    grant raises a GuardError here, before anything is served."""
    upstream = resolved.upstream
    if upstream.url is None or upstream.auth != "oauth":
        return None
    import anyio  # the HTTP path runs on anyio (the SDK's client does)

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
    handler.setFormatter(_log_formatter(os.environ.get(LOG_FORMAT_ENV, "text")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings too go through the queue, never straight to stderr
    return handler


def _log_formatter(kind: str) -> logging.Formatter:
    """Text lines (`mcp-guard: WARNING: ...`), or with `json` one JSON object per line (python-json-logger)."""
    if kind.strip().lower() != "json":
        return logging.Formatter("mcp-guard: %(levelname)s: %(message)s")
    from pythonjsonlogger.json import JsonFormatter  # imported only when asked for

    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"asctime": "time", "levelname": "level"}, json_ensure_ascii=False)


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
