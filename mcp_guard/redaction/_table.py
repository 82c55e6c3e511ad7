"""The field table (mcp_guard/data/stripe_fields.json), loaded once per process on first use.

The table is generated from the pinned `stripe` package by `make stripe-fields`
(tools/stripe_fields). It maps every object type to its fields, nested as in the API, each with its
type and redaction class; see tools/stripe_fields/_table.py for the encoding. This module only
reads it: compilation into walkable nodes, which depends on a profile's settings, is _compile.py.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mcp_guard.errors import RedactionError

TABLE_RESOURCE = "stripe_fields.json"
FORMAT = 1

_lock = threading.Lock()
_loaded: FieldTable | None = None


@dataclass(frozen=True, slots=True)
class FieldTable:
    stripe_version: str
    objects: dict[str, dict[str, Any]]  # object type -> raw field entries
    operations: dict[str, str]  # Stripe operation id (GetCustomersSearch) -> object type
    anywhere: dict[str, str]  # field name -> class, for keys with one sensitive class wherever they occur (generated)
    by_name: dict[str, str]  # field name -> the most sensitive class it has anywhere: for fields the table does not know
    name_rules: tuple[tuple[str, str], ...]  # (name regex, class): the generator's rules on names alone, in order
    usual_by_name: dict[str, str]  # field name -> the class it has most often, when sensitive: for tool-call arguments

    def type_for_tool(self, tool: str | None) -> str | None:
        """The object type a legacy tool returns: `list_payment_intents` -> payment_intent."""
        if not tool:
            return None
        for prefix in ("list_", "retrieve_", "search_", "get_"):
            if tool.startswith(prefix):
                noun = tool[len(prefix):]
                for candidate in (noun, noun[:-1] if noun.endswith("s") else noun, noun.replace("_", "")[:-1]):
                    if candidate in self.objects:
                        return candidate
        return None


def load_table() -> FieldTable:
    """The process's table, parsed on first use (a few milliseconds) and shared by every redactor."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = _parse(_read())
    return _loaded


def _read() -> bytes:
    try:
        return resources.files("mcp_guard.data").joinpath(TABLE_RESOURCE).read_bytes()
    except OSError as exc:  # a broken installation: nothing can be redacted, so nothing may pass
        raise RedactionError(f"the Stripe field table {TABLE_RESOURCE} cannot be read ({exc.strerror})") from exc


def _parse(raw: bytes) -> FieldTable:
    try:
        try:
            import orjson

            data = orjson.loads(raw)
        except ImportError:  # pragma: no cover - orjson is a dependency
            data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        objects = data["objects"]
        rules = tuple((str(pattern), str(cls)) for pattern, cls in data["name_rules"])
        return FieldTable(str(data["stripe"]), objects, dict(data["operations"]), dict(data["anywhere"]), dict(data["by_name"]), rules,
                          dict(data["usual_by_name"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RedactionError(f"the Stripe field table {TABLE_RESOURCE} is corrupt ({exc})") from exc
