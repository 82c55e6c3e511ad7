"""Read Stripe's object model out of the `stripe` package's sources with `ast` (nothing is imported).

Every resource module (`stripe/_charge.py`, `stripe/issuing/_card.py`, ...) holds one class with an
`OBJECT_NAME`, nested `StripeObject` classes for its sub-objects, and annotated attributes each
followed by a docstring. This module turns them into `Model`: object types -> fields -> types.
Request parameter modules (`stripe/params/`) and services describe requests, not objects: skipped.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

# -- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prim:
    """A scalar: `str`, `int`, `float`, `bool`, `any`, or `enum` (a Literal, open or closed)."""

    kind: str


@dataclass(frozen=True)
class Nested:
    """A sub-object class (not a resource), by its key in `Model.classes`."""

    key: str


@dataclass(frozen=True)
class Resource:
    """An embedded resource object of type `object_name` (it carries its own `object`)."""

    object_name: str


@dataclass(frozen=True)
class Expandable:
    """An id string, or the expanded object when the request asked for it."""

    inner: Type


@dataclass(frozen=True)
class ListOf:
    inner: Type


@dataclass(frozen=True)
class MapOf:
    """A JSON object with arbitrary keys (`metadata`, `Dict[str, X]`)."""

    inner: Type


@dataclass(frozen=True)
class Page:
    """A `list` or `search_result` object whose `data` holds `inner`."""

    inner: Type


@dataclass(frozen=True)
class OneOf:
    options: tuple[Type, ...]


Type = Prim | Nested | Resource | Expandable | ListOf | MapOf | Page | OneOf


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    doc: str


@dataclass
class ClassInfo:
    key: str  # "stripe._charge.Charge.BillingDetails"
    object_name: str | None  # set on resources only
    fields: list[Field] = field(default_factory=list)


@dataclass
class Model:
    classes: dict[str, ClassInfo]
    objects: dict[str, str]  # object name -> class key of its resource

    def resource(self, object_name: str) -> ClassInfo:
        return self.classes[self.objects[object_name]]


class ModelError(Exception):
    """The sources hold a construct this reader does not understand: fix the reader, do not guess."""


# -- reading -------------------------------------------------------------------------------------

_SKIPPED_DIRS = {"params", "__pycache__", "_vendor"}
_SCALARS = {"str": "str", "int": "int", "float": "float", "bool": "bool", "Any": "any", "object": "any", "Decimal": "decimal"}
_WRAPPERS_TRANSPARENT = {"Optional", "ClassVar"}
_PAGES = {"ListObject", "SearchResultObject", "AnyIterator"}


def read_model(package_dir: Path) -> Model:
    modules: dict[str, ast.Module] = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if _SKIPPED_DIRS & set(relative.parts) or relative.name.endswith("_service.py"):
            continue
        module = "stripe." + ".".join(relative.with_suffix("").parts)
        modules[module] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return _Reader(modules).read()


class _Reader:
    def __init__(self, modules: dict[str, ast.Module]) -> None:
        self.modules = modules
        self.classes: dict[str, ClassInfo] = {}
        self.objects: dict[str, str] = {}
        # Class definitions by key, and the names each module can see (imports, top-level classes).
        self.defs: dict[str, ast.ClassDef] = {}
        self.scopes: dict[str, dict[str, str]] = {}

    def read(self) -> Model:
        for module, tree in self.modules.items():
            self.scopes[module] = self._module_names(module, tree)
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    self._index(f"{module}.{node.name}", node)
        for module, tree in self.modules.items():
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    name = _object_name(node)
                    if name is not None and _is_model_class(node):
                        key = f"{module}.{node.name}"
                        if name in self.objects and self.objects[name] != key:
                            raise ModelError(f"object {name!r} is defined twice: {self.objects[name]} and {key}")
                        self.objects[name] = key
        for key in sorted(self.objects.values()):
            self._class(key)
        return Model(self.classes, dict(sorted(self.objects.items())))

    def _module_names(self, module: str, tree: ast.Module) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe"):
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names[node.name] = f"{module}.{node.name}"
        return names

    def _index(self, key: str, node: ast.ClassDef) -> None:
        self.defs[key] = node
        for child in node.body:
            if isinstance(child, ast.ClassDef):
                self._index(f"{key}.{child.name}", child)

    def _class(self, key: str) -> ClassInfo:
        known = self.classes.get(key)
        if known is not None:
            return known
        node = self.defs.get(key)
        if node is None:
            raise ModelError(f"class {key} is referenced but not defined in the package")
        info = ClassInfo(key, _object_name(node))
        self.classes[key] = info  # before the fields: classes may refer to themselves
        module = _module_of(key, self.modules)
        body = node.body
        for i, statement in enumerate(body):
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            name = statement.target.id
            if (name.startswith("_") and name not in ("in_", "is_")) or name.isupper():
                continue
            if _is_classvar(statement.annotation):
                continue
            doc = ""
            following = body[i + 1] if i + 1 < len(body) else None
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str):
                doc = " ".join(following.value.value.split())
            wire = name[:-1] if name in ("in_", "is_") else name  # Python keywords, renamed on the wire
            info.fields.append(Field(wire, self._type(statement.annotation, key, module), doc))
        return info

    # -- annotations ---------------------------------------------------------------------------

    def _type(self, node: ast.expr, owner: str, module: str) -> Type:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self._type(ast.parse(node.value, mode="eval").body, owner, module)
        if isinstance(node, ast.Constant) and node.value is None:
            return Prim("null")
        if isinstance(node, ast.Name):
            return self._named(node.id, owner, module)
        if isinstance(node, ast.Attribute):
            raise ModelError(f"{owner}: dotted annotation {ast.unparse(node)} is not understood")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._union([node.left, node.right], owner, module)
        if isinstance(node, ast.Subscript):
            head = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head == "Literal":
                return Prim("enum")
            if head in _WRAPPERS_TRANSPARENT:
                return self._type(args[0], owner, module)
            if head == "Union":
                return self._union(args, owner, module)
            if head == "List":
                return ListOf(self._type(args[0], owner, module))
            if head in ("Dict", "Mapping"):
                return MapOf(self._type(args[-1], owner, module))
            if head == "UntypedStripeObject":
                return MapOf(self._type(args[0], owner, module))
            if head == "ExpandableField":
                return Expandable(self._type(args[0], owner, module))
            if head in _PAGES:
                return Page(self._type(args[0], owner, module))
        raise ModelError(f"{owner}: annotation {ast.unparse(node)} is not understood")

    def _union(self, args: list[ast.expr], owner: str, module: str) -> Type:
        options: list[Type] = []
        for arg in args:
            option = self._type(arg, owner, module)
            for one in option.options if isinstance(option, OneOf) else (option,):
                if one != Prim("null") and one not in options:
                    options.append(one)
        if all(isinstance(o, Prim) and o.kind in ("enum", "str") for o in options) and Prim("enum") in options:
            return Prim("enum")  # Union[Literal[...], str]: an enum Stripe may extend
        if len(options) == 1:
            return options[0]
        return OneOf(tuple(options))

    def _named(self, name: str, owner: str, module: str) -> Type:
        if name in _SCALARS:
            return Prim(_SCALARS[name])
        if name == "UntypedStripeObject":
            return MapOf(Prim("any"))
        if name == "StripeObject":
            return MapOf(Prim("any"))
        # Python resolves an annotation in the class body that holds it, then the module.
        key = f"{owner}.{name}" if f"{owner}.{name}" in self.defs else self.scopes[module].get(name)
        if key is None or key not in self.defs:
            raise ModelError(f"{owner}: name {name!r} does not resolve to a class in the package")
        target = self.defs[key]
        object_name = _object_name(target)
        if object_name is not None and key == self.objects.get(object_name):
            return Resource(object_name)
        self._class(key)
        return Nested(key)


def _module_of(key: str, modules: dict[str, ast.Module]) -> str:
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    raise ModelError(f"no module holds {key}")


def _object_name(node: ast.ClassDef) -> str | None:
    for statement in node.body:
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == "OBJECT_NAME"
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            return statement.value.value
    return None


def _is_model_class(node: ast.ClassDef) -> bool:
    """Resources have fields; list and search-result containers are read generically instead."""
    return any(isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == "object" for s in node.body)


def _is_classvar(annotation: ast.expr) -> bool:
    return isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name) and annotation.value.id == "ClassVar"
