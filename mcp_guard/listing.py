"""What an upstream offers, and what a profile makes of each tool: the data behind `mcp-guard tools`.

`fetch_tools` is the edge: it starts the profile's upstream the way `run` does (same opener, so the
same environment, key or OAuth grant, and transport), performs the MCP handshake and follows
`tools/list` through every `nextCursor` page. The handshake is bounded by `upstream.initialize_timeout`, each
page by `upstream.request_timeout`. The upstream's stderr is drained (a full pipe would stall it)
and redacted before its last line can appear in an error message.

`view_tools` is pure: for each tool, whether the profile lists it, its operation class, the
deciding rule and the classification basis, from the same functions the guard decides with
(`policy.decide_tool`, `policy.is_listed`). The two dispatchers are decided per call by their
`stripe_api_operation_id`, so their view says, for each operation class they can carry, what the
profile decides.

`ToolView.pin` is the hook for catalog pinning: `view_tools(..., pins={name: state})` puts each
tool's pin state there (e.g. "ok", "changed", "new"); without pins it stays None.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from mcp_types import LATEST_PROTOCOL_VERSION

from mcp_guard import __version__
from mcp_guard.classify import DISPATCHERS, READ_DISPATCHER, name_key
from mcp_guard.config import PinningMode, Profile
from mcp_guard.errors import GuardError, RedactionError, UpstreamError, UpstreamTimeout
from mcp_guard.jsonrpc import METHOD_NOT_FOUND, FramingProblem, Message, Oversized, error_response, result_response
from mcp_guard.operations import Operation
from mcp_guard.policy import decide_tool, is_listed
from mcp_guard.resolve import ResolvedProfile, describe_upstream
from mcp_guard.transports.channel import ChannelClosed

if TYPE_CHECKING:
    from mcp_guard.oauth import OAuthCredential

_T = TypeVar("_T")

# A tools/list that pages on and on is a broken (or hostile) upstream, not a big catalog.
MAX_PAGES = 100
ERROR_TEXT_CAP = 300  # characters of an upstream's error message shown to the user
EXIT_CODE_WAIT_SECONDS = 1.0  # after the upstream's output closes, how long to wait for its exit code

# One operation id per class a dispatcher can carry. A profile decides a dispatcher call by the
# class of its operation id (and a `tools:` deny of the dispatcher), never by the resource, so one
# id stands for its whole class.
DISPATCHED_EXAMPLES: dict[str, tuple[tuple[Operation, str], ...]] = {
    "stripe_api_read": (
        (Operation.READ, "GetCustomersCustomer"),
        (Operation.LIST, "GetCustomers"),
        (Operation.SEARCH, "GetCustomersSearch"),
    ),
    "stripe_api_write": (
        (Operation.CREATE, "PostCustomers"),
        (Operation.UPDATE, "PostCustomersCustomer"),
        (Operation.DELETE, "DeleteCustomersCustomer"),
    ),
}


@dataclass(frozen=True)
class Dispatched:
    """What a profile decides for one operation class a dispatcher carries."""

    operation: Operation
    example: str  # an operation id of that class
    allowed: bool
    rule: str
    reason: str


@dataclass(frozen=True)
class ToolView:
    """One upstream tool as a profile sees it: one row of `mcp-guard tools`."""

    name: str
    listed: bool  # whether tools/list through the guard shows it
    operation: str  # the operation class; for a dispatcher, the classes it carries
    allowed: bool  # a call without arguments (for a dispatcher: some call) would be let through
    rule: str
    basis: str
    reason: str
    dispatches: tuple[Dispatched, ...] = field(default_factory=tuple)  # only for the dispatchers
    pin: str | None = None  # catalog pinning's state of this tool, when pins were given

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "listed": self.listed,
            "class": self.operation,
            "allowed": self.allowed,
            "rule": self.rule,
            "basis": self.basis,
            "reason": self.reason,
        }
        if self.dispatches:
            data["dispatches"] = [
                {"class": d.operation.value, "example": d.example, "allowed": d.allowed, "rule": d.rule, "reason": d.reason}
                for d in self.dispatches
            ]
        data["pin"] = self.pin
        return data


def view_tools(profile: Profile, tools: Sequence[Mapping[str, Any]], pins: Mapping[str, str] | None = None) -> list[ToolView]:
    """One view per upstream tool, in the upstream's order. Pure.

    With `pins` (each tool's state against mcp-guard.lock) under `pinning: enforce`, a tool whose
    state is not `ok` is shown unlisted, as `run` hides it.
    """
    hide_drift = pins is not None and profile.pinning is PinningMode.ENFORCE
    views = []
    for tool in tools:
        name = tool.get("name")
        if not isinstance(name, str):
            continue  # the guard drops a nameless tool from tools/list too
        view = _view_dispatcher(profile, name) if _dispatcher(name) else _view_tool(profile, name)
        if pins is not None:
            pin = pins.get(name)
            view = replace(view, pin=pin, listed=view.listed and not (hide_drift and pin != "ok"))
        views.append(view)
    return views


def _dispatcher(name: str) -> str | None:
    key = name_key(name) if name.isascii() else ""
    return key if key in DISPATCHERS else None


def _view_tool(profile: Profile, name: str) -> ToolView:
    decision = decide_tool(profile, name, None)
    return ToolView(
        name=name,
        listed=is_listed(profile, name),
        operation=decision.operation.value,
        allowed=decision.allowed,
        rule=decision.rule,
        basis=decision.basis or "-",
        reason=decision.reason,
    )


def _view_dispatcher(profile: Profile, name: str) -> ToolView:
    key = _dispatcher(name)
    assert key is not None
    dispatched = []
    for operation, example in DISPATCHED_EXAMPLES[key]:
        decision = decide_tool(profile, name, {"stripe_api_operation_id": example})
        dispatched.append(Dispatched(operation, example, decision.allowed, decision.rule, decision.reason))
    runs = "Get*" if key == READ_DISPATCHER else "Post* and Delete*"
    return ToolView(
        name=name,
        listed=is_listed(profile, name),
        operation="dispatches " + ", ".join(d.operation.value for d in dispatched),
        allowed=any(d.allowed for d in dispatched),
        rule=summarize(dispatched),
        basis=f"each call's stripe_api_operation_id (runs {runs} operations only)",
        reason="; ".join(f"{d.operation.value}: {d.reason.rstrip('.')}" for d in dispatched) + ".",
        dispatches=tuple(dispatched),
    )


def summarize(dispatched: Sequence[Dispatched]) -> str:
    """`read, list allowed by profiles.live.allowed_operations; search denied by ...`."""
    parts = []
    for (allowed, rule), group in itertools.groupby(dispatched, key=lambda d: (d.allowed, d.rule)):
        classes = ", ".join(d.operation.value for d in group)
        parts.append(f"{classes} {'allowed' if allowed else 'denied'} by {rule}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# The edge: ask the upstream


async def fetch_tools(resolved: ResolvedProfile) -> list[dict[str, Any]]:
    """The upstream's whole tools list (every page). Raises UpstreamError with one readable line."""
    from mcp_guard.serve import open_upstream  # the opener `run` uses: same env, key, transport and limits

    key = resolved.key.value if resolved.key is not None else None
    redact = _stderr_redactor(resolved.profile)
    where = describe_upstream(resolved.upstream)
    try:
        oauth = await _oauth_credential(resolved)
        async with open_upstream(resolved.upstream, key, oauth, resolved.loaded.config.limits) as channel:
            return await _while_draining_stderr(channel, redact, _exchange(channel, resolved, where))
    except GuardError:  # UpstreamError, and GrantError from the OAuth grant: already one readable line
        raise
    except (OSError, ChannelClosed) as exc:
        raise UpstreamError(f"{where}: {exc}") from exc
    except Exception as exc:  # the HTTP transport's own errors: one line, not a traceback
        cause = _innermost(exc)
        if isinstance(cause, GuardError):
            raise cause from exc
        raise UpstreamError(f"{where}: {type(cause).__name__}: {cause}") from exc


async def _oauth_credential(resolved: ResolvedProfile) -> OAuthCredential | None:
    """The profile's OAuth grant, checked with the upstream as `run` checks it; None without `auth: oauth`."""
    if resolved.upstream.url is None or resolved.upstream.auth != "oauth":
        return None
    from mcp_guard.oauth import open_credential  # only OAuth profiles pay for its imports

    credential = open_credential(resolved.name, resolved.profile, resolved.upstream)  # GrantError: run `mcp-guard login`
    if credential is not None:
        await credential.verify()
    return credential


def _innermost(exc: BaseException) -> BaseException:
    """The first leaf of nested exception groups (the SDK's HTTP transport runs in task groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _exchange(channel: Any, resolved: ResolvedProfile, where: str) -> list[dict[str, Any]]:
    upstream = resolved.upstream
    session = _Session(channel, where)
    init = await session.request("initialize", _initialize_params(), upstream.initialize_timeout, "upstream.initialize_timeout")
    version = init.get("protocolVersion")
    if isinstance(version, str):
        channel.set_protocol_version(version)
    await channel.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return await session.list_tools(upstream.request_timeout)


async def _while_draining_stderr(channel: Any, redact: Callable[[str], str], work: Awaitable[_T]) -> _T:
    """Await `work` while a task reads the upstream's stderr; `work`'s own exception, unwrapped."""
    read_stderr: Callable[[Callable[[str], str]], Coroutine[Any, Any, None]] | None = getattr(channel, "read_stderr", None)
    if read_stderr is None:
        return await work
    outcome: list[_T] = []
    failure: list[BaseException] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read_stderr, redact)
        try:
            outcome.append(await work)
        except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group that would wrap it
            failure.append(exc)
        tasks.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome[0]


def _initialize_params() -> dict[str, Any]:
    return {
        "protocolVersion": LATEST_PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "mcp-guard tools", "version": __version__},
    }


def _stderr_redactor(profile: Profile) -> Callable[[str], str]:
    """Redact an upstream stderr line with the profile's detectors (keys, cards, emails)."""
    if profile.redaction == "off":
        return lambda line: line
    from mcp_guard.redaction import build_redactor

    # A throwaway pseudonym key: stderr is only shown here, so pseudonyms need not be stable, and
    # listing tools should not create the installation's key file.
    redactor = build_redactor(profile.redaction, profile.mode, secrets.token_bytes(32))

    def redact(line: str) -> str:
        try:
            return str(redactor.redact_text(line).value)
        except RedactionError:
            return "[a stderr line that could not be redacted was dropped]"

    return redact


class _Session:
    """Requests over a raw channel: numbered ids, answers matched by id, server requests refused."""

    def __init__(self, channel: Any, where: str) -> None:
        self._channel = channel
        self._where = where
        self._ids = itertools.count(1)

    async def request(self, method: str, params: dict[str, Any], seconds: float, setting: str) -> dict[str, Any]:
        """The result of one request answered within `seconds` (`setting` names where that comes from)."""
        request_id = next(self._ids)
        try:
            with anyio.fail_after(seconds):
                await self._channel.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
                return await self._answer(request_id, method)
        except TimeoutError:
            raise UpstreamTimeout(f"{self._where} did not answer {method} within {seconds:g}s ({setting})") from None
        except ChannelClosed as exc:
            raise UpstreamError(f"{self._where} stopped before answering {method}: {await self._exit_reason(exc)}") from exc

    async def _exit_reason(self, closed: ChannelClosed) -> str:
        """The exit code and last stderr line once the process is gone (its output closes first)."""
        wait_exit = getattr(self._channel, "wait_exit", None)
        if wait_exit is None:
            return str(closed)
        await wait_exit(EXIT_CODE_WAIT_SECONDS)
        return str(self._channel.describe_exit())

    async def _answer(self, request_id: int, method: str) -> dict[str, Any]:
        while True:
            message = await self._channel.receive()
            if isinstance(message, (FramingProblem, Oversized)):
                continue  # a stray line on the upstream's stdout is not our answer
            if "method" in message:
                if "id" in message:  # a server request (ping, roots/list, ...): answer so it does not wait
                    await self._channel.send(_answer_server_request(message))
                continue
            if message.get("id") != request_id:
                continue
            if "error" in message:
                error = message.get("error") or {}
                text = str(error.get("message", ""))[:ERROR_TEXT_CAP] if isinstance(error, dict) else ""
                raise UpstreamError(f"{self._where} answered {method} with an error: {text or error}")
            result = message.get("result")
            if not isinstance(result, dict):
                raise UpstreamError(f"{self._where} answered {method} without a result object")
            return result

    async def list_tools(self, seconds_per_page: float) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = {"cursor": cursor} if cursor is not None else {}
            page = await self.request("tools/list", params, seconds_per_page, "upstream.request_timeout")
            listed = page.get("tools")
            if not isinstance(listed, list):
                raise UpstreamError(f"{self._where} answered tools/list without a tools array")
            tools.extend(tool for tool in listed if isinstance(tool, dict))
            cursor = page.get("nextCursor")
            if not isinstance(cursor, str) or not cursor:
                return tools
            if cursor in seen:
                raise UpstreamError(f"{self._where} repeated the tools/list cursor {cursor[:40]!r}")
            seen.add(cursor)
        raise UpstreamError(f"{self._where} paged tools/list more than {MAX_PAGES} times")


def _answer_server_request(message: Message) -> Message:
    if message.get("method") == "ping":
        return result_response(message["id"], {})
    return error_response(message["id"], METHOD_NOT_FOUND, f"mcp-guard tools does not handle {message.get('method')}")
