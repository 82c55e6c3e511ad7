"""Build the field table: every object type's fields, nested as in the API, each with its type and class.

Encoding (documented for the runtime reader in mcp_guard/redaction/_table.py):

    leaf        "<type>" or "<type>:<class>"; type s=string e=enum i=int f=float d=decimal b=bool a=any JSON;
                no class means `safe`
    "@charge"   an embedded object of that type; "x@charge" an id, or the object when expanded;
                "@" any object, typed by its own `object` field
    "~object"   typed like the sibling key `object` (an event's `data.previous_attributes`)
    {...}       a sub-object: field -> entry
    ["[]", e]   a list of e;  ["{}", e] a map with arbitrary keys;  ["L", e] a list page of e;
    ["x", e]    an id or, expanded, e;  ["|", e1, e2, ...] one of several object types
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from tools.stripe_fields._read import Expandable, ListOf, MapOf, Model, ModelError, Nested, OneOf, Page, Prim, Resource, Type
from tools.stripe_fields._rules import RULES, Site, name_rules, object_refs

_KIND_CODES = {"str": "s", "enum": "e", "int": "i", "float": "f", "decimal": "d", "bool": "b", "any": "a"}
# Where the SDK types a field as "any object" but the API says which: (object, path) -> entry.
_STRUCTURAL: dict[tuple[str, tuple[str, ...]], str] = {
    ("event", ("data", "object")): "@",
    ("event", ("data", "previous_attributes")): "~object",
}


@dataclass(frozen=True)
class Override:
    pattern: str  # fnmatch over "object:path", e.g. "*:payment_method_details.*.reference"
    cls: str
    why: str


@dataclass
class Report:
    unclassified: list[Site] = field(default_factory=list)
    unused_overrides: list[Override] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # class -> string fields
    by_rule: dict[str, int] = field(default_factory=dict)  # rule or override -> fields


def build_table(model: Model, overrides: list[Override], operations: dict[str, str], stripe_version: str) -> tuple[dict[str, Any], Report]:
    builder = _Builder(model, overrides)
    objects = {name: builder.object(name) for name in sorted(model.objects)}
    report = builder.report
    used = builder.used
    report.unused_overrides = [o for o in overrides if o.pattern not in used]
    table = {
        "format": 1,
        "stripe": stripe_version,
        "operations": operations,
        "anywhere": anywhere(objects),
        "by_name": by_name(objects),
        "usual_by_name": usual_by_name(objects),
        "name_rules": name_rules(),
        "objects": objects,
    }
    return table, report


# Most sensitive first: a field name with several classes in the model gets the first it has.
SEVERITY = (
    "secret", "card", "bank_account", "tax_id", "dob", "personal", "email", "phone", "name", "address",
    "ip_address", "user_agent", "device", "url", "business_contact", "free_text", "metadata",
)


def by_name(objects: dict[str, Any]) -> dict[str, str]:
    """The most sensitive class each field name has anywhere in Stripe's model (names only ever safe: absent).

    The runtime applies it to fields the table does not know (a newer API version, a private
    preview) inside Stripe objects: a new `cardholder_name` or `email` is what that name is
    elsewhere, before the profile's `unknown_fields` rule applies to whatever is left.
    """
    seen = _classes_by_name(objects)
    out: dict[str, str] = {}
    for name, classes in sorted(seen.items()):
        sensitive = [cls for cls in SEVERITY if cls in classes]
        if sensitive and name not in _GENERIC_NAMES:
            out[name] = sensitive[0]
    return out


def usual_by_name(objects: dict[str, Any]) -> dict[str, str]:
    """The class each string field name has most often in Stripe's model, when that is not `safe`
    (ties: the most sensitive). The runtime reads tool-call arguments by it: a `name` is a person's
    in most objects, a `country` a country code in all but an IP address's location.
    """
    out: dict[str, str] = {}
    for name, counts in sorted(_class_counts_by_name(objects, "s").items()):
        top = max(counts.values())
        sensitive = next((cls for cls in SEVERITY if counts.get(cls) == top), None)
        if sensitive is not None and name not in _GENERIC_NAMES:
            out[name] = sensitive
    return out


def _classes_by_name(objects: dict[str, Any]) -> dict[str, set[str]]:
    return {name: set(counts) for name, counts in _class_counts_by_name(objects, "sifdeab").items()}


def _class_counts_by_name(objects: dict[str, Any], kinds: str) -> dict[str, dict[str, int]]:
    """Per field name, how many of its occurrences (leaves of these type codes) have each class."""
    seen: dict[str, dict[str, int]] = {}

    def visit(name: str, entry: Any) -> None:
        if isinstance(entry, str):
            if entry[:1] in kinds and not entry.startswith(("@", "x@", "~")):
                cls = entry.split(":", 1)[1] if ":" in entry else "safe"
                counts = seen.setdefault(name, {})
                counts[cls] = counts.get(cls, 0) + 1
        elif isinstance(entry, dict):
            for child, sub in entry.items():
                visit(child, sub)
        elif isinstance(entry, list) and entry and entry[0] in ("[]", "x", "{}"):
            visit(name, entry[1])

    for fields in objects.values():
        for name, entry in fields.items():
            visit(name, entry)
    return seen


def anywhere(objects: dict[str, Any]) -> dict[str, str]:
    """Field names whose string values have one and the same sensitive class wherever Stripe uses them.

    The runtime applies these to strings outside Stripe objects (an MCP envelope, a result without
    `object`): `email` is an email wherever it occurs, while `name` is a person in a customer but
    not in a product.
    """
    seen: dict[str, set[str]] = {}

    def visit(name: str, entry: Any) -> None:
        if isinstance(entry, str):
            if entry[:1] == "s":
                seen.setdefault(name, set()).add(entry.split(":", 1)[1] if ":" in entry else "safe")
        elif isinstance(entry, dict):
            for child, sub in entry.items():
                visit(child, sub)
        elif isinstance(entry, list) and entry[0] in ("[]", "x"):
            visit(name, entry[1])

    for fields in objects.values():
        for name, entry in fields.items():
            visit(name, entry)
    return {name: next(iter(classes)) for name, classes in sorted(seen.items())
            if len(classes) == 1 and not classes & _NOT_ANYWHERE and name not in _GENERIC_NAMES}


# Free text is only free text inside Stripe objects: an MCP tool's `description` or a log's `message`
# is not a customer's. Generic words name other things in MCP messages (`data`, `version`, `device`).
_NOT_ANYWHERE = {"safe", "free_text", "metadata"}
_GENERIC_NAMES = {"data", "version", "device", "platform", "browser", "package", "sign", "payload", "suffix", "custom", "entity"}


class _Builder:
    def __init__(self, model: Model, overrides: list[Override]) -> None:
        self.model = model
        self.overrides = overrides
        self.report = Report()
        self.used: set[str] = set()
        self.refs = object_refs(list(model.objects))

    def object(self, name: str) -> dict[str, Any]:
        info = self.model.resource(name)
        return self.fields(name, (), info.key, (info.key,))

    def fields(self, obj: str, path: tuple[str, ...], key: str, stack: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in sorted(self.model.classes[key].fields, key=lambda f: f.name):
            out[f.name] = self.entry(obj, (*path, f.name), f.type, f.doc, stack)
        return out

    def entry(self, obj: str, path: tuple[str, ...], t: Type, doc: str, stack: tuple[str, ...]) -> Any:
        structural = _STRUCTURAL.get((obj, path))
        if structural is not None:
            return structural
        if isinstance(t, Prim):
            return self.leaf(Site(obj, path, t.kind, doc))
        if isinstance(t, Resource):
            return "@" + t.object_name
        if isinstance(t, Expandable):
            inner = self.entry(obj, path, t.inner, doc, stack)
            return "x" + inner if isinstance(inner, str) and inner.startswith("@") else ["x", inner]
        if isinstance(t, ListOf):
            return ["[]", self.entry(obj, path, t.inner, doc, stack)]
        if isinstance(t, MapOf):
            return ["{}", self.entry(obj, path, t.inner, doc, stack)]
        if isinstance(t, Page):
            return ["L", self.entry(obj, path, t.inner, doc, stack)]
        if isinstance(t, OneOf):
            return ["|", *(self.entry(obj, path, option, doc, stack) for option in t.options)]
        if isinstance(t, Nested):
            if t.key in stack:
                raise ModelError(f"{obj}.{'.'.join(path)}: {t.key} contains itself")
            return self.fields(obj, path, t.key, (*stack, t.key))
        raise ModelError(f"{obj}.{'.'.join(path)}: unknown type {t!r}")

    def leaf(self, site: Site) -> str:
        code = _KIND_CODES[site.kind]
        cls = self.classify(site)
        if cls is None:
            if site.kind == "str":
                self.report.unclassified.append(site)
            return code
        if site.kind == "str":
            self.report.counts[cls] = self.report.counts.get(cls, 0) + 1
        return code if cls == "safe" else f"{code}:{cls}"

    def classify(self, site: Site) -> str | None:
        where = f"{site.object}:{'.'.join(site.path)}"
        for override in self.overrides:
            if fnmatch.fnmatchcase(where, override.pattern):
                self.used.add(override.pattern)
                self._count(f"override {override.pattern}")
                return override.cls
        if site.kind == "any":
            return None  # arbitrary JSON: the runtime treats it as an unknown field
        for rule in RULES:
            if rule.matches(site, self.refs):
                self._count(f"{rule.cls}: {rule.why}")
                return rule.cls
        return None

    def _count(self, what: str) -> None:
        self.report.by_rule[what] = self.report.by_rule.get(what, 0) + 1
