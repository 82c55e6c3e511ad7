"""Fixtures for the redaction tests: realistic made-up Stripe objects and ready redactors."""

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


@pytest.fixture(scope="session")
def test_redactor() -> Redactor:
    return build_redactor(RedactionSettings(), "test", TEST_KEY)


@pytest.fixture(scope="session")
def live_redactor() -> Redactor:
    return build_redactor(RedactionSettings(), "live", TEST_KEY)
