"""Find Stripe objects whose `livemode` contradicts the profile's mode. Pure; no I/O.

Test and live data never mix: a live object in a test profile's result (or the reverse) means
the key or the upstream is not what the profile says, and the result must not pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_guard.config import Mode
from mcp_guard.json_in_text import TooManyFragments, json_documents

MAX_DEPTH = 64  # nesting, counting JSON parsed out of strings; deeper values are refused
MAX_JSON_TEXT = 16 * 1024 * 1024


_SAME_PLACE = object()  # JSON parsed out of a string continues at the string's own pointer


def find_livemode_mismatch(value: Any, mode: Mode) -> str | None:
    """JSON pointer of the first object whose `livemode` is not `mode`, or None.

    Strings holding JSON (an MCP text content item) are parsed and searched too; the pointer
    then continues into the parsed document (`/content/0/text/data/0`). A text holding JSON
    among other text is searched document by document (`/content/0/text/1/data/0`). Values nested deeper
    than MAX_DEPTH are reported as a mismatch (fail closed) with the pointer where the search stopped.
    """
    contradiction = _LIVE_TRUE if mode is Mode.TEST else _LIVE_FALSE
    path = _search(value, mode is Mode.LIVE, contradiction, 0)
    return None if path is None else _pointer(path)


def _search(node: Any, expected: bool, contradiction: re.Pattern[str], depth: int) -> list[object] | None:
    """Depth first, in document order: the path (innermost key first) to the first mismatch, or None.

    Only the path of a mismatch is ever built: the common case (no mismatch) allocates nothing.
    """
    if depth > MAX_DEPTH:
        return []
    children: Any
    if isinstance(node, dict):
        flag = node.get("livemode")
        if isinstance(flag, bool) and flag is not expected:
            return []
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    elif isinstance(node, str):
        try:
            parsed = _parse_json_text(node, contradiction)
        except TooManyFragments:
            return []  # cannot be checked: fail closed
        children = () if parsed is None else ((_SAME_PLACE, parsed),)
    else:
        return None
    for key, child in children:
        if isinstance(child, (dict, list, str)):
            found = _search(child, expected, contradiction, depth + 1)
            if found is not None:
                found.append(key)
                return found
    return None


def _pointer(path: list[object]) -> str:
    """The JSON pointer of a path listed innermost first."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in reversed(path) if token is not _SAME_PLACE)


# A contradicting flag written as JSON text, at any level of string escaping (JSON inside JSON).
_LIVE_TRUE = re.compile(r'livemode\\*"\s*:\s*true')
_LIVE_FALSE = re.compile(r'livemode\\*"\s*:\s*false')


def _parse_json_text(text: str, contradiction: re.Pattern[str]) -> Any:
    """The JSON in `text` when it could hold a contradicting livemode flag; None when it cannot.

    Parsing is the precise check; the regex only skips texts that cannot contain the flag. A
    \\u escape could spell the key or the value in a way the regex misses, so it forces a parse.
    """
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_JSON_TEXT or not ("{" in stripped or "[" in stripped):
        return None
    if "\\u" not in stripped and not contradiction.search(stripped):
        return None
    if stripped[0] in "{[":
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    # JSON among other text (a prefix, a code fence, a BOM, one document per line): each document,
    # as a list. TooManyFragments (a text that cannot be checked) reaches _search: a mismatch.
    return [value for _, _, value in json_documents(stripped)] or None
