"""The redactor: one walk over a JSON value applying field rules, then detectors on strings.

Copy on write: a dict or list is copied only when something under it changes, so unchanged
subtrees are shared with the input and the input is never mutated. Strings that hold JSON are
parsed, redacted as JSON and serialized again. Anything that is not plain JSON, or nests deeper
than MAX_DEPTH, raises RedactionError: the caller must not pass the message on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_guard.errors import RedactionError
from mcp_guard.redaction import _json
from mcp_guard.redaction._detect import Detector
from mcp_guard.redaction._markers import Markers, keeps_value
from mcp_guard.redaction._rules import CompiledRule, RuleTable, compile_rules
from mcp_guard.redaction.settings import Action, RedactionSettings

if TYPE_CHECKING:
    from mcp_guard.config import Mode

MAX_DEPTH = 100  # JSON-RPC payloads from Stripe nest a dozen levels; 100 is an attack or a bug
_KEY_CACHE_LIMIT = 20_000
_VALIDATOR_CACHE_LIMIT = 256
_WHITESPACE = " \t\r\n"
# Stripe object ids keep their place inside a masked container (a person's `id`, a file id).
_STRIPE_ID = re.compile(r"[a-z]{1,16}(?:_[a-z]+)?_[A-Za-z0-9]{8,64}")
_SECRET_PREFIXES = ("sk_", "rk_", "ek_", "whsec_")
# Our own markers: redacting a redacted message again changes and counts nothing.
_MARKER = re.compile(r"\[(?:redacted:[a-z][a-z0-9_]*(?::\.\.\.[A-Za-z0-9]{4})?|pseudonym:[a-z][a-z0-9_]*:[0-9a-f]{12})\]")
_SCALARS = (int, float, bool, type(None))
_ROOT = object()  # "no key": the location is the path itself
_SHORTEST = 6  # no detector matches fewer characters ("a@b.co"); no JSON with a field is shorter


class Redacted:
    """A redacted JSON value, the redactions by class, and the JSON pointers that changed.

    A pointer into a string that held JSON reads `<pointer to the string>#<pointer inside it>`.
    Pointers are built on first use: a large result has tens of thousands of changed places, and
    most callers only need the value and the counts.
    """

    __slots__ = ("value", "counts", "_pointers", "_changes")

    def __init__(self, value: Any, counts: dict[str, int], pointers: tuple[str, ...] = (), *, changes: list[tuple[Any, Any]] | None = None) -> None:
        self.value = value
        self.counts = counts
        self._pointers: tuple[str, ...] | None = None if changes is not None else tuple(pointers)
        self._changes = changes

    @property
    def pointers(self) -> tuple[str, ...]:
        if self._pointers is None:
            self._pointers = _pointers(self._changes or [])
            self._changes = None
        return self._pointers

    @property
    def changed(self) -> bool:
        return bool(self._changes) if self._pointers is None else bool(self._pointers)

    def __repr__(self) -> str:
        return f"Redacted(counts={self.counts!r}, pointers={len(self.pointers)})"


@dataclass(frozen=True, slots=True)
class _Embedded:
    """Path segment standing for "inside the JSON held by the string at (path, key)"."""

    path: tuple | None
    key: Any


class Redactor:
    """Compiled rules and detectors for one profile; `redact` is pure and thread-safe."""

    def __init__(self, table: RuleTable, detector: Detector, markers: Markers, actions: dict[str, Action]) -> None:
        self._table = table
        self._detector = detector
        self._markers = markers
        self._detector_actions = dict(actions)  # per class, for detector hits
        # Dict keys already scanned and found clean -> their rules (often none). Shared by calls.
        self._known_keys: dict[str, tuple[CompiledRule, ...]] = {}
        self._validators: dict[str, Any] = {}  # outputSchema (as JSON) -> validator

    def __repr__(self) -> str:
        return f"Redactor(rules={sum(map(len, self._table.values()))}, pseudonym_key=<hidden>)"

    def redact(self, value: Any) -> Redacted:
        """Redact any JSON value (a JSON-RPC result, params or error dict); raises RedactionError."""
        walk = _Walk(self)
        try:
            return walk.result(walk.value(value, None, None, _ROOT, 0))
        except RedactionError:
            raise
        except RecursionError as exc:
            raise RedactionError("message nests too deeply to redact") from exc
        except Exception as exc:  # fail closed: a bug here must not let a raw message through
            raise RedactionError(f"redactor failed ({type(exc).__name__})") from exc

    def redact_text(self, text: str) -> Redacted:
        """Detectors only, for free text such as the upstream's stderr lines."""
        if not isinstance(text, str):
            raise RedactionError(f"redact_text needs a str, not {type(text).__name__}")
        walk = _Walk(self)
        new = walk.scan(text, None, _ROOT)
        return walk.result(new)

    def check_output_schema(self, structured: Any, schema: dict[str, Any]) -> str | None:
        """None if `structured` fits the tool's outputSchema, else a short reason (no values)."""
        import jsonschema  # comes with mcp; imported here to keep `import mcp_guard` light

        try:
            validator = self._validator(schema)
            error = jsonschema.exceptions.best_match(validator.iter_errors(structured))
        except jsonschema.exceptions.SchemaError:
            return "the tool's outputSchema is not a valid JSON Schema"
        except Exception as exc:  # an unresolvable $ref...: cannot vouch for the result
            return f"the tool's outputSchema could not be checked ({type(exc).__name__})"
        if error is None:
            return None
        where = error.json_path if error.path else "$"
        return f"redacted structuredContent no longer matches the tool's outputSchema at {where} ({error.validator})"

    def _validator(self, schema: dict[str, Any]) -> Any:
        """A checked validator per distinct schema (tools keep theirs across calls)."""
        import jsonschema

        cache_key = _json.serialize(schema, pretty=False, fast=True)
        validator = self._validators.get(cache_key)
        if validator is None:
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)
            validator = validator_cls(schema)
            if len(self._validators) >= _VALIDATOR_CACHE_LIMIT:
                self._validators.clear()
            self._validators[cache_key] = validator
        return validator


