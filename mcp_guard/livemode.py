"""Find Stripe objects whose `livemode` contradicts the profile's mode. Pure; no I/O.

Test and live data never mix: a live object in a test profile's result (or the reverse) means
the key or the upstream is not what the profile says, and the result must not pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_guard.config import Mode

MAX_DEPTH = 64  # nesting, counting JSON parsed out of strings; deeper values are refused
MAX_JSON_TEXT = 16 * 1024 * 1024


# Where a node sits: (parent's path, key), built only when a mismatch has to be reported.
_Path = tuple[Any, object] | None  # a key, an index, or _SAME_PLACE


def _pointer(path: _Path) -> str:
    tokens: list[str] = []
    while path is not None:
        path, token = path
        if token is not _SAME_PLACE:
            tokens.append(str(token).replace("~", "~0").replace("/", "~1"))
    return "".join("/" + token for token in reversed(tokens))


_SAME_PLACE = object()  # JSON parsed out of a string continues at the string's own pointer


def find_livemode_mismatch(value: Any, mode: Mode) -> str | None:
    """JSON pointer of the first object whose `livemode` is not `mode`, or None.

    Strings holding JSON (an MCP text content item) are parsed and searched too; the pointer
    then continues into the parsed document (`/content/0/text/data/0`). Values nested deeper
    than MAX_DEPTH are reported as a mismatch (fail closed) with the pointer where the search stopped.
    """
    expected = mode is Mode.LIVE
    contradiction = _LIVE_TRUE if mode is Mode.TEST else _LIVE_FALSE
    stack: list[tuple[Any, _Path, int]] = [(value, None, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _pointer(path)
        if isinstance(node, dict):
            flag = node.get("livemode")
            if isinstance(flag, bool) and flag is not expected:
                return _pointer(path)
            children: list[tuple[Any, _Path]] = [(v, (path, k)) for k, v in node.items() if isinstance(v, (dict, list, str))]
        elif isinstance(node, list):
            children = [(v, (path, i)) for i, v in enumerate(node) if isinstance(v, (dict, list, str))]
        elif isinstance(node, str):
            parsed = _parse_json_text(node, contradiction)
            children = [] if parsed is None else [(parsed, (path, _SAME_PLACE))]
        else:
            continue
        # Reverse so the first child is examined first: "first" follows document order.
        stack.extend((child, child_path, depth + 1) for child, child_path in reversed(children))
    return None


# A contradicting flag written as JSON text, at any level of string escaping (JSON inside JSON).
_LIVE_TRUE = re.compile(r'livemode\\*"\s*:\s*true')
_LIVE_FALSE = re.compile(r'livemode\\*"\s*:\s*false')


def _parse_json_text(text: str, contradiction: re.Pattern[str]) -> Any:
    """The JSON in `text` when it could hold a contradicting livemode flag; None when it cannot.

    Parsing is the precise check; the regex only skips texts that cannot contain the flag. A
    \\u escape could spell the key or the value in a way the regex misses, so it forces a parse.
    """
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[" or len(stripped) > MAX_JSON_TEXT:
        return None
    if "\\u" not in stripped and not contradiction.search(stripped):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
