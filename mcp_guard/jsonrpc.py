"""JSON-RPC 2.0 framing for a dict-level relay (pure: no I/O).

Messages stay plain dicts end to end, so vendor fields and `_meta` inside `params`, `result` and
`error` pass through untouched. This module decides what kind of message a line holds, or why it
is not one; and what of an upstream message may reach the client at all (`defined_members`).

One rule for both directions (client lines and upstream lines): a line is refused, never repaired,
when it is not strict JSON or holds what no peer could be sent:
- `NaN`, `Infinity`, `-Infinity` and numbers too large for a double (Python's json accepts them;
  JSON does not);
- objects and arrays nested deeper than `max_depth` (`limits.max_depth`), checked without
  recursion; past about 1,000 levels Python's own parser raises RecursionError, which is caught;
- a string (a key or a value) holding an unpaired UTF-16 surrogate escape such as `"\\ud800"`:
  it is not Unicode text, cannot be encoded as UTF-8, and so can be neither forwarded nor echoed.
A refused line still names the request id it carried whenever that id can be read (and is itself
valid), so the request gets its one answer at once; otherwise the answer's id is null. The id is
read from every refused line: one that is not UTF-8 (from a lossy decoding), not JSON (truncated,
trailing garbage, a byte order mark), or not a valid message. An upstream answer that is not JSON
thus answers its request at once; a client line that is not JSON is still answered with id null,
as JSON-RPC requires of a parse error (relay.py). An integral number written as a float (`7.0`)
is the same JSON number as `7`, so it names request 7.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

Message = dict[str, Any]
RequestId = int | str

# Standard JSON-RPC codes, and the implementation-defined band MCP leaves to servers.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UPSTREAM_UNAVAILABLE = -32000  # the upstream died or could not be reached
REQUEST_TIMEOUT = -32001  # the upstream did not answer in time
REFUSED = -32003  # mcp-guard refused the request (audit unwritable, redaction failed, ...)

DEFAULT_MAX_DEPTH = 64
RECOVERY_SCAN_CHARS = 64 * 1024  # how far into a refused line its id is looked for
MAX_EXACT_FLOAT = 2**53  # beyond this a float id no longer names one integer


class Kind(str, Enum):
    REQUEST = "request"
    NOTIFICATION = "notification"
    RESPONSE = "response"  # a result or an error answering a request


@dataclass(frozen=True, slots=True)
class FramingProblem:
    """A line that is not a single valid JSON-RPC message; answered, never forwarded."""

    code: int
    message: str
    id: RequestId | None = None  # the offending message's id, when it could be recovered
    kind: Kind | None = None  # what the line looked like, when that could be told


@dataclass(frozen=True, slots=True)
class Oversized:
    """A line longer than the size cap; its bytes were discarded unread (but for its id)."""

    size: int
    id: RequestId | None = None  # read from the line's first and last bytes, when it is there
    kind: Kind | None = None


class _NotJson(ValueError):
    """Text Python's json would accept but JSON does not."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number (JSON numbers are finite)")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotJson(f"the number {text[:40]} is too large for a double (JSON numbers are finite)")
    return number


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
# Where an unpaired surrogate could hide: a \uD800-\uDFFF escape (a literal prefix: a fast scan).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_ID_VALUE = re.compile(r'\s*(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9.eE])|"(?:[^"\\]|\\.)*")')
_TAIL_ID = re.compile(r'"id"\s*:\s*(-?(?:0|[1-9][0-9]*)|"[^"\\]*")\s*\}\s*$')


def is_request_id(value: Any) -> bool:
    # bool is an int subclass, and JSON-RPC forbids null ids on requests.
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