class _Walk:
    """State of one redact() call: counts, changed locations, a cache of scanned strings."""

    __slots__ = ("table", "detector", "markers", "detector_actions", "known_keys", "counts", "changes", "clean",
                 "hits", "removed", "masked")

    def __init__(self, redactor: Redactor) -> None:
        self.table = redactor._table
        self.detector = redactor._detector
        self.markers = redactor._markers
        self.detector_actions = redactor._detector_actions
        self.known_keys = redactor._known_keys
        self.counts: dict[str, int] = {}
        self.changes: list[tuple[Any, Any]] = []  # (path, key) of each changed place
        self.clean: set[str] = set()  # strings of this message the detectors left alone
        self.hits: list[str] = []
        self.removed = False  # outcome of the last apply_rules()
        self.masked: Any = None

    def result(self, new: Any) -> Redacted:
        return Redacted(new, self.counts, changes=self.changes)

    # -- the walk -------------------------------------------------------------------------

    def value(self, v: Any, obj: str | None, path: Any, key: Any, depth: int) -> Any:
        """Redact `v`, found at `key` under `path`; `obj` is the nearest Stripe object type."""
        t = type(v)
        if t is dict:
            return self.dict(v, obj, path if key is _ROOT else (key, path), depth)
        if t is list:
            return self.list(v, obj, path if key is _ROOT else (key, path), depth)
        if t is str:
            return self.string(v, path, key, depth)
        if t in _SCALARS:
            return v
        raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")

    def dict(self, d: dict, obj: str | None, path: Any, depth: int) -> dict:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        own = d.get("object")
        if type(own) is str:
            obj = own
        known = self.known_keys
        clean = self.clean
        shortest = _SHORTEST
        out = None
        depth += 1
        # The hot loop: most keys are known and rule-free, most values ids, enums, numbers.
        for k, v in d.items():
            rules = known.get(k)
            if rules is None:
                new_key = self.key(k, path)
                if new_key is not k:
                    out, k = _renamed(out if out is not None else d, k, new_key)
                rules = self.table.get(k, ())
            if rules and v is not None and self.apply_rules(rules, k, v, obj, path, depth):
                if out is None:
                    out = d.copy()
                if self.removed:
                    del out[k]
                else:
                    out[k] = self.masked
                continue
            t = type(v)
            if t is str:
                if len(v) < shortest or v in clean:
                    continue
                nv = self.string(v, path, k, depth)
            elif v is None or t is int or t is bool:
                continue
            elif t is dict:
                nv = self.dict(v, obj, (k, path), depth)
            elif t is list:
                nv = self.list(v, obj, (k, path), depth)
            elif t is float:
                continue
            else:
                raise RedactionError(f"cannot redact a value of type {t.__name__} at key {k!r} (not JSON)")
            if nv is not v:
                if out is None:
                    out = d.copy()
                out[k] = nv
        return d if out is None else out

    def apply_rules(self, rules: tuple[CompiledRule, ...], k: str, v: Any, obj: str | None,
                    path: Any, depth: int) -> bool:
        """Fire the first matching rule on value `v` of key `k`; True if it changed (see removed/masked)."""
        t = type(v)
        scalar = t is not dict and t is not list
        for rule in rules:
            if (obj is not None and rule.simple) or rule.matches(obj, path, scalar):
                if t is bool or (not v and (t is str or not scalar)) or (t is str and v[:1] == "[" and _MARKER.fullmatch(v)):
                    return False  # nothing to hide, or already redacted
                action = rule.action
                if action is Action.REMOVE:
                    self.removed = True
                elif action is Action.MASK and scalar:
                    self.removed = False
                    self.masked = rule.marker
                elif action is Action.LAST4 and scalar and keeps_value(action, v):
                    return False
                else:
                    self.removed = False
                    self.masked = self.mask(v, action, rule.category, depth)
                    if self.masked == v:
                        return False  # only nulls, ids, booleans inside: nothing was hidden
                counts = self.counts
                counts[rule.category] = counts.get(rule.category, 0) + 1
                self.changes.append((path, k))
                return True
        return False

    def list(self, items: list, obj: str | None, path: Any, depth: int) -> list:
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        clean = self.clean
        out = None
        depth += 1
        for i, v in enumerate(items):
            t = type(v)
            if t is dict:
                nv = self.dict(v, obj, (i, path), depth)
            elif t is str:
                if len(v) < _SHORTEST or v in clean:
                    continue
                nv = self.string(v, path, i, depth)
            elif t is list:
                nv = self.list(v, obj, (i, path), depth)
            elif v is None or t is int or t is bool or t is float:
                continue
            else:
                raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
            if nv is not v:
                if out is None:
                    out = list(items)
                out[i] = nv
        return items if out is None else out

    def string(self, s: str, path: Any, key: Any, depth: int) -> str:
        first = s[:1]
        if first == "{" or first == "[" or (first in _WHITESPACE and s.lstrip()[:1] in ("{", "[")):
            embedded = self.embedded_json(s, path, key, depth)
            if embedded is not None:
                return embedded
        new = self.scan(s, path, key)
        if new is s:
            self.clean.add(s)
        return new

    def embedded_json(self, s: str, path: Any, key: Any, depth: int) -> str | None:
        """Redact a string holding JSON; None if it is not JSON after all."""
        try:
            parsed, fast = _json.parse(s)
        except RecursionError as exc:
            raise RedactionError("embedded JSON nests too deeply to redact") from exc
        except ValueError:
            return None
        new = self.value(parsed, None, (_Embedded(path, key), None), _ROOT, depth + 1)
        if new is parsed:
            return s
        return _json.serialize(new, pretty="\n" in s, fast=fast)

    def scan(self, s: str, path: Any, key: Any) -> str:
        hits = self.hits
        new = self.detector.scan(s, self.detector_marker, hits)
        if new is not s:
            for category in hits:
                self.counts[category] = self.counts.get(category, 0) + 1
            hits.clear()
            self.changes.append((path, key))
        return new

    def detector_marker(self, category: str, found: str) -> str:
        return self.markers.replace(self.detector_actions.get(category, Action.MASK), category, found)

    def key(self, k: Any, path: Any, record: bool = True) -> str:
        """Detectors on a dict key (an email used as a metadata key...); clean keys are cached."""
        if type(k) is not str:
            raise RedactionError(f"cannot redact a dict key of type {type(k).__name__} (not JSON)")
        hits = self.hits
        new = self.detector.scan(k, self.detector_marker, hits)
        if new is k:
            if len(self.known_keys) >= _KEY_CACHE_LIMIT:
                self.known_keys.clear()
            self.known_keys[k] = self.table.get(k, ())
            return k
        for category in hits:
            self.counts[category] = self.counts.get(category, 0) + 1
        hits.clear()
        if record:
            self.changes.append((path, new))
        return new

    def mask(self, v: Any, action: Action, category: str, depth: int) -> Any:
        """Apply a rule's action to a whole value; containers keep their shape, ids and `object`."""
        if depth > MAX_DEPTH:
            raise RedactionError(f"message nests deeper than {MAX_DEPTH} levels")
        t = type(v)
        if t is dict:
            known = self.known_keys
            plain = f"[redacted:{category}]" if action is Action.MASK else None
            out = {}
            for k, item in v.items():
                new_key = k if k in known else self.key(k, None, record=False)
                ti = type(item)
                if k == "object" or item is None or ti is bool:
                    out[new_key] = item
                elif plain is not None and ti is str and not _kept_in_container(item):
                    out[new_key] = plain  # the common case (an address line) without a call
                else:
                    out[new_key] = self.mask(item, action, category, depth + 1)
            return out
        if t is list:
            return [self.mask(item, action, category, depth + 1) for item in v]
        if v is None or t is bool:
            return v
        if t is str:
            if _kept_in_container(v) or (action is Action.LAST4 and keeps_value(action, v)):
                return v
        elif t is not int and t is not float:
            raise RedactionError(f"cannot redact a value of type {t.__name__} (not JSON)")
        return self.markers.replace(action, category, v)


