"""The hash chain: canonical JSON and the link between consecutive records (pure)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64  # `prev` of the very first record of a directory that was never pruned


# Built once: json.dumps would build an encoder per call, a tenth of the cost of a record.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Key-sorted, compact JSON: the hash does not depend on how a line was formatted.

    The same text as json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
    """
    return _CANONICAL.encode(value)


def link_hash(prev: str, body: dict[str, Any]) -> str:
    """The `hash` of a record whose fields (including `prev` and `seq`, excluding `hash`) are `body`."""
    return hashlib.sha256((prev + canonical_json(body)).encode("utf-8")).hexdigest()


def seal(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(`body` as it will read back from JSON, its `hash`); `body` carries its `prev` and `seq`.

    Values JSON cannot hold (a datetime in arguments, say) are stored as text, so the written
    line and the hashed content are the same data.
    """
    body, digest, _ = seal_line(body)
    return body, digest


def seal_line(body: dict[str, Any]) -> tuple[dict[str, Any], str, bytes]:
    """`seal`, and the line to append: the canonical JSON that was hashed, with `hash` added last.

    One encoding serves both the hash and the line (`{"arguments":...,"ts":...,"hash":"..."}`),
    so `audit verify` (parse, drop `hash`, re-encode canonically, hash) reproduces it exactly.
    Raises ValueError (UnicodeEncodeError) for text that is not Unicode (an unpaired surrogate).
    """
    try:
        text = _CANONICAL.encode(body)
    except (TypeError, ValueError):
        body = json.loads(json.dumps(body, default=str))
        text = _CANONICAL.encode(body)
    data = text.encode("utf-8")
    digest = hashlib.sha256(body["prev"].encode("utf-8") + data).hexdigest()
    return body, digest, b"".join((data[:-1], b',"hash":"', digest.encode("ascii"), b'"}\n'))


def raw_line_hash(line: bytes) -> str:
    """What a line that is not a chained record stands for in the chain (so both sides agree)."""
    return hashlib.sha256(line).hexdigest()
