"""Compile the field table, per object type and on first use, into nodes the walk can use fast.

A `Node` is one JSON object of a known type: the set of keys the table knows (anything else is an
unknown field) and `visit`, only the keys that can need work: sensitive fields and containers that
can hold them. Safe fields (ids, amounts, statuses, enums...) are never visited, which is most of
them. Entries are small tuples whose first item is one of the tags below.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp_guard.redaction._table import FieldTable
from mcp_guard.redaction.settings import Action, RedactionSettings

# Entry tags.
LEAF = 0  # (LEAF, Leaf): a sensitive scalar (or a value to scan)
NODE = 1  # (NODE, Node): a sub-object typed by its path
LIST = 2  # (LIST, entry): a list of entry
MAP = 3  # (MAP, entry): an object with arbitrary keys (metadata...), values of entry
PAGE = 4  # (PAGE, entry): a `list` / `search_result` object whose `data` holds entry
REF = 5  # (REF, type or None, options): an object typed by its own `object` (else `type`); a string is an id
EXP = 6  # (EXP, entry): an id, or expanded, entry
ANY = 7  # (ANY, Leaf or None): arbitrary JSON; strings follow the unknown-field rule unless a Leaf says
LIKE = 8  # (LIKE, key): typed like the object in the sibling `key` (event data.previous_attributes)
CHECK = 9  # (CHECK, Node): a sub-object of safe fields only: just checked for unknown keys

Entry = tuple[Any, ...]

# Classes whose values are remembered for the session (see _learned.py): they identify someone or
# grant access. Free text, metadata and personal attributes (`female`, `US`) would mask common words.
LEARNED_CLASSES = frozenset({"name", "email", "phone", "address", "tax_id", "bank_account", "card", "secret",
                             "url", "ip_address", "user_agent", "device", "business_contact"})
PAGE_KEYS = frozenset({"object", "data", "has_more", "url", "next_page", "total_count"})
PAGE_OBJECTS = frozenset({"list", "search_result"})
FIELD_CLASS = "field"  # marker class of a safe or unknown field that a profile's `fields:` masks
_RULE_CACHE_NAMES = 10_000  # unknown field names remembered per session (a hostile upstream could send any)


@functools.lru_cache(maxsize=4)
def _compiled_rules(rules: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), cls) for pattern, cls in rules)


# REF options of a field Stripe declares a plain, safe string but names after a type (`report_type`,
# a `coupon` code): an object there is typed by itself, and any string is kept, id-shaped or not.
DECLARED_STRING = "declared string"


@dataclass(frozen=True, slots=True)
class Leaf:
    cls: str
    action: Action
    marker: str  # the `mask` replacement, built once
    learn: bool  # remember redacted values for the session
    scan: bool  # kept, but passed through the detectors and learned values (kept free text)
    keep_keys: frozenset[str]  # metadata keys whose values are kept (and scanned)


class Node:
    """One object shape: which keys exist, and which of them the walk must look at."""

    __slots__ = ("known", "nvisit", "path", "type", "visit", "visit_map", "walk_owned", "walk_shared")

    def __init__(self, type_name: str, path: tuple[str, ...]) -> None:
        self.type = type_name
        self.path = path
        # The generated walk functions (_codegen.py), for dicts the walk owns or not: built on first use.
        self.walk_owned: Any = None
        self.walk_shared: Any = None
        self.known: frozenset[str] = frozenset()
        self.visit: tuple[tuple[str, Entry], ...] = ()
        self.visit_map: dict[str, Entry] = {}
        self.nvisit = 0

    def finish(self, known: frozenset[str], visit: list[tuple[str, Entry]]) -> None:
        self.known = known
        self.visit = tuple(visit)
        self.visit_map = dict(visit)
        self.nvisit = len(visit)

    def __repr__(self) -> str:
        return f"Node({self.type}{'.' if self.path else ''}{'.'.join(self.path)}, visit={self.nvisit})"


class Compiled:
    """The table as one profile sees it: nodes per type, built on first use and kept.

    The table itself is loaded on first use too, so that building a redactor costs nothing at start.
    """

    def __init__(self, table: Callable[[], FieldTable], settings: RedactionSettings) -> None:
        self._load = table
        self._table: FieldTable | None = None
        self._ref_names: frozenset[str] = frozenset()  # field names that are object types: ids that may be expanded
        self._settings = settings
        self._nodes: dict[str, Node | None] = {}
        self.known_nodes: dict[Any, Node] = {}  # the types compiled so far that the table knows
        self._leaves: dict[tuple[str, Action], Leaf] = {}
        self._fields = dict(settings.fields)
        self.has_field_actions = bool(self._fields)
        self._keep_keys = frozenset(settings.metadata_keep)
        self._rule_classes: dict[str, str | None] = {}  # field name -> class_by_rules, per session
        self.page = Node("list", ())
        self.page.finish(PAGE_KEYS, [])

    @property
    def keep_keys(self) -> frozenset[str]:
        return self._keep_keys

    def refers_to_type(self, name: str) -> bool:
        """Whether a field name is an object type's (`customer`, `coupon`): its strings are ids."""
        _ = self.table
        return name in self._ref_names

    def class_by_rules(self, name: str) -> str | None:
        """The class the generator's rules on names alone give a field name the table never saw
        (`zip` -> address, `bin` -> card, `unit_amount_excluding_tax` -> safe), or None."""
        try:
            return self._rule_classes[name]
        except KeyError:
            pass
        cls = next((c for pattern, c in _compiled_rules(self.table.name_rules) if pattern.fullmatch(name)), None)
        if len(self._rule_classes) < _RULE_CACHE_NAMES:
            self._rule_classes[name] = cls
        return cls

    @property
    def table(self) -> FieldTable:
        if self._table is None:
            self._table = self._load()
            self._ref_names = frozenset(name.rsplit(".", 1)[-1] for name in self._table.objects)
        return self._table

    def node(self, type_name: str) -> Node | None:
        """The node of an object type, or None if the table does not know the type."""
        if type_name in self._nodes:
            return self._nodes[type_name]
        fields = self.table.objects.get(type_name)
        node = None if fields is None else self._node(type_name, (), fields)
        self._nodes[type_name] = node
        if node is not None:
            self.known_nodes[type_name] = node
        return node

    def leaf(self, cls: str) -> Leaf:
        """A leaf of a class with the profile's action (keys sensitive anywhere, outside Stripe objects)."""
        return self._leaf(cls, self._settings.action_for(cls))

    def leaf_for(self, cls: str, action: Action) -> Leaf:
        """A leaf with a given action (a profile's `fields:` entry on an unknown field)."""
        return self._leaf(cls, action)

    def field_action(self, type_name: str, path: tuple[str, ...]) -> Action | None:
        if not self._fields:
            return None
        dotted = ".".join(path)
        return self._fields.get(f"{type_name}.{dotted}") or self._fields.get(f"*.{dotted}")

    # -- compilation -------------------------------------------------------------------------

    def _node(self, type_name: str, path: tuple[str, ...], fields: dict[str, Any]) -> Node:
        node = Node(type_name, path)
        visit: list[tuple[str, Entry]] = []
        for key, raw in fields.items():
            entry = self._entry(raw, type_name, (*path, key))
            if entry is not None:
                visit.append((key, entry))
        # Sensitive leaves first: the generated walk function numbers them 0, 1, 2... in a bit mask,
        # and small numbers stay small ints (no allocation per changed field).
        node.finish(frozenset(fields), sorted(visit, key=lambda item: item[1][0] != LEAF))
        return node

    def _entry(self, raw: Any, type_name: str, path: tuple[str, ...]) -> Entry | None:
        if isinstance(raw, dict):
            node = self._node(type_name, path, raw)
            return (NODE if node.nvisit else CHECK, node)
        if isinstance(raw, list):
            return self._compound(raw, type_name, path)
        text = str(raw)
        if text.startswith("@"):
            return (REF, text[1:] or None, None)
        if text.startswith("x@"):
            return (REF, text[2:], None)
        if text.startswith("~"):
            return (LIKE, text[1:])
        kind, _, cls = text.partition(":")
        override = self.field_action(type_name, path)
        if kind == "a":
            return (ANY, self._class_leaf(cls, override) if cls or override else None)
        if not cls and override is None and kind == "s" and path[-1] in self._ref_names:
            return (REF, None, DECLARED_STRING)  # named after a type (`customer`): an object there is typed by itself
        if not cls and override in (None, Action.KEEP):
            return None  # a safe field: never visited
        leaf = self._class_leaf(cls or FIELD_CLASS, override)
        if leaf.action is Action.KEEP and not leaf.scan:
            return None
        return (LEAF, leaf)

    def _compound(self, raw: list[Any], type_name: str, path: tuple[str, ...]) -> Entry | None:
        tag = raw[0]
        if tag == "|":
            names = tuple(str(option)[1:] for option in raw[1:] if isinstance(option, str) and str(option).startswith("@"))
            return (REF, None, names)
        inner = self._entry(raw[1], type_name, path)
        if tag == "L":
            return (PAGE, inner)
        if inner is None:
            return None  # a list, map or expandable of safe scalars
        if tag == "[]":
            return (LIST, inner)
        if tag == "{}":
            return (MAP, inner)
        if tag == "x":
            return (EXP, inner)
        raise ValueError(f"unknown table entry {tag!r}")

    def _class_leaf(self, cls: str, override: Action | None) -> Leaf:
        return self._leaf(cls, override or self._settings.action_for(cls))

    def _leaf(self, cls: str, action: Action) -> Leaf:
        leaf = self._leaves.get((cls, action))
        if leaf is None:
            scan = action is Action.KEEP and cls in ("free_text", "metadata", FIELD_CLASS, "unknown")
            keep_keys = self._keep_keys if cls == "metadata" else frozenset()
            leaf = Leaf(cls, action, f"[redacted:{cls}]", cls in LEARNED_CLASSES and action is not Action.KEEP, scan, keep_keys)
            self._leaves[(cls, action)] = leaf
        return leaf

