"""One redaction: a walk over a JSON value, typed by Stripe's field table wherever it can be.

Typing. A JSON object with a known `object` is typed by it; a list page types its `data` items; a
sub-object is typed by its path; an expanded field by its target type; an event's
`data.previous_attributes` like its `data.object`; and a document root without `object` by the
tool's operation id, when given. Inside a typed object only sensitive fields and containers are
visited, by a function generated per node (_codegen.py); a key the table does not know is an
unknown field: its strings are masked or passed to the detectors (profile's `unknown_fields`),
except Stripe ids. Outside Stripe objects
(an MCP envelope, an error body) strings pass the detectors, and keys that are sensitive wherever
Stripe uses them (`email`, `iban`...) are redacted.

Two phases. Every value a field rule redacts is learned for the session (_learned.py). Strings
scanned as text (kept free text, unknown strings, envelope text) are scanned with what is known
when the walk reaches them, and rescanned at the end of their document when the walk learned more
meanwhile, so that a name redacted anywhere in a result is masked in its free text too.

Ownership. The caller's value is never mutated: containers are copied when something under them
changes. JSON parsed out of strings belongs to the walk and is changed in place, then serialized.
Anything that is not plain JSON, or nests deeper than MAX_DEPTH, raises RedactionError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import filterfalse
from typing import TYPE_CHECKING, Any

from mcp_guard.errors import RedactionError
from mcp_guard.json_in_text import TooManyFragments, json_documents
from mcp_guard.redaction import _json
from mcp_guard.redaction._codegen import node_walks
from mcp_guard.redaction._compile import (
    ANY,
    CHECK,
    DECLARED_STRING,
    EXP,
    FIELD_CLASS,
    LEAF,
    LIST,
    MAP,
    NODE,
    PAGE,
    PAGE_KEYS,
    PAGE_OBJECTS,
    REF,
    Entry,
    Leaf,
    Node,
)
from mcp_guard.redaction._markers import keeps_value
from mcp_guard.redaction.settings import Action

if TYPE_CHECKING:
    from mcp_guard.redaction._engine import Redactor

MAX_DEPTH = 100  # JSON-RPC payloads from Stripe nest a dozen levels; 100 is an attack or a bug
_WHITESPACE = " \t\r\n"
# Stripe object ids: kept in unknown fields and inside masked containers.
_STRIPE_ID = re.compile(r"[a-z]{1,16}(?:_[a-z]+)?_[A-Za-z0-9]{8,64}")
_SECRET_PREFIXES = ("sk_", "rk_", "ek_", "whsec_")
# What a field named like a status, type, currency or amount holds: a lowercase code or a number
# written as a string (`invoiceitem`, `usd`, `balance.summary.1`, `1190.5`). No name or address is this.
_CODE = re.compile(r"-?[a-z0-9][a-z0-9_.\-]{0,63}")
# Our own markers: redacting a redacted message again changes and counts nothing.
MARKER = re.compile(r"\[(?:redacted:[a-z][a-z0-9_]*(?::\.\.\.[A-Za-z0-9]{4})?|pseudonym:[a-z][a-z0-9_]*:[0-9a-f]{12})\]")
ROOT = object()  # "no key": the location is the path itself
_REMOVED = object()  # a field whose action is `remove`
_NO_NAME_CLASS: Any = object()  # an unknown field whose name carries no class in Stripe's model
_SHORTEST = 6  # no detector matches fewer characters ("a@b.co")
_CLEAN_KEYS_LIMIT = 20_000  # dict keys the detectors passed, remembered per session (metadata keys repeat)


@dataclass(frozen=True, slots=True)
class Embedded:
    """Path segment standing for "inside the JSON held by the string at (path, key)"."""

    path: tuple[Any, Any] | None
    key: Any


def is_stripe_id(s: str) -> bool:
    return "_" in s and " " not in s and _STRIPE_ID.fullmatch(s) is not None and "_secret_" not in s and not s.startswith(_SECRET_PREFIXES)


def _is_code(s: str) -> bool:
    return _CODE.fullmatch(s) is not None and "_secret_" not in s and not s.startswith(_SECRET_PREFIXES)


def is_reference(s: str) -> bool:
    """A string where Stripe declares an id (an expandable field, a field named after a type): kept.

    Not only generated ids: coupons, products and plans take ids the merchant chose (`Z4OV52SU`,
    `gold-plan`). What no id holds (spaces, `@`) and secrets are not kept; the generated walk
    (_codegen.py, REF) keeps the same strings without calling here.
    """
    return " " not in s and "@" not in s and "_secret_" not in s and not s.startswith(_SECRET_PREFIXES)


def _is_marker(s: str) -> bool:
    return s[:1] == "[" and MARKER.fullmatch(s) is not None


class Walk:
    """State of one redaction: counts, changed places, strings to rescan with later learned values."""

    __slots__ = ("anywhere", "by_name", "changes", "compiled", "counts", "detector", "hint", "hits", "inboxes", "learned", "learning",
                 "markers", "pend", "pending", "redactor", "unknown_mask")

    def __init__(self, redactor: Redactor, hint: str | None) -> None:
        self.redactor = redactor
        self.compiled = redactor.compiled
        self.detector = redactor.detector
        self.markers = redactor.markers
        self.learned = redactor.learned
        self.learning = redactor.learning
        self.inboxes = redactor.inboxes  # class -> append of values to learn (generated walk functions)
        self.unknown_mask = redactor.unknown_mask
        self.anywhere = redactor.compiled.table.anywhere
        self.by_name = redactor.compiled.table.by_name
        self.hint: Node | None = redactor.compiled.node(hint) if hint else None
        self.counts: dict[str, int] = {}
        self.changes: list[tuple[Any, ...]] = []  # (path, key) of each changed place, or (path, node, bits)
        self.hits: list[str] = []
        # Strings scanned as text: (container, key, scanned text, learned version then, path).
        self.pending: list[tuple[Any, Any, str, int, Any]] = []
        self.pend = False  # the last string scanned as text may hold values learned later

    # -- entry points ------------------------------------------------------------------------

    def top(self, value: Any) -> Any:
        """A JSON-RPC result, params or error: an envelope whose documents are typed."""
        t = type(value)
        if t is dict:
            new = self.untyped_dict(value, None, 0, False, top=True)
        elif t is list:
            new = self.untyped_list(value, None, 0, False)
        elif t is str:
            new = self.text(value, None, ROOT, 0)
            if self.pend:
                self.pend = False
                return self.settle_root_string(new)
        elif value is None or t is int or t is float or t is bool:
            return value
        else:
            raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
        self.settle(self.pending)
        return new

    def free_form(self, value: Any) -> Any:
        """Arbitrary JSON outside Stripe's objects and MCP's envelopes: all of it unknown fields."""
        new = self.unknown_value(value, None, ROOT, 0, False)
        if type(new) is str and self.pend:
            self.pend = False
            return self.settle_root_string(new)
        self.settle(self.pending)
        return new

    def settle_root_string(self, text: str) -> str:
        holder = [text]
        self.pending.append((holder, 0, text, self.learned.version, None))
        self.settle(self.pending)
        return holder[0]

    # -- outside Stripe objects ------------------------------------------------------------------

    def untyped_dict(self, d: dict[Any, Any], path: Any, depth: int, owned: bool, *, top: bool = False, root: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        own = d.get("object")
        if type(own) is str:
            typed = self.by_object(d, own, None, path, depth, owned)
            # A type the table does not know (a newer API version): all its fields are unknown.
            return self.unknown_dict(d, path, depth, owned) if typed is _UNTYPED else typed
        # Typed by the operation if it shares a key with its type; a Stripe error body ({"error": {...}}) is not.
        if root and self.hint is not None and not (len(d) == 1 and "error" in d) and not self.hint.known.isdisjoint(d):
            return self.typed(d, self.hint, path, depth, owned)
        out: dict[Any, Any] | None = None
        removed: list[Any] = []
        renamed = False
        anywhere = self.anywhere
        for k, v in d.items():
            if type(k) is not str:
                raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
            if len(k) >= _SHORTEST and k not in self.redactor.clean_keys and self.key_hit(k):
                renamed = True
            t = type(v)
            self.pend = False
            if t is str:
                cls = anywhere.get(k)
                nv = self.text(v, path, k, depth) if cls is None else self.apply(self.compiled.leaf(cls), v, path, k, depth)
            elif t is dict:
                if top and k == "structuredContent":
                    nv = self.document(v, (k, path), depth + 1, owned)
                elif anywhere.get(k) == "metadata":  # tool-call arguments: `metadata` is the merchant's map
                    nv = self.map(v, (LEAF, self.compiled.leaf("metadata")), (k, path), depth + 1, owned)
                else:
                    nv = self.untyped_dict(v, (k, path), depth + 1, owned)
            elif t is list:
                nv = self.untyped_list(v, (k, path), depth + 1, owned)
            elif v is None or t is int or t is float or t is bool:
                continue
            else:
                raise RedactionError(f"cannot redact a value of type {t.__name__} at key {k!r} (not JSON)")
            if nv is v and not self.pend:
                continue
            out = self.store(d, out, owned, k, nv, path, removed)
        return self.settle_dict(d, out, removed, renamed, path, owned)

    def untyped_list(self, items: list[Any], path: Any, depth: int, owned: bool, *, root: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        out: list[Any] | None = None
        for i, v in enumerate(items):
            t = type(v)
            self.pend = False
            if t is dict:
                nv = self.untyped_dict(v, (i, path), depth + 1, owned, root=root)
            elif t is str:
                nv = self.text(v, path, i, depth)
            elif t is list:
                nv = self.untyped_list(v, (i, path), depth + 1, owned)
            elif v is None or t is int or t is float or t is bool:
                continue
            else:
                raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
            if nv is v and not self.pend:
                continue
            if out is None:
                out = items if owned else list(items)
            out[i] = nv
            if self.pend:
                self.pend = False
                self.pending.append((out, i, nv, self.learned.version, path))
        return items if out is None else out

    def document(self, v: Any, path: Any, depth: int, owned: bool) -> Any:
        """The root of a Stripe answer (JSON text, structuredContent): typed by the operation when it has no `object`."""
        t = type(v)
        if t is dict:
            return self.untyped_dict(v, path, depth, owned, root=True)
        if t is list:
            return self.untyped_list(v, path, depth, owned, root=True)
        return self.untyped_value(v, path, ROOT, depth, owned)

    def untyped_value(self, v: Any, path: Any, key: Any, depth: int, owned: bool) -> Any:
        t = type(v)
        if t is str:
            return self.text(v, path, key, depth)
        if t is dict:
            return self.untyped_dict(v, path if key is ROOT else (key, path), depth + 1, owned)
        if t is list:
            return self.untyped_list(v, path if key is ROOT else (key, path), depth + 1, owned)
        if v is None or t is int or t is float or t is bool:
            return v
        raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")

    # -- Stripe objects ------------------------------------------------------------------------

    def by_object(self, d: dict[Any, Any], own: str, elements: Entry | None, path: Any, depth: int, owned: bool) -> Any:
        """Type a dict by its `object`; _UNTYPED if it names no type the table knows."""
        if own in PAGE_OBJECTS:
            return self.page(d, elements, path, depth, owned)
        node = self.compiled.node(own)
        if node is None:
            return _UNTYPED
        return self.typed(d, node, path, depth, owned)

    def typed(self, d: dict[Any, Any], node: Node, path: Any, depth: int, owned: bool) -> Any:
        """A Stripe object (or sub-object) of a known shape: only the keys in `node.visit` are looked at."""
        if owned:
            return (node.walk_owned or self.walker(node, True))(self, d, path, depth)
        return (node.walk_shared or self.walker(node, False))(self, d, path, depth)

    def walker(self, node: Node, owned: bool) -> Any:
        """The node's generated walk function (_codegen.py), built on first use and kept on the node."""
        node.walk_owned, node.walk_shared = node_walks(node, _HELPERS)
        return node.walk_owned if owned else node.walk_shared

    def store(self, d: dict[Any, Any], out: dict[Any, Any] | None, owned: bool, key: Any, new: Any, path: Any,
              removed: list[Any] | None = None) -> dict[Any, Any]:
        """Put a field's new value in the dict being built (copied on first write unless owned). A
        removed field is deleted, or noted in `removed` by a caller iterating over `d` itself
        (settle_dict deletes it after the loop)."""
        if out is None:
            out = d if owned else d.copy()
        if new is _REMOVED:
            if removed is None:
                del out[key]
            else:
                removed.append(key)
            return out
        out[key] = new
        if self.pend:
            self.pend = False
            self.pending.append((out, key, new, self.learned.version, path))
        return out

    def slot(self, v: Any, entry: Entry, path: Any, key: Any, depth: int, owned: bool) -> Any:
        """A value where the table expects `entry` (a field, a list element, a map value)."""
        tag = entry[0]
        t = type(v)
        if v is None:
            return v
        if tag == LEAF:
            return self.apply(entry[1], v, path, key, depth)
        if tag == REF:
            if t is dict:
                own = v.get("object")
                if type(own) is str:
                    typed = self.by_object(v, own, None, (key, path), depth, owned)
                    if typed is not _UNTYPED:
                        return typed
                node = self.compiled.node(entry[1]) if entry[1] else None
                if node is not None:
                    return self.typed(v, node, (key, path), depth, owned)
                return self.unknown_value(v, path, key, depth, owned)
            if t is str:
                return v if entry[2] is DECLARED_STRING or is_reference(v) else self.unknown_value(v, path, key, depth, owned)
            if t is list:
                return self.elements(v, entry, (key, path), depth, owned)
            return v
        if tag in (NODE, CHECK):
            if t is dict:
                return self.typed(v, entry[1], (key, path), depth, owned)
            if t is list:
                return self.elements(v, entry, (key, path), depth, owned)
            return self.unknown_value(v, path, key, depth, owned)
        if tag == LIST:
            if t is list:
                return self.elements(v, entry[1], (key, path), depth, owned)
            return self.slot(v, entry[1], path, key, depth, owned)
        if tag == MAP:
            if t is dict:
                return self.map(v, entry[1], (key, path), depth, owned)
            return self.unknown_value(v, path, key, depth, owned)
        if tag == PAGE:
            if t is dict:
                own = v.get("object")
                if own in PAGE_OBJECTS or own is None:
                    return self.page(v, entry[1], (key, path), depth, owned)
                typed = self.by_object(v, own, None, (key, path), depth, owned) if type(own) is str else _UNTYPED
                return self.unknown_value(v, path, key, depth, owned) if typed is _UNTYPED else typed
            if t is list and entry[1] is not None:
                return self.elements(v, entry[1], (key, path), depth, owned)
            return self.unknown_value(v, path, key, depth, owned)
        if tag == EXP:
            if t is str:
                return v if is_reference(v) else self.unknown_value(v, path, key, depth, owned)
            return self.slot(v, entry[1], path, key, depth, owned)
        if tag == ANY:
            if entry[1] is not None:
                return self.apply(entry[1], v, path, key, depth)
            return self.unknown_value(v, path, key, depth, owned)
        raise RedactionError(f"unknown field table entry {tag!r}")

    def like(self, v: Any, sibling: Any, path: Any, depth: int, owned: bool) -> Any:
        """An event's `previous_attributes`: the same type as `data.object`, partial."""
        own = sibling.get("object") if type(sibling) is dict else None
        node = self.compiled.node(own) if type(own) is str else None
        if node is not None and type(v) is dict:
            return self.typed(v, node, path, depth, owned)
        return self.unknown_value(v, path[1], path[0], depth - 1, owned)

    def page(self, d: dict[Any, Any], elements: Entry | None, path: Any, depth: int, owned: bool) -> Any:
        """A `list` or `search_result` object: `data` holds items of `elements` (or of the operation's type)."""
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        out: dict[Any, Any] | None = None
        if not d.keys() <= PAGE_KEYS:
            out = self.unknown_keys(d, self.compiled.page, path, depth, owned)
        data = d.get("data")
        if type(data) is list:
            if elements is None and self.hint is not None:
                elements = (REF, self.hint.type, None)
            if elements is None:  # items of no known type: as outside Stripe objects, unless they say `object`
                new = self.untyped_list(data, ("data", path), depth + 1, owned)
            else:
                new = self.elements(data, elements, ("data", path), depth + 1, owned)
            if new is not data:
                if out is None:
                    out = d if owned else d.copy()
                out["data"] = new
        elif data is not None:
            self.pend = False
            new = self.unknown_value(data, path, "data", depth, owned)
            if new is not data:
                if out is None:
                    out = d if owned else d.copy()
                out["data"] = new
        return d if out is None else out

    def elements(self, items: list[Any], entry: Entry, path: Any, depth: int, owned: bool) -> Any:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        out: list[Any] | None = None
        depth += 1
        tag = entry[0]
        node: Node | None = entry[1] if tag in (NODE, CHECK) else None
        nodes = self.compiled.known_nodes  # nodes compiled so far, by type: a miss goes the long way
        for i, v in enumerate(items):
            self.pend = False
            if node is not None and type(v) is dict:
                nv = self.typed(v, node, (i, path), depth, owned)
            elif tag == REF and type(v) is dict and (typed := nodes.get(v.get("object"))) is not None:
                nv = self.typed(v, typed, (i, path), depth, owned)  # a page of Stripe objects
            else:
                nv = self.slot(v, entry, path, i, depth, owned)
            if nv is v and not self.pend:
                continue
            if out is None:
                out = items if owned else list(items)
            if nv is _REMOVED:  # a list element cannot be dropped without moving the others
                nv = self.markers.replace(Action.MASK, entry[1].cls if tag == LEAF else FIELD_CLASS, v)
            out[i] = nv
            if self.pend:
                self.pend = False
                self.pending.append((out, i, nv, self.learned.version, path))
        return items if out is None else out

    def map(self, d: dict[Any, Any], entry: Entry, path: Any, depth: int, owned: bool) -> Any:
        """An object with arbitrary keys (metadata): every value is of `entry`; kept metadata keys are scanned."""
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        leaf: Leaf | None = entry[1] if entry[0] == LEAF else None
        keep = leaf.keep_keys if leaf is not None else frozenset()
        # The common case, masked metadata values, is done here without a call per value.
        marker = leaf.marker if leaf is not None and leaf.action is Action.MASK and not leaf.scan else None
        out: dict[Any, Any] | None = None
        removed: list[Any] = []
        renamed = False
        for k, v in d.items():
            if type(k) is not str:
                raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
            if len(k) >= _SHORTEST and k not in self.redactor.clean_keys and self.key_hit(k):
                renamed = True
            self.pend = False
            if type(v) is str and k not in keep and marker is not None and leaf is not None:
                if not v or (v[0] == "[" and _is_marker(v)):
                    continue
                if leaf.learn:
                    self.inboxes[leaf.cls].append(v)
                self.counts[leaf.cls] = self.counts.get(leaf.cls, 0) + 1
                self.changes.append((path, k))
                nv: Any = marker
            elif k in keep and type(v) is str:
                nv = self.text(v, path, k, depth)
            else:
                nv = self.slot(v, entry, path, k, depth + 1, owned)
            if nv is v and not self.pend:
                continue
            out = self.store(d, out, owned, k, nv, path, removed)
        return self.settle_dict(d, out, removed, renamed, path, owned)

    # -- unknown fields -------------------------------------------------------------------------

    def unknown_keys(self, d: dict[Any, Any], node: Node, path: Any, depth: int, owned: bool) -> dict[Any, Any] | None:
        """Apply the unknown-field rule to the keys of `d` that `node` does not know; the new dict or None."""
        out: dict[Any, Any] | None = None
        removed: list[Any] = []
        renamed = False
        overrides = self.compiled.has_field_actions
        clean = self.redactor.clean_keys
        for k in list(filterfalse(node.known.__contains__, d)):
            if type(k) is not str:
                raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
            if len(k) >= _SHORTEST and k not in clean and self.key_hit(k):
                renamed = True
            v = d[k]
            if v is None or v is True or v is False or type(v) is int or type(v) is float:
                continue  # numbers and booleans stay, whatever the field
            self.pend = False
            action = self.compiled.field_action(node.type, (*node.path, k)) if overrides else None
            if action is Action.KEEP:
                continue
            if action is not None:
                nv = self.apply(self.compiled.leaf_for(FIELD_CLASS, action), v, path, k, depth)
            elif type(v) is dict and (typed := self.compiled.known_nodes.get(v.get("object"))) is not None:
                nv = self.typed(v, typed, (k, path), depth + 1, owned)  # an old API's embedded object
            else:
                nv = self.named_unknown(k, v, path, depth)
                if nv is _NO_NAME_CLASS:
                    nv = self.unknown_value(v, path, k, depth, owned)
            if nv is v and not self.pend:
                continue
            out = self.store(d, out, owned, k, nv, path, removed)
        if out is None and not renamed:
            return None
        return self.settle_dict(d, out, removed, renamed, path, owned)

    def named_unknown(self, k: str, v: Any, path: Any, depth: int) -> Any:
        """A field the table does not know, classed by its name: the most sensitive class that name
        has anywhere in Stripe's model (a new `cardholder_name` is a name, a new `receipt_url` a
        bearer URL); for a name the model never had (an older API's `zip`, `bin`), the class the
        generator's rules on names alone give it. Applies to strings and lists of strings;
        _NO_NAME_CLASS when the name says nothing (or the value is a number, a boolean or an
        object), and the unknown-field rule decides.

        A name those rules call safe (`type`, `currency`, `unit_amount_excluding_tax`), or an
        object type's name (`coupon`), keeps what such a field holds: a lowercase code or a
        number written as a string, or an id. Anything else in it takes the unknown-field rule.
        """
        cls = self.by_name.get(k)
        t = type(v)
        if cls is None:
            compiled = self.compiled
            if t is str and compiled.refers_to_type(k) and is_reference(v):
                return v
            cls = compiled.class_by_rules(k)
            if cls is None:
                return _NO_NAME_CLASS
            if cls == "safe":
                if t is str and _is_code(v):
                    return v
                if t is list and v and all(type(item) is str and _is_code(item) for item in v):
                    return v
                return _NO_NAME_CLASS
        if t is str:
            return v if is_stripe_id(v) else self.apply(self.compiled.leaf(cls), v, path, k, depth)
        if t is list and v and all(type(item) is str for item in v) and not all(is_stripe_id(item) for item in v):
            return self.apply(self.compiled.leaf(cls), v, path, k, depth)
        return _NO_NAME_CLASS

    def unknown_value(self, v: Any, path: Any, key: Any, depth: int, owned: bool) -> Any:
        """A value in a field the table does not know: strings masked (live) or scanned (test); ids, numbers stay."""
        t = type(v)
        if t is str:
            if not v or is_stripe_id(v) or _is_marker(v):
                return v
            if self.unknown_mask:
                self.counts["unknown"] = self.counts.get("unknown", 0) + 1
                self.changes.append((path, key))
                return "[redacted:unknown]"
            return self.text(v, path, key, depth)
        if t is dict:
            own = v.get("object")
            where = path if key is ROOT else (key, path)
            if type(own) is str:
                typed = self.by_object(v, own, None, where, depth + 1, owned)
                if typed is not _UNTYPED:
                    return typed
            return self.unknown_dict(v, where, depth + 1, owned)
        if t is list:
            if depth > MAX_DEPTH:
                raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
            out: list[Any] | None = None
            where = path if key is ROOT else (key, path)
            for i, item in enumerate(v):
                self.pend = False
                new = self.unknown_value(item, where, i, depth + 1, owned)
                if new is item and not self.pend:
                    continue
                if out is None:
                    out = v if owned else list(v)
                out[i] = new
                if self.pend:
                    self.pend = False
                    self.pending.append((out, i, new, self.learned.version, where))
            return v if out is None else out
        if v is None or t is int or t is float or t is bool:
            return v
        raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")

    def unknown_dict(self, d: dict[Any, Any], path: Any, depth: int, owned: bool) -> Any:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        out: dict[Any, Any] | None = None
        removed: list[Any] = []  # a field whose name's class is removed (an unknown type's `client_secret`)
        renamed = False
        for k, v in d.items():
            if type(k) is not str:
                raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
            if len(k) >= _SHORTEST and k not in self.redactor.clean_keys and self.key_hit(k):
                renamed = True
            if k == "object" and type(v) is str:
                continue  # a type name, not data
            self.pend = False
            nv = self.named_unknown(k, v, path, depth)
            if nv is _NO_NAME_CLASS:
                nv = self.unknown_value(v, path, k, depth, owned)
            if nv is v and not self.pend:
                continue
            out = self.store(d, out, owned, k, nv, path, removed)
        return self.settle_dict(d, out, removed, renamed, path, owned)

    # -- values ---------------------------------------------------------------------------------

    def apply(self, leaf: Leaf, v: Any, path: Any, key: Any, depth: int) -> Any:
        """A field rule on one value: its class's action; kept free text is scanned instead."""
        t = type(v)
        if v is None or t is bool:
            return v
        if t is str:
            if not v or _is_marker(v):
                return v
            if leaf.scan:
                return self.text(v, path, key, depth)
            if leaf.learn and self.learning:
                self.learned.learn(v, leaf.cls)
        action = leaf.action
        if action is Action.KEEP:
            return v
        if action is Action.LAST4 and keeps_value(action, v):
            return v
        if action is Action.REMOVE:
            new: Any = _REMOVED
        elif t is dict or t is list:
            new = self.mask_container(v, action, leaf, depth)
            if new == v:
                return v  # only nulls, ids and booleans inside: nothing was hidden
        elif t is str or t is int or t is float:
            new = leaf.marker if action is Action.MASK else self.markers.replace(action, leaf.cls, v)
        else:
            raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
        self.counts[leaf.cls] = self.counts.get(leaf.cls, 0) + 1
        self.changes.append((path, key))
        return new

    def mask_container(self, v: Any, action: Action, leaf: Leaf, depth: int) -> Any:
        """A container under a sensitive field, masked leaf by leaf: keys, ids, `object`, nulls and booleans stay."""
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        t = type(v)
        if t is dict:
            out = {}
            for k, item in v.items():
                if type(k) is not str:
                    raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
                ti = type(item)
                if k == "object" or item is None or ti is bool:
                    out[k] = item
                else:
                    out[k] = self.mask_container(item, action, leaf, depth + 1)
            return out
        if t is list:
            return [self.mask_container(item, action, leaf, depth + 1) for item in v]
        if v is None or t is bool:
            return v
        if t is str:
            if is_stripe_id(v) or _is_marker(v) or not v or (action is Action.LAST4 and keeps_value(action, v)):
                return v
            if leaf.learn and self.learning:
                self.learned.learn(v, leaf.cls)
        elif t is not int and t is not float:
            raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
        return leaf.marker if action is Action.MASK else self.markers.replace(action if action is not Action.REMOVE else Action.MASK, leaf.cls, v)

    def text(self, s: str, path: Any, key: Any, depth: int) -> str:
        """Free text: JSON inside is redacted as a document; otherwise detectors and learned values."""
        self.pend = False
        first = s[:1]
        if first == "{" or first == "[" or (first in _WHITESPACE and s.lstrip()[:1] in ("{", "[")):
            embedded = self.embedded(s, path, key, depth)
            if embedded is not None:
                return embedded
        if "{" in s or "[" in s:
            mixed = self.mixed(s, path, key, depth)
            if mixed is not None:
                return mixed
        return self.scan(s, path, key)

    def scan(self, s: str, path: Any, key: Any) -> str:
        """Text that holds no JSON: the detectors and the values learned so far."""
        self.pend = False
        new = s
        hits = self.hits
        if len(s) >= _SHORTEST:
            new = self.detector.scan(s, self.replace, hits)
        if self.learning:
            new = self.learned.mask(new, self.replace, hits)
            self.pend = len(new) >= 5
        if hits:
            counts = self.counts
            for cls in hits:
                counts[cls] = counts.get(cls, 0) + 1
            hits.clear()
            self.changes.append((path, key))
        return new

    def embedded(self, s: str, path: Any, key: Any, depth: int) -> str | None:
        """Redact a string holding JSON as a document of its own; None if it is not JSON after all."""
        try:
            parsed, fast = _json.parse(s)
        except RecursionError as exc:
            raise RedactionError("embedded JSON nests too deeply to redact") from exc
        except ValueError:
            return None
        return self.document_text(parsed, s, fast, path, key, depth)

    def mixed(self, s: str, path: Any, key: Any, depth: int) -> str | None:
        """A text holding JSON documents among other text (prose around them, a code fence, a BOM,
        one per line): each document redacted as a document, the rest scanned; None if it holds none."""
        fast: dict[int, bool] = {}

        def decode(text: str, start: int) -> tuple[Any, int]:
            value, end, fast[start] = _json.parse_at(text, start)
            return value, end

        try:
            documents = json_documents(s, decode)
        except RecursionError as exc:
            raise RedactionError("JSON inside a text nests too deeply to redact") from exc
        except TooManyFragments as exc:
            raise RedactionError(str(exc)) from exc
        if not documents:
            return None
        parts: list[str] = []
        pend = False
        last = 0
        for start, end, value in documents:
            if start > last:
                parts.append(self.scan(s[last:start], path, key))
                pend = pend or self.pend
            parts.append(self.document_text(value, s[start:end], fast[start], path, key, depth, keep_spacing=True))
            last = end
        if last < len(s):
            parts.append(self.scan(s[last:], path, key))
            pend = pend or self.pend
        self.pend = pend
        new = "".join(parts)
        return s if new == s else new

    def document_text(self, parsed: Any, original: str, fast: bool, path: Any, key: Any, depth: int, *, keep_spacing: bool = False) -> str:
        """A JSON document parsed out of a text, redacted: `original` itself when nothing changed.
        With `keep_spacing` (a document among prose), one written `{"a": 1}` is written back so."""
        outer = self.pending
        self.pending = []
        before = len(self.changes)
        new = self.document(parsed, (Embedded(path, key), None), depth + 1, True)
        self.settle(self.pending)
        self.pending = outer
        self.pend = False
        if len(self.changes) == before:
            return original
        spaced = keep_spacing and '": ' in original
        return _json.serialize(new, pretty="\n" in original, fast=fast, spaced=spaced)

    def settle(self, pending: list[tuple[Any, Any, str, int, Any]]) -> None:
        """Phase two: rescan text scanned before the walk learned more values."""
        if not pending:
            return
        learned = self.learned
        learned.flush()
        version = learned.version
        hits = self.hits
        for container, key, scanned, seen, path in pending:
            if seen == version:
                continue
            new = learned.mask(scanned, self.replace, hits)
            if new is scanned:
                continue
            container[key] = new
            for cls in hits:
                self.counts[cls] = self.counts.get(cls, 0) + 1
            hits.clear()
            self.changes.append((path, key))
        pending.clear()

    def replace(self, cls: str, found: str) -> str:
        """The replacement of a detector or learned-value hit inside text (`remove` masks: a key stays)."""
        action = self.redactor.actions.get(cls, Action.MASK)
        if action is Action.REMOVE or action is Action.KEEP:
            action = Action.MASK
        return self.markers.replace(action, cls, found)

    def key_hit(self, k: str) -> bool:
        """Detectors on a dict key (an email used as a metadata key...): True if the key must be renamed."""
        clean = self.redactor.clean_keys
        if k in clean:
            return False
        if self.detector.scan(k, self.replace, []) is not k:
            return True
        if len(clean) >= _CLEAN_KEYS_LIMIT:
            clean.clear()
        clean.add(k)
        return False

    def settle_dict(self, d: dict[Any, Any], out: dict[Any, Any] | None, removed: list[Any], renamed: bool, path: Any, owned: bool) -> dict[Any, Any]:
        """The end of a dict's walk: `d` itself when nothing changed, else `out` (the changed dict)
        without the removed keys and with keys holding detector hits renamed."""
        if out is None and not renamed:
            return d
        result = out if out is not None else d
        for k in removed:
            del result[k]
        return self.rename_keys(result, path, out is not None or owned) if renamed else result

    def rename_keys(self, d: dict[Any, Any], path: Any, in_place: bool) -> dict[Any, Any]:
        """`d` with keys holding detector hits renamed (order kept; `#` added on a clash)."""
        out: dict[Any, Any] = {}
        hits = self.hits
        for k, v in d.items():
            new = self.detector.scan(k, self.replace, hits) if len(k) >= _SHORTEST else k
            if new is not k:
                for cls in hits:
                    self.counts[cls] = self.counts.get(cls, 0) + 1
                hits.clear()
                while new in d or new in out:
                    new += "#"
                self.changes.append((path, new))
            out[new] = v
        if in_place:
            d.clear()
            d.update(out)
            return d
        return out


_UNTYPED: Any = object()


# What the generated walk functions may call besides the Walk itself.
_HELPERS = {"MAX_DEPTH": MAX_DEPTH, "SECRET_PREFIXES": _SECRET_PREFIXES}
