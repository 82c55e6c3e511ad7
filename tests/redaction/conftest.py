"""Fixtures for the redaction tests: realistic made-up Stripe objects and fresh redactors.

Redactors are built per test: each holds the values it learned in its session.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mcp_guard.redaction import RedactionSettings, Redactor, build_redactor

FIXTURES = Path(__file__).parent / "fixtures"
TEST_KEY = bytes(range(32))  # a made-up pseudonym key; real ones are random per installation


@pytest.fixture(scope="session")
def stripe_objects() -> dict[str, Any]:
    return json.loads((FIXTURES / "stripe_objects.json").read_text())


@pytest.fixture()
def stripe_object(stripe_objects: dict[str, Any]):
    """stripe_object("customer") -> a fresh deep copy of that fixture."""
    return lambda name: copy.deepcopy(stripe_objects[name])


@pytest.fixture()
def test_redactor() -> Redactor:
    return build_redactor(RedactionSettings(), "test", TEST_KEY)


@pytest.fixture()
def live_redactor() -> Redactor:
    return build_redactor(RedactionSettings(), "live", TEST_KEY)


def as_tool_result(obj: Any) -> dict[str, Any]:
    """How both Stripe catalogs answer: one text content item holding the JSON."""
    return {"content": [{"type": "text", "text": json.dumps(obj)}], "isError": False}


def redact_as_tool_result(redactor: Redactor, obj: Any, **hints: Any) -> tuple[Any, Any]:
    redacted = redactor.redact(as_tool_result(obj), **hints)
    assert redacted.value["content"][0]["type"] == "text"
    assert redacted.value["isError"] is False
    return json.loads(redacted.value["content"][0]["text"]), redacted
