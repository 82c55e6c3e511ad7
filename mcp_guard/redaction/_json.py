"""Parse and serialize JSON held in strings: the stdlib parses, orjson serializes when it is safe.

Parsing is the stdlib's: it reads every integer exactly. orjson reads an integer beyond 64 bits
as a double (123456789012345678901234567890 becomes 1.2345678901234568e+29), which would change
an amount in a redacted text; and on Stripe's JSON the stdlib's C scanner is as fast.

Serializing is orjson's (several times faster) unless the value holds what orjson would write
differently: NaN and infinities, which it writes as `null`. The stdlib accepts those in a text
(`NaN`, `Infinity`, `1e400`), so such a value is serialized by the stdlib and round-trips as it
came. orjson refuses integers beyond 64 bits and unpaired surrogates; those fall back too.
"""

from __future__ import annotations

import json
import math
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; keep working without it
    orjson = None  # type: ignore[assignment]


class _NotFinite(ValueError):
    """The text holds NaN or an infinity: only the stdlib may serialize what is parsed from it."""


def _refuse_constant(_: str) -> Any:
    raise _NotFinite


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotFinite
    return number


_FINITE = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)
_PLAIN = json.JSONDecoder()


def parse(text: str) -> tuple[Any, bool]:
    """(value, orjson_may_serialize); raises ValueError if not JSON, RecursionError if too deep."""
    try:
        return _FINITE.decode(text), True
    except _NotFinite:
        return json.loads(text), False


def parse_at(text: str, start: int) -> tuple[Any, int, bool]:
    """The JSON document starting at `start` of a longer text: (value, end, orjson_may_serialize)."""
    try:
        value, end = _FINITE.raw_decode(text, start)
        return value, end, True
    except _NotFinite:
        value, end = _PLAIN.raw_decode(text, start)
        return value, end, False


def serialize(value: Any, *, pretty: bool, fast: bool, spaced: bool = False) -> str:
    """Compact (or indent=2 when the original was pretty-printed, or with Python's `", "` and
    `": "` separators when `spaced`), non-ASCII kept as is."""
    if spaced and not pretty:
        return json.dumps(value, ensure_ascii=False)
    if fast and orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2 if pretty else 0).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            pass
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
