"""What an upstream says on stderr, read for the operator: stack traces folded, fatal causes named.

Node upstreams (`npx @stripe/mcp`) report failures as multi-line stack traces, and `@stripe/mcp`
0.3.x, offline, prints its fetch error and never answers `initialize`. `StderrDigest` is fed the
upstream's stderr one (already redacted) line at a time and returns what matters:
- an error block (`TypeError: fetch failed`, its `at ...` frames, its `{ [cause]: ... }` object)
  folded into one line, logged once instead of echoed line by line;
- a fatal cause, in one line, for a line that says the upstream cannot serve: a DNS failure
  (ENOTFOUND, EAI_AGAIN), a refused or broken connection, HTTP 401/403 (the key), a missing
  command or file (ENOENT, "command not found"), or an uncaught Node error. The relay answers a
  pending `initialize` with it at once instead of waiting for the initialize timeout.
`StderrBudget` bounds how much of it is processed per second (redacting costs far more than
reading): the reader drains stderr all the time, so the upstream never blocks on it, and lines
over the budget are counted and dropped unread.
Pure: no I/O, no clock (the reader passes the time, and flushes a held block after a quiet moment).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

LINE_QUOTE_CHARS = 200  # of an upstream line quoted in a cause or a summary

_ERROR_HEAD = re.compile(r"^\s*(?:Uncaught\s+)?(?:[A-Za-z_$][\w$.]*)?(?:Error|Exception)(?:\s*\[[^\]]*\])?:\s*\S")
_FRAME = re.compile(r"^\s+at\s")
_CAUSE = re.compile(r"^\s*\[cause\]:\s*(.*?)\s*\{?$")
_BLOCK_TAIL = re.compile(r"^\s*[}\]{]|^\s+[\w$'\"\[\]-]+:\s|^\s+\.\.\.")  # braces, `  errno: -3008,`, `... 3 more`
_UNCAUGHT = re.compile(r"^Node\.js v\d+|\bUncaught\b|triggerUncaughtException|UnhandledPromiseRejection|unhandledRejection")
_WARNING = re.compile(r"^\s*(?:npm\s+warn|\(node:\d+\)\s+\w*Warning|warn(?:ing)?\b)", re.IGNORECASE)  # never fatal


@dataclass(frozen=True)
class StderrEvent:
    """One thing worth telling: a folded error block to log, and/or a fatal cause."""

    summary: str | None = None
    fatal: str | None = None


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= LINE_QUOTE_CHARS else text[: LINE_QUOTE_CHARS - 3] + "..."


def _dns(match: re.Match[str]) -> str:
    host = f" of {match['host']}" if match["host"] else ""
    return f"DNS lookup{host} failed ({match['code']}): no network, or a DNS or proxy problem"


def _connection(match: re.Match[str]) -> str:
    target = f" to {match['target']}" if match["target"] else ""
    return f"the connection{target} failed ({match['code']})"


def _auth(match: re.Match[str]) -> str:
    status = re.search(r"\b40[13]\b", match.string)
    code = status.group() if status else "401"
    return f"the upstream's request was refused with HTTP {code}: check the Stripe key (the profile's api_key)"


def _missing(match: re.Match[str]) -> str:
    return f"a command or file the upstream needs is missing: {_quote(match.string)}"


# (pattern, cause) in order of precedence; each names the cause in one line.
_FATAL: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(?:getaddrinfo\s+)?(?P<code>ENOTFOUND|EAI_AGAIN)(?:\s+(?P<host>[\w.-]+\.[a-z]{2,}))?"), _dns),
    (
        re.compile(
            r"(?:connect\s+)?(?P<code>ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT"
            r"|CERT_HAS_EXPIRED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)(?:\s+(?P<target>[\w.:\[\]-]+))?"
        ),
        _connection,
    ),
    (
        re.compile(
            r"(?i)\b40[13]\b\W{0,3}(?:unauthori[sz]ed|forbidden)|\b(?:unauthori[sz]ed|forbidden)\b\W{0,3}\(?\s*40[13]\b"
            r"|\bstatus(?:\s*code)?\W{0,3}40[13]\b|\bHTTP(?:/[\d.]+)?\s+40[13]\b|invalid api key"
        ),
        _auth,
    ),
    (re.compile(r"command not found|:\s*not found\s*$|\bENOENT\b|No such file or directory"), _missing),
)


def fatal_cause(line: str) -> str | None:
    """The cause a line names when it says the upstream cannot serve, in one line; else None."""
    if _WARNING.match(line):
        return None
    for pattern, cause in _FATAL:
        match = pattern.search(line)
        if match is not None:
            return cause(match)
    return None


class StderrDigest:
    """Folds error blocks into one line and spots fatal causes (see the module docstring)."""

    def __init__(self) -> None:
        self._head: str | None = None  # the first line of the error block being held
        self._cause: str | None = None  # its `[cause]:` line, if any
        self._folded = 0  # lines of the block beyond its head
        self._block_fatal = False  # the held block already named a fatal cause (one per block)
        self._last_fatal: str | None = None
        self.last_error: str | None = None  # the latest summary or fatal cause: names an upstream's death

    @property
    def holding(self) -> bool:
        """Whether an error block is held (the reader flushes it when stderr goes quiet)."""
        return self._head is not None

    def feed(self, line: str) -> list[StderrEvent]:
        events: list[StderrEvent] = []
        if self._head is not None and self._continues_block(line):
            self._folded += 1
            cause = _CAUSE.match(line)
            if cause is not None and self._cause is None:
                self._cause = _quote(cause.group(1))
            if self._block_fatal:
                return events
        else:
            events += self.flush()
            if _ERROR_HEAD.match(line):
                self._head, self._cause, self._folded = _quote(line), None, 0
        fatal = fatal_cause(line)
        if fatal is None and _UNCAUGHT.search(line) and not _WARNING.match(line):
            fatal = f"uncaught error: {self.last_error or _quote(line)}"
        if fatal is not None and fatal != self._last_fatal:
            self._last_fatal = fatal
            self.last_error = fatal
            self._block_fatal = self._head is not None
            events.append(StderrEvent(fatal=fatal))
        return events

    def flush(self) -> list[StderrEvent]:
        """The held block as one line (at a quiet moment, at the end, or when a new line starts)."""
        if self._head is None:
            return []
        summary = self._head
        if self._cause is not None:
            summary += f" (cause: {self._cause})"
        if self._folded:
            summary += f" [{self._folded} more lines folded]"
        self._head, self._cause, self._folded, self._block_fatal = None, None, 0, False
        if self._last_fatal is None:
            self.last_error = summary
        return [StderrEvent(summary=summary)]

    @staticmethod
    def _continues_block(line: str) -> bool:
        return bool(_FRAME.match(line) or _CAUSE.match(line) or _BLOCK_TAIL.match(line))


class StderrBudget:
    """A token bucket of stderr bytes to process: `rate` a second, at most `rate` saved up.

    Lines over it are dropped (never decoded, redacted or logged), counted for `report`.
    """

    def __init__(self, rate: int, now: float) -> None:
        self._rate = rate
        self._tokens = float(rate)
        self._refilled_at = now
        self._reported_at = now
        self.dropped_lines = 0
        self.dropped_bytes = 0

    def admit(self, size: int, now: float) -> bool:
        """Whether a line of `size` bytes may be processed now; if not, it is counted as dropped."""
        self._tokens = min(float(self._rate), self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now
        if size <= self._tokens:
            self._tokens -= size
            return True
        self.dropped_lines += 1
        self.dropped_bytes += size
        return False

    def report(self, now: float, every: float) -> str | None:
        """What was dropped since the last report, at most once per `every` seconds (0: now)."""
        if not self.dropped_lines or now - self._reported_at < every:
            return None
        text = (
            f"{self.dropped_lines} upstream stderr lines were dropped ({self.dropped_bytes} bytes): "
            f"over the {self._rate} bytes a second mcp-guard redacts and logs"
        )
        self.dropped_lines = self.dropped_bytes = 0
        self._reported_at = now
        return text
