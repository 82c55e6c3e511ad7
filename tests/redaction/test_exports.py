"""The package's public surface is what __init__ exports, and nothing private leaks into it."""

from __future__ import annotations

import mcp_guard.redaction as redaction


def test_public_names_are_exported_and_importable():
    for name in redaction.__all__:
        assert getattr(redaction, name) is not None, name
    assert {"Redactor", "Redacted", "build_redactor", "load_pseudonym_key", "RedactionSettings"} <= set(redaction.__all__)
    assert not [name for name in redaction.__all__ if name.startswith("_")]
