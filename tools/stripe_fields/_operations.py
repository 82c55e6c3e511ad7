"""Operation ids of Stripe's read endpoints, with the object type each returns, from the services.

Every `stripe/*_service.py` method calls `self._request("get", "/v1/customers/{customer}/tax_ids")`
and declares its result (`"ListObject[TaxId]"`). Stripe's OpenAPI operation id is the method plus
the path in CamelCase, a `{param}` turning into its own name: `GetCustomersCustomerTaxIds`.
"""

from __future__ import annotations

import ast
from pathlib import Path

_PAGE_TYPES = ("ListObject", "SearchResultObject")


def read_operations(package_dir: Path, class_objects: dict[str, str]) -> dict[str, str]:
    """{operation id: object type} for GET endpoints of API v1; `class_objects` maps `module.Class` to object names."""
    operations: dict[str, str] = {}
    for path in sorted(package_dir.rglob("*_service.py")):
        relative = path.relative_to(package_dir)
        if "v2" in relative.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = _imported_classes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.returns is None:
                continue
            request = _request_of(node)
            if request is None or request[0] != "get" or not request[1].startswith("/v1/"):
                continue
            target = _returned_class(node.returns, names)
            if target is None or target not in class_objects:
                continue
            operations[operation_id(request[0], request[1])] = class_objects[target]
    return dict(sorted(operations.items()))


def operation_id(method: str, path: str) -> str:
    words = [method.capitalize()]
    for segment in path.strip("/").split("/")[1:]:
        segment = segment.strip("{}")
        words.append("".join(part[:1].upper() + part[1:] for part in segment.replace(".", "_").split("_")))
    return "".join(words)


def _imported_classes(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _request_of(function: ast.FunctionDef) -> tuple[str, str] | None:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_request"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
        ):
            path_node = node.args[1]
            if isinstance(path_node, ast.Call) and isinstance(path_node.func, ast.Attribute):
                path_node = path_node.func.value  # "/v1/x/{id}".format(...)
            if isinstance(path_node, ast.Constant) and isinstance(path_node.value, str):
                return str(node.args[0].value), path_node.value
    return None


def _returned_class(returns: ast.expr, names: dict[str, str]) -> str | None:
    node: ast.expr = returns
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        node = ast.parse(node.value, mode="eval").body
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in _PAGE_TYPES:
        node = node.slice
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        node = ast.parse(node.value, mode="eval").body
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def read_operation_classes(package_dir: Path) -> dict[str, str]:
    """{operation id: operation class} for every v1 endpoint of the SDK's services.

    GET: `list` when the method returns a ListObject, `search` for a SearchResultObject, else
    `read`; DELETE: `delete`; POST: the SDK's method name when it says (`create`, `update`,
    `delete...`), else None and the runtime's verb rules on the operation id decide (`cancel`,
    `capture`, `finalize_invoice`... are all writes either way).
    """
    classes: dict[str, str] = {}
    for path in sorted(package_dir.rglob("*_service.py")):
        if "v2" in path.relative_to(package_dir).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.name.endswith("_async"):
                continue
            request = _request_of(node)
            if request is None or not request[1].startswith("/v1/"):
                continue
            method, name = request[0], node.name
            returned = ast.unparse(node.returns) if node.returns is not None else ""
            if method == "get":
                cls = "search" if "SearchResultObject" in returned else "list" if "ListObject" in returned else "read"
            elif method == "delete" or name.startswith("delete"):
                cls = "delete"
            elif name in ("create", "update"):
                cls = name
            else:
                continue
            classes[operation_id(method, request[1])] = cls
    return dict(sorted(classes.items()))


def render_operation_classes(classes: dict[str, str], stripe_version: str) -> str:
    """The generated module mcp_guard/_stripe_operations.py (a literal: importing it does no I/O)."""
    lines = [
        f'"""Stripe operation ids and their operation class, from the stripe {stripe_version} SDK\'s services.',
        "",
        "Generated by `make stripe-fields` (tools/stripe_fields); do not edit. `mcp_guard.classify` uses",
        "it before its verb rules, which remain the answer for ids this version does not know.",
        '"""',
        "",
        "OPERATION_CLASSES: dict[str, str] = {",
        *(f"    {op!r}: {cls!r}," for op, cls in classes.items()),
        "}",
        "",
    ]
    return "\n".join(lines)
