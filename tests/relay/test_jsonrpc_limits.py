"""The parser's limits (issue 10, items 1-3), in process: hypothesis writes messages nested to any
depth, with unpaired surrogate escapes and non-finite numbers anywhere, and lines that are not JSON
at all. `parse_line` never raises, refuses exactly what it must (with the id when the id is
readable), and whatever it accepts encodes back to strict UTF-8 JSON. The same rules hold for
messages a transport parsed itself (`value_problem`, the HTTP upstream)."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, FramingProblem, Kind, encode, parse_line, recover_id, value_problem
from tests.factories import examples
from tests.relay.faults import strict_json

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
plain_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
ids = st.one_of(st.integers(-(2**70), 2**70), plain_text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), plain_text)


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def wrap(value: Any, depth: int, key: str) -> Any:
    for level in range(depth):
        value = {key: value} if level % 2 else [value]
    return value


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], str, bool]:
    """A tools/call with a payload of some depth, maybe holding a surrogate or a non-finite number;
    with its JSON text and whether the parser must refuse it."""
    flaw = draw(st.sampled_from(["none", "surrogate-value", "surrogate-key", "surrogate-id", "nan", "infinity", "overflow"]))
    payload: Any = draw(scalars)
    if flaw == "surrogate-value":
        payload = draw(plain_text) + draw(surrogates) + draw(plain_text)
    elif flaw in ("nan", "infinity"):
        payload = math.nan if flaw == "nan" else -math.inf
    elif flaw == "overflow":
        payload = "@OVERFLOW@"
    payload = wrap(payload, draw(st.integers(0, 130)), "k")
    if flaw == "surrogate-key":
        payload = {draw(surrogates): payload}
    request_id: Any = draw(surrogates) if flaw == "surrogate-id" else draw(ids)
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "echo", "arguments": {"a": payload}}}
    text = json.dumps(message).replace('"@OVERFLOW@"', "1e999")  # ensure_ascii: a lone surrogate is a \\udXXX escape
    return message, text, flaw != "none" or depth_of(message) > DEFAULT_MAX_DEPTH


@settings(max_examples=examples(400), deadline=None)
@given(requests())
def test_parse_line_refuses_exactly_the_flawed_messages_and_keeps_every_readable_id(case: tuple[dict[str, Any], str, bool]) -> None:
    message, text, flawed = case
    parsed = parse_line(text.encode())
    if not flawed:
        assert parsed == message
        strict_json(encode(parsed))
        return
    assert isinstance(parsed, FramingProblem) and parsed.code == -32600
    request_id = message["id"]
    readable = isinstance(request_id, int) or not any(0xD800 <= ord(c) <= 0xDFFF for c in request_id)
    assert parsed.id == (request_id if readable else None)
    assert parsed.kind is Kind.REQUEST


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=200))
def test_parse_line_never_raises_on_arbitrary_bytes(line: bytes) -> None:
    parsed = parse_line(line)
    if not isinstance(parsed, FramingProblem):
        strict_json(encode(parsed))


@settings(max_examples=examples(100), deadline=None)
@given(st.integers(1, 200_000))
def test_any_depth_of_brackets_is_refused_without_recursion(depth: int) -> None:
    line = b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"a":' + b"[" * depth + b"]" * depth + b"}}"
    parsed = parse_line(line)
    if depth + 2 <= DEFAULT_MAX_DEPTH:
        assert not isinstance(parsed, FramingProblem)
    else:
        assert isinstance(parsed, FramingProblem) and parsed.id == 7 and "deeper than 64" in parsed.message


def test_recover_id_reads_only_the_outermost_id() -> None:
    assert recover_id('{"params":{"id":1,"x":[{"id":2}]},"jsonrpc":"2.0","id":"top","method":"m","y":NaN}') == ("top", Kind.REQUEST)
    assert recover_id('{"result":{"id":5},"jsonrpc":"2.0","id":9}') == (9, Kind.RESPONSE)
    assert recover_id('{"id":"\\ud800","method":"m"}') == (None, Kind.NOTIFICATION)
    assert recover_id('{"id":1.5,"method":"m"}')[0] is None and recover_id("[[[[") == (None, None)


@given(st.sampled_from([{"a": math.nan}, {"a": [math.inf]}, {"a": "x\ud800"}, {"\udc00": 1}, wrap(1, 70, "k")]))
def test_a_parsed_message_is_held_to_the_same_rules(value: Any) -> None:
    assert value_problem(value) is not None
    assert value_problem({"a": [1, "ok", 2.5, None]}) is None
