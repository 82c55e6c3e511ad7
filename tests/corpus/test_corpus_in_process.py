"""The generated corpus through the redactor in-process, in the shapes the end-to-end run does not
cover: structuredContent (the caller's objects, copied on write, never mutated) and objects without
`object` typed by their operation id."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mcp_guard.redaction import RedactionSettings, build_redactor
from mcp_guard.redaction._table import load_table
from tests.corpus.build import Corpus, build

KEY = bytes(range(32))


@pytest.fixture(scope="module", params=["test", "live"])
def corpus(request: pytest.FixtureRequest) -> tuple[str, Corpus]:
    return request.param, build(livemode=request.param == "live")


def test_structured_content_of_every_shape_leaks_nothing_and_is_not_mutated(corpus: tuple[str, Corpus]):
    mode, planted = corpus
    redactor = build_redactor(RedactionSettings(), mode, KEY)
    for operation, payload in planted.payloads.items():
        before = json.dumps(payload)
        out = redactor.redact({"content": [], "structuredContent": payload}, operation_id=operation)
        assert planted.leaks(json.dumps(out.value)) == set(), operation
        assert json.dumps(payload) == before, f"{operation}: the input was changed"


def test_objects_without_object_are_typed_by_their_retrieve_operation(corpus: tuple[str, Corpus]):
    mode, planted = corpus
    redactor = build_redactor(RedactionSettings(), mode, KEY)
    retrieve = _retrieve_operations()
    checked = 0
    for payload in planted.payloads.values():
        for item in payload.get("data", []) if isinstance(payload, dict) else []:
            operation = retrieve.get(item.get("object"))
            if operation is None:
                continue
            bare = {k: v for k, v in copy.deepcopy(item).items() if k != "object"}
            text = redactor.redact({"content": [{"type": "text", "text": json.dumps(bare)}]}, operation_id=operation).value["content"][0]["text"]
            assert planted.leaks(text) == set(), operation
            checked += 1
    assert checked > 50


def _retrieve_operations() -> dict[str, str]:
    """Per object type, a retrieve operation id (`GetCustomersCustomer`): the shortest that returns it."""
    by_type: dict[str, str] = {}
    for operation, type_name in sorted(load_table().operations.items(), key=lambda item: len(item[0])):
        if not operation.endswith("Search"):
            by_type.setdefault(type_name, operation)
    return by_type


def test_the_corpus_plants_every_sensitive_field_of_every_type(corpus: tuple[str, Corpus]):
    _, planted = corpus
    sensitive = sum(1 for fields in load_table().objects.values() for _ in _sensitive_leaves(fields))
    assert len(planted.planted_text) + len(planted.planted_numbers) >= sensitive  # each once or more (events, expansions)


def _sensitive_leaves(entry: Any):
    if isinstance(entry, dict):
        for sub in entry.values():
            yield from _sensitive_leaves(sub)
    elif isinstance(entry, list):
        for sub in entry[1:2]:
            yield from _sensitive_leaves(sub)
    elif isinstance(entry, str) and ":" in entry and not entry.startswith(("@", "x@", "~")):
        yield entry
