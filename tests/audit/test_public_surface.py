"""The package's public surface is what the relay and the CLI import, and nothing is missing."""

from __future__ import annotations

import mcp_guard.audit as audit


def test_every_exported_name_exists_and_the_contract_is_exported():
    assert all(hasattr(audit, name) for name in audit.__all__)
    assert {"AuditLog", "AuditRecord", "open_audit_log", "verify_audit_dir", "Outcome", "GroupCommitter", "Tail"} <= set(audit.__all__)


def test_the_record_module_stays_pure():
    import ast
    from pathlib import Path

    source = Path(audit.__file__).with_name("record.py").read_text()
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= {"__future__", "uuid", "collections", "dataclasses", "datetime", "enum", "typing"}
