"""JSON documents inside a text that is not one JSON document as a whole. Pure; no I/O.

Stripe's MCP servers answer with one JSON document per text item, but nothing stops an upstream
from writing prose around it (`Customer: {...}`), a Markdown code fence, a byte order mark, or
several documents on separate lines. Redaction and the livemode check must see those objects as
objects, not as prose that only the detectors scan.

A `{` or `[` is tried as the start of a document only when what follows could begin one (`{"`,
`{}`, `[1`, `[{`, `["`, `[true`...), so prose brackets (`{name}`, `[redacted:email]`, a Markdown
`[link](...)`) cost a regex match. A document found is skipped as a whole. A failed attempt costs
Python's json about as much as the text before it (its error message counts the lines up to the
failure), so the failures a text may hold are bounded by what they cost in total: the sum of
their offsets may be at most WORK_PER_CHARACTER times the text's length plus WORK_ALLOWANCE
(about 50 ms for a 1 MB text here). A text crafted so that every bracket starts an almost-document
raises TooManyFragments instead of taking quadratic time. Callers fail closed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

WORK_PER_CHARACTER = 32
WORK_ALLOWANCE = 16 * 1024 * 1024
# Where a document could start: an object's first key or its end, an array's first value or its end.
_OPENING = re.compile(r'\{\s*["}]|\[\s*(?:[\[{"\]\-0-9]|true\b|false\b|null\b)')
_DECODER = json.JSONDecoder()

Decode = Callable[[str, int], tuple[Any, int]]  # (text, start) -> (value, end), raises ValueError


class TooManyFragments(ValueError):
    """The text holds more bracketed fragments that start no JSON document than can be checked."""


def json_documents(text: str, decode: Decode = _DECODER.raw_decode) -> list[tuple[int, int, Any]]:
    """(start, end, value) of every non-empty JSON object or array in `text`, in order.

    Raises TooManyFragments past the work bound, and lets RecursionError (nesting too deep for
    the parser) through: both mean the text cannot be checked.
    """
    found: list[tuple[int, int, Any]] = []
    budget = WORK_PER_CHARACTER * len(text) + WORK_ALLOWANCE
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        start = opening.start()
        try:
            value, end = decode(text, start)
        except ValueError as exc:
            budget -= max(start, getattr(exc, "pos", start)) + 1
            if budget < 0:
                raise TooManyFragments(f"the text holds more bracketed fragments than can be checked ({len(text)} characters)") from None
            position = start + 1
            continue
        if isinstance(value, (dict, list)) and value:
            found.append((start, end, value))
        position = end
    return found
