"""A leak corpus generated from the field table: every sensitive field of every object type planted.

Each object type gets a complete object: every sensitive field holds a distinctive planted value
(`PLANT00042-email`, or a number such as 93000042 for card expiries and birth dates), every
other field a value that must come back unchanged (ids, amounts, statuses, timestamps). The
objects are then sent in every shape Stripe uses:

    plain     the object itself, and list pages of objects
    search    search result pages
    event     an event whose data.object is the object and data.previous_attributes a second one
    expanded  another object holding it in an expandable field, with its `object` key dropped

`build(livemode)` returns the payloads by operation id (what tests/upstreams/corpus_server.py
serves), the planted values, and the survivors: (operation id, JSON path, value) to compare with
an unredacted control run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mcp_guard.redaction._table import FieldTable, load_table

PAGE_SIZE = 12  # objects per list page: the whole corpus fits in a few dozen calls
_SKIP_FIELDS = {"deleted"}  # a deleted object has almost no fields: not the shape to plant in


@dataclass
class Corpus:
    payloads: dict[str, Any] = field(default_factory=dict)  # operation id -> JSON body
    planted_text: set[str] = field(default_factory=set)
    planted_numbers: set[str] = field(default_factory=set)  # written as JSON numbers
    survivors: list[tuple[str, tuple[Any, ...], Any]] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    _prefixes: set[str] = field(default_factory=set, repr=False)  # planted_text without suffixes, built once
    _prefixes_of: int = field(default=-1, repr=False)  # how many planted values _prefixes was built from

    def leaks(self, text: str) -> set[str]:
        """Planted values found in `text`, whole or in part (`PLANT00042` without its suffix counts)."""
        if self._prefixes_of != len(self.planted_text):  # built once planting is done, not per call
            self._prefixes = {value.split("-", 1)[0] for value in self.planted_text}
            self._prefixes_of = len(self.planted_text)
        found = set(re.findall(r"PLANT[0-9]{5}", text)) & self._prefixes
        return found | (set(re.findall(r"(?<![0-9.])93[0-9]{6}(?![0-9])", text)) & self.planted_numbers)


class _Planter:
    def __init__(self, table: FieldTable, livemode: bool) -> None:
        self.table = table
        self.livemode = livemode
        self.n = 0
        self.planted_text: set[str] = set()
        self.planted_numbers: set[str] = set()
        self.type_names = {name.rsplit(".", 1)[-1] for name in table.objects}

    def next(self) -> int:
        self.n += 1
        return self.n

    def object(self, type_name: str, *, depth: int = 0) -> tuple[dict[str, Any], list[tuple[tuple[Any, ...], Any]]]:
        """A planted object of a type, and its survivors (path inside it, value)."""
        survivors: list[tuple[tuple[Any, ...], Any]] = []
        fields = self.table.objects[type_name]
        out = self.fields(type_name, fields, (), survivors, depth)
        out["object"] = type_name
        out["id"] = self.id(type_name)
        out["livemode"] = self.livemode
        survivors += [(("object",), type_name), (("id",), out["id"]), (("livemode",), self.livemode)]
        return out, survivors

    def id(self, type_name: str) -> str:
        prefix = "".join(part[0] for part in re.split(r"[._]", type_name)) or "obj"
        return f"{prefix}_Corpus{self.next():08d}x"

    def fields(self, type_name: str, fields: dict[str, Any], path: tuple[Any, ...], survivors: list[Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, entry in fields.items():
            if key in _SKIP_FIELDS or (not path and key in ("object", "id", "livemode")):
                continue
            value = self.value(type_name, entry, (*path, key), survivors, depth)
            if value is not _SKIP:
                out[key] = value
        return out

    def value(self, type_name: str, entry: Any, path: tuple[Any, ...], survivors: list[Any], depth: int) -> Any:
        if isinstance(entry, dict):
            return self.fields(type_name, entry, path, survivors, depth)
        if isinstance(entry, list):
            tag = entry[0]
            if tag == "[]":
                item = self.value(type_name, entry[1], (*path, 0), survivors, depth)
                return _SKIP if item is _SKIP else [item]
            if tag == "{}":
                item = self.value(type_name, entry[1], (*path, "corpus_key"), survivors, depth)
                return _SKIP if item is _SKIP else {"corpus_key": item}
            if tag == "L":
                item = self.value(type_name, entry[1], (*path, "data", 0), survivors, depth)
                return {"object": "list", "data": [] if item is _SKIP else [item], "has_more": False, "url": "/v1/corpus"}
            if tag == "x":
                return self.value(type_name, entry[1], path, survivors, depth)
            if tag == "|":
                return self.value(type_name, entry[1], path, survivors, depth)
        text = str(entry)
        if text == "@" or text.startswith("~"):
            return _SKIP  # an event's data: built by the event shape
        if text.startswith(("@", "x@")):
            target = text.split("@", 1)[1]
            if text.startswith("x@") or depth >= 1 or target not in self.table.objects:
                new_id = self.id(target)
                survivors.append((path, new_id))
                return new_id
            inner, inner_survivors = self.object(target, depth=depth + 1)
            survivors += [((*path, *p), v) for p, v in inner_survivors]
            return inner
        kind, _, cls = text.partition(":")
        return self.leaf(kind, cls, path, survivors)

    def leaf(self, kind: str, cls: str, path: tuple[Any, ...], survivors: list[Any]) -> Any:
        n = self.next()
        if cls:  # sensitive: planted
            if kind in ("i", "f", "d") and cls in ("card", "dob", "ip_address", "tax_id"):
                number = 93_000_000 + n
                self.planted_numbers.add(str(number))
                return number if kind == "i" else float(number)
            value = f"PLANT{n:05d}-{cls}"
            self.planted_text.add(value)
            return value if kind != "a" else {"corpus": value}
        value: Any = {"s": f"kept{n}", "e": "corpus_status", "i": 1_600_000_000 + n, "f": 1.5, "d": "12.5", "b": True, "a": None}[kind]
        last = path[-1]
        if kind == "s" and isinstance(last, str) and (last == "id" or last.endswith("_id") or last in self.type_names):
            value = f"cid_Corpus{n:08d}x"  # an id: where a field is named after a type, the API sends its id
        if value is not None:
            survivors.append((path, value))
        return value


_SKIP: Any = object()


def build(livemode: bool, table: FieldTable | None = None) -> Corpus:
    table = table or load_table()
    planter = _Planter(table, livemode)
    corpus = Corpus(types=sorted(t for t in table.objects if not t.startswith("v2.")) + sorted(t for t in table.objects if t.startswith("v2.")))
    plain: list[tuple[dict[str, Any], list[Any]]] = [planter.object(t) for t in corpus.types]

    for start in range(0, len(plain), PAGE_SIZE):
        chunk = plain[start:start + PAGE_SIZE]
        _add_page(corpus, f"GetCorpusPlain{start // PAGE_SIZE:02d}", "list", chunk)
    for start in range(0, len(plain), 4 * PAGE_SIZE):
        chunk = plain[start:start + 4 * PAGE_SIZE:4]
        _add_page(corpus, f"GetCorpusSearch{start // (4 * PAGE_SIZE):02d}", "search_result", chunk)
    for index in range(0, len(plain), 37):  # a few single objects: a result need not be a list
        obj, survivors = plain[index]
        corpus.payloads[f"GetCorpusSingle{index:03d}"] = obj
        corpus.survivors += [(f"GetCorpusSingle{index:03d}", p, v) for p, v in survivors]

    events = []
    for type_name in corpus.types:
        current, current_survivors = planter.object(type_name)
        previous, _ = planter.object(type_name)
        for key in ("object", "id", "livemode"):
            del previous[key]
        event_id = planter.id("event")
        event = {"id": event_id, "object": "event", "api_version": "2025-03-31.basil", "created": 1_700_000_000 + planter.next(),
                 "livemode": livemode, "pending_webhooks": 1, "type": f"{type_name}.updated",
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": current, "previous_attributes": previous}}
        survivors = [(("id",), event_id), (("object",), "event"), (("created",), event["created"]), (("type",), event["type"])]
        survivors += [(("data", "object", *p), v) for p, v in current_survivors]
        events.append((event, survivors))
    for start in range(0, len(events), PAGE_SIZE):
        _add_page(corpus, f"GetCorpusEvents{start // PAGE_SIZE:02d}", "list", events[start:start + PAGE_SIZE])

    expanded = [_expanded(planter, table, target) for target in _expansion_targets(table)]
    for start in range(0, len(expanded), PAGE_SIZE):
        _add_page(corpus, f"GetCorpusExpanded{start // PAGE_SIZE:02d}", "list", expanded[start:start + PAGE_SIZE])

    corpus.planted_text = planter.planted_text
    corpus.planted_numbers = planter.planted_numbers
    return corpus


def _add_page(corpus: Corpus, operation: str, kind: str, items: list[tuple[dict[str, Any], list[Any]]]) -> None:
    page: dict[str, Any] = {"object": kind, "data": [obj for obj, _ in items], "has_more": False, "url": "/v1/corpus"}
    if kind == "search_result":
        page["next_page"] = None
    corpus.payloads[operation] = page
    for index, (_, survivors) in enumerate(items):
        corpus.survivors += [(operation, ("data", index, *p), v) for p, v in survivors]


def _expansion_targets(table: FieldTable) -> dict[str, tuple[str, str]]:
    """For each type some other type can expand: one (holder type, top-level field) that does."""
    targets: dict[str, tuple[str, str]] = {}
    for holder in sorted(table.objects):
        for key, entry in table.objects[holder].items():
            if isinstance(entry, str) and entry.startswith("x@") and entry[2:] in table.objects:
                targets.setdefault(entry[2:], (holder, key))
    return targets


def _expanded(planter: _Planter, table: FieldTable, target: str) -> tuple[dict[str, Any], list[Any]]:
    holder, key = _expansion_targets(table)[target]
    outer, survivors = planter.object(holder)
    inner, inner_survivors = planter.object(target, depth=1)
    del inner["object"]  # Stripe always sends it; without it the table types the expansion
    outer[key] = inner
    survivors = [(p, v) for p, v in survivors if p[:1] != (key,)]
    survivors += [((key, *p), v) for p, v in inner_survivors if p != ("object",)]
    return outer, survivors
