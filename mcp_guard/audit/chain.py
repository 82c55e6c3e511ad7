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
    try:
        text = canonical_json(body)
    except (TypeError, ValueError):
        body = json.loads(json.dumps(body, default=str))
        text = canonical_json(body)
    return body, hashlib.sha256((body["prev"] + text).encode("utf-8")).hexdigest()


def raw_line_hash(line: bytes) -> str:
    """What a line that is not a chained record stands for in the chain (so both sides agree)."""
    return hashlib.sha256(line).hexdigest()
