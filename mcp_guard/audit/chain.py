"""The hash chain: canonical JSON and the link between consecutive records (pure)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64  # `prev` of the very first record of a directory that was never pruned


def canonical_json(value: Any) -> str:
    """Key-sorted, compact JSON: the hash does not depend on how a line was formatted."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize(value: dict[str, Any]) -> dict[str, Any]:
    """`value` as it will read back from JSON (tuples to lists, odd types to text)."""
    try:
        canonical_json(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def link_hash(prev: str, body: dict[str, Any]) -> str:
    """The `hash` of a record whose fields (including `prev` and `seq`, excluding `hash`) are `body`."""
    return hashlib.sha256((prev + canonical_json(body)).encode("utf-8")).hexdigest()


def raw_line_hash(line: bytes) -> str:
    """What a line that is not a chained record stands for in the chain (so both sides agree)."""
    return hashlib.sha256(line).hexdigest()
