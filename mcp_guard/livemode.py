"""Find Stripe objects whose `livemode` contradicts the profile's mode. Pure; no I/O.

Test and live data never mix: a live object in a test profile's result (or the reverse) means
the key or the upstream is not what the profile says, and the result must not pass.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_guard.config import Mode

MAX_DEPTH = 64  # nesting, counting JSON parsed out of strings; deeper values are refused
MAX_JSON_TEXT = 16 * 1024 * 1024


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def find_livemode_mismatch(value: Any, mode: Mode) -> str | None:
    """JSON pointer of the first object whose `livemode` is not `mode`, or None.

    Strings holding JSON (an MCP text content item) are parsed and searched too; the pointer
    then continues into the parsed document (`/content/0/text/data/0`). Values nested deeper
    than MAX_DEPTH are reported as a mismatch (fail closed) with the pointer where the search stopped.
    """
    expected = mode is Mode.LIVE
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, pointer, depth = stack.pop()
        if depth > MAX_DEPTH:
            return pointer
        if isinstance(node, dict):
            flag = node.get("livemode")
            if isinstance(flag, bool) and flag is not expected:
                return pointer
            children = [(v, f"{pointer}/{_escape(k)}") for k, v in node.items()]
        elif isinstance(node, list):
            children = [(v, f"{pointer}/{i}") for i, v in enumerate(node)]
        elif isinstance(node, str):
            parsed = _parse_json_text(node)
            children = [] if parsed is None else [(parsed, pointer)]
        else:
            continue
        # Reverse so the first child is examined first: "first" follows document order.
        stack.extend((child, child_pointer, depth + 1) for child, child_pointer in reversed(children))
    return None


def _parse_json_text(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[" or len(stripped) > MAX_JSON_TEXT or ("livemode" not in stripped and "\\u" not in stripped):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
