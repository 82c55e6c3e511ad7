"""JSON-RPC 2.0 framing for a dict-level relay (pure: no I/O).

Messages stay plain dicts end to end, so vendor fields, `_meta` and unknown members pass through
untouched. This module only decides what kind of message a line holds, or why it is not one.
"""

from __future__ import annotations

import json
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


class Kind(str, Enum):
    REQUEST = "request"
    NOTIFICATION = "notification"
    RESPONSE = "response"  # a result or an error answering a request


@dataclass(frozen=True, slots=True)
class FramingProblem:
    """A line that is not a single valid JSON-RPC message; answered, never forwarded."""

    code: int
    message: str
    id: RequestId | None = None  # the offending request's id, when it could be recovered


@dataclass(frozen=True, slots=True)
class Oversized:
    """A line longer than the size cap; its bytes were discarded unread."""

    size: int


def is_request_id(value: Any) -> bool:
    # bool is an int subclass, and JSON-RPC forbids null ids on requests.
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


def parse_line(line: bytes | str) -> Message | FramingProblem:
    """Parse one line into a message dict, or say why it cannot be relayed."""
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        return FramingProblem(PARSE_ERROR, f"Parse error: {exc}")
    if isinstance(value, list):
        return FramingProblem(INVALID_REQUEST, "JSON-RPC batches are not supported: send one message per line")
    if not isinstance(value, dict):
        return FramingProblem(INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    problem = _shape_problem(value)
    if problem is not None:
        raw_id = value.get("id")
        return FramingProblem(INVALID_REQUEST, f"Invalid Request: {problem}", raw_id if is_request_id(raw_id) else None)
    return value


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


def encode(message: Message) -> bytes:
    """One message as one line of compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


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
