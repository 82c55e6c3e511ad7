"""Parse and serialize JSON held in strings: orjson when it can (5x faster), else the stdlib.

orjson refuses what strict JSON refuses (NaN, integers beyond 64 bits); the stdlib accepts those,
so a value parsed by the stdlib is serialized by it too and round-trips unchanged.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; keep working without it
    orjson = None  # type: ignore[assignment]


def parse(text: str) -> tuple[Any, bool]:
    """(value, parsed_by_orjson); raises ValueError if not JSON, RecursionError if too deep."""
    if orjson is not None:
        try:
            return orjson.loads(text), True
        except orjson.JSONDecodeError:
            pass
    return json.loads(text), False


def serialize(value: Any, *, pretty: bool, fast: bool) -> str:
    """Compact (or indent=2 when the original was pretty-printed), non-ASCII kept as is."""
    if fast and orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2 if pretty else 0).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            pass
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