def parse_line(line: bytes | str, max_depth: int = DEFAULT_MAX_DEPTH) -> Message | FramingProblem:
    """Parse one line into a message dict, or say why it cannot be relayed."""
    try:
        text = line if isinstance(line, str) else bytes(line).decode("utf-8")
    except UnicodeDecodeError as exc:
        lossy = exc.object.decode("utf-8", "replace")  # only to read the id: never relayed
        return _unparsable(f"Parse error: the line is not UTF-8 ({exc.reason} at byte {exc.start})", lossy)
    try:
        value = _DECODER.decode(text)
    except _NotJson as exc:
        return _refused(str(exc), text)
    except RecursionError:
        return _refused(_too_deep(max_depth), text)
    except ValueError as exc:
        return _unparsable(f"Parse error: {exc}", text)
    if isinstance(value, list):
        return FramingProblem(INVALID_REQUEST, "JSON-RPC batches are not supported: send one message per line")
    if not isinstance(value, dict):
        return FramingProblem(INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    problem = _content_problem(text, value, max_depth, maybe_raw_surrogates=isinstance(line, str))
    if problem is None:
        problem = _shape_problem(value)
    if problem is not None:
        return FramingProblem(INVALID_REQUEST, f"Invalid Request: {problem}", _readable_id(value), _kind_hint(value))
    return value


def value_problem(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> str | None:
    """Why an already-parsed message (from a transport that parses itself) cannot be relayed, or None."""
    if _deeper_than(value, max_depth):
        return _too_deep(max_depth)
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:
        return _SURROGATE_PROBLEM
    except ValueError:
        return "a number is NaN or infinite, which JSON cannot carry"
    return None


_SURROGATE_PROBLEM = "a string holds an unpaired UTF-16 surrogate (such as \\ud800), which is not valid Unicode"


def _too_deep(max_depth: int) -> str:
    return f"objects and arrays nest deeper than {max_depth} levels (limits.max_depth)"


def _unparsable(problem: str, text: str) -> FramingProblem:
    request_id, kind = recover_id(text)
    return FramingProblem(PARSE_ERROR, problem, request_id, kind)


def _refused(problem: str, text: str) -> FramingProblem:
    request_id, kind = recover_id(text)
    return FramingProblem(INVALID_REQUEST, f"Invalid Request: {problem}", request_id, kind)


def _content_problem(text: str, value: Message, max_depth: int, *, maybe_raw_surrogates: bool) -> str | None:
    # Fast paths: a line with no more brackets than the limit cannot nest deeper, and a UTF-8
    # line without a surrogate escape cannot hold an unpaired surrogate (strict UTF-8 has none).
    if text.count("{") + text.count("[") > max_depth and _deeper_than(value, max_depth):
        return _too_deep(max_depth)
    hint = _SURROGATE_ESCAPE.search(text) or (maybe_raw_surrogates and _LONE_SURROGATE.search(text))
    if hint and _LONE_SURROGATE.search(json.dumps(value, ensure_ascii=False)):
        return _SURROGATE_PROBLEM
    return None


def _deeper_than(value: Any, max_depth: int) -> bool:
    """Whether containers nest deeper than `max_depth`, level by level (no recursion)."""
    level: list[Any] = [value] if isinstance(value, (dict, list)) else []
    for _ in range(max_depth):
        if not level:
            return False
        below: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            below += [item for item in items if type(item) is dict or type(item) is list]
        level = below
    return bool(level)


def _readable_id(message: Message) -> RequestId | None:
    raw = message.get("id")
    if isinstance(raw, float):
        return _integral(raw)
    if not is_request_id(raw) or (isinstance(raw, str) and _LONE_SURROGATE.search(raw)):
        return None
    return raw


def _integral(number: float) -> int | None:
    """`7.0` is the JSON number 7: an id the relay can match (a fraction or a huge value is not)."""
    return int(number) if number.is_integer() and abs(number) <= MAX_EXACT_FLOAT else None


def _kind_hint(message: Message) -> Kind | None:
    if "method" in message:
        return Kind.REQUEST if "id" in message else Kind.NOTIFICATION
    if "result" in message or "error" in message:
        return Kind.RESPONSE
    return None


def recover_id(text: str) -> tuple[RequestId | None, Kind | None]:
    """The top-level `id` of a line that could not be parsed whole, and what kind it looks like.

    A scan of strings and punctuation (no recursion, at most RECOVERY_SCAN_CHARS): only members
    of the outermost object count, so an `id` inside `params` or `result` is never mistaken for it.
    """
    depth = 0
    previous = ""  # the last token seen at depth 1
    key: Any = None
    request_id: RequestId | None = None
    has_method = has_answer = False
    for match in _TOKEN.finditer(text, 0, RECOVERY_SCAN_CHARS):
        token = match.group()
        first = token[0]
        if first in "{[":
            depth += 1
            if depth == 1:
                previous = first
            continue
        if first in "}]":
            depth -= 1
            if depth <= 0:
                break
            continue
        if depth != 1:
            continue
        if first == '"':
            if previous in ("{", ","):
                key = _json_string(token)
            previous = first
            continue
        if first == ":":
            if key == "id":
                request_id = _id_at(text, match.end())
            elif key == "method":
                has_method = True
            elif key in ("result", "error"):
                has_answer = True
            key = None
        previous = first
    return request_id, _kind_of_hints(has_method, has_answer, request_id)


def recover_id_from_ends(head: bytes, tail: bytes) -> tuple[RequestId | None, Kind | None]:
    """The id of an oversized line from its first bytes, else from its last (`..."id":7}`)."""
    request_id, kind = recover_id(head.decode("utf-8", "ignore"))
    if request_id is None:
        match = _TAIL_ID.search(tail.decode("utf-8", "ignore"))
        if match is not None:
            request_id = _id_value(match.group(1))
    return request_id, kind


def _kind_of_hints(has_method: bool, has_answer: bool, request_id: RequestId | None) -> Kind | None:
    if has_method:
        return Kind.REQUEST if request_id is not None else Kind.NOTIFICATION
    return Kind.RESPONSE if has_answer else None


def _id_at(text: str, position: int) -> RequestId | None:
    match = _ID_VALUE.match(text, position)
    return _id_value(match.group(1)) if match is not None else None


def _id_value(token: str) -> RequestId | None:
    if token.startswith('"'):
        value = _json_string(token)
        return value if isinstance(value, str) and not _LONE_SURROGATE.search(value) else None
    if token.lstrip("-").isdigit():
        return int(token)
    return _integral(float(token))


def _json_string(token: str) -> Any:
    try:
        return json.loads(token)
    except ValueError:
        return None


def _shape_problem(message: Message) -> str | None:
    if message.get("jsonrpc") != "2.0":
        return 'member "jsonrpc" must be "2.0"'
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            return 'member "method" must be a non-empty string'
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            return 'member "params" must be an object'
        if "id" in message and not is_request_id(message["id"]):
            return 'member "id" must be a string or an integer'
        return None
    if "result" in message or "error" in message:
        if ("result" in message) == ("error" in message):
            return 'a response carries exactly one of "result" and "error"'
        if "error" in message and not _is_error_object(message["error"]):
            return 'member "error" must be an object with an integer "code" and a string "message"'
        if not is_request_id(message.get("id")) and not ("error" in message and message.get("id") is None):
            return 'member "id" must be a string or an integer'
        return None
    return 'a message needs "method", "result" or "error"'


def _is_error_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("code"), int)
        and not isinstance(value.get("code"), bool)
        and isinstance(value.get("message"), str)
    )