def _kept_in_container(s: str) -> bool:
    """Ids and our own markers stay when a container is masked leaf by leaf."""
    return _is_stripe_id(s) or (s[:1] == "[" and _MARKER.fullmatch(s) is not None)


def _is_stripe_id(s: str) -> bool:
    return "_" in s and " " not in s and _STRIPE_ID.fullmatch(s) is not None and "_secret_" not in s and not s.startswith(_SECRET_PREFIXES)


def _renamed(d: dict, old: str, new: str) -> tuple[dict, str]:
    """A copy of `d` with key `old` renamed in place (order kept), and the new key (`#` added on a clash)."""
    while new in d:
        new = new + "#"
    return {(new if k == old else k): v for k, v in d.items()}, new


def _pointers(changes: list[tuple[Any, Any]]) -> tuple[str, ...]:
    """JSON pointers of the changed places; a path's prefix is built once for all its children."""
    memo: dict[int, str] = {}  # id of a path cell (alive in `changes`) -> its pointer

    def of_path(path: Any) -> str:
        if path is None:
            return ""
        built = memo.get(id(path))
        if built is None:
            segment, parent = path
            if type(segment) is _Embedded:
                built = of_place(segment.path, segment.key) + "#"
            else:
                built = of_path(parent) + "/" + _escape(segment)
            memo[id(path)] = built
        return built

    def of_place(path: Any, key: Any) -> str:
        return of_path(path) if key is _ROOT else of_path(path) + "/" + _escape(key)

    return tuple(of_place(path, key) for path, key in changes)


def _escape(segment: Any) -> str:
    text = str(segment)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def build_redactor(settings: RedactionSettings, mode: Mode | str, pseudonym_key: bytes) -> Redactor:
    """Compile a profile's rules once; `mode` picks the base rule set when `settings.base` is `mode`."""
    if not isinstance(settings, RedactionSettings):  # `redaction: off` is the relay's to skip
        raise RedactionError(f"redaction settings expected, got {settings!r}")
    mode_name = str(getattr(mode, "value", mode))
    if mode_name not in ("test", "live"):
        raise RedactionError(f"unknown mode {mode_name!r} for redaction rules")
    try:
        markers = Markers(pseudonym_key)
    except ValueError as exc:
        raise RedactionError(str(exc)) from exc
    return Redactor(compile_rules(settings, mode_name), Detector(settings.detectors), markers, settings.actions)