def kind_of(message: Message) -> Kind:
    """The kind of a message that `parse_line` accepted."""
    if "method" in message:
        return Kind.REQUEST if "id" in message else Kind.NOTIFICATION
    return Kind.RESPONSE


# The members JSON-RPC 2.0 defines, by kind: only these are ever passed from the upstream to the
# client, since the filters (redaction first) look at nothing else.
_MEMBERS = {
    Kind.REQUEST: ("id", "method", "params"),
    Kind.NOTIFICATION: ("method", "params"),
    Kind.RESPONSE: ("id", "result", "error"),
}


def defined_members(message: Message) -> Message:
    """A copy of an accepted message with only the members JSON-RPC 2.0 defines for its kind."""
    rebuilt: Message = {"jsonrpc": "2.0"}
    for name in _MEMBERS[kind_of(message)]:
        if name in message:
            rebuilt[name] = message[name]
    return rebuilt


def error_response(request_id: RequestId | None, code: int, text: str, data: Any = None) -> Message:
    error: dict[str, Any] = {"code": code, "message": text}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def result_response(request_id: RequestId, result: dict[str, Any]) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def tool_error_result(text: str) -> dict[str, Any]:
    """A tools/call result the model can read and act on (not a protocol error)."""
    return {"content": [{"type": "text", "text": text}], "isError": True}


# Built once: json.dumps with options builds an encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(message: Message) -> bytes:
    """One message as one line of compact UTF-8 JSON; raises ValueError rather than write invalid JSON."""
    return (_ENCODER.encode(message) + "\n").encode()


def id_key(request_id: Any) -> Any:
    """Correlation key for ids the relay issued itself: 7 and "7" answer the same request.

    The relay numbers every request it forwards, so the only ids it must recognise are its own
    integers; an upstream that echoes one back as a string is still matched, and anything else
    is unknown (and dropped), never passed to the client unfiltered.
    """
    if isinstance(request_id, bool):
        return None
    if isinstance(request_id, int):
        return request_id
    if isinstance(request_id, str) and request_id.isascii() and request_id.isdigit():
        return int(request_id)
    return None
