"""Through `mcp-guard run`: what a client sends is recorded without the personal data in it.

A refused `create_customer` with a person's details, the same through `stripe_api_write`, and a
tool name or operation id that is itself an email address: the audit records keep the tool, the
decision and the codes (country, currency), never the name, email, address, description or
metadata, for as long as the records are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.relay.faults import hostile_command, hostile_profile
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

PERSON = {"name": "Jenny Rosen", "email": "jenny.rosen@example.com", "phone": "+1 555 010 9999", "description": "Prefers calls after 6pm",
          "address": {"line1": "510 Townsend St", "city": "San Francisco", "postal_code": "94103", "country": "US"},
          "metadata": {"crm_note": "call Jenny at home"}, "preferred_locales": ["en"], "currency": "usd"}
HIDDEN = ("Jenny", "jenny.rosen@example.com", "555 010", "6pm", "510 Townsend", "San Francisco", "94103", "call Jenny")


async def test_refused_calls_are_recorded_without_the_personal_data_they_carried(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile=hostile_profile(), upstream={"command": "unused", "request_timeout": 20})
    client = await RawClient.start(config, hostile_command())
    try:
        await client.initialize()
        calls = [
            {"name": "create_customer", "arguments": PERSON},
            {"name": "stripe_api_write", "arguments": {"stripe_api_operation_id": "PostCustomers", "parameters": PERSON}},
            {"name": "jenny.rosen@example.com", "arguments": {}},
            {"name": "stripe_api_read", "arguments": {"stripe_api_operation_id": "jenny.rosen@example.com", "parameters": {}}},
        ]
        answers = [await client.call("tools/call", params) for params in calls]
    finally:
        await client.aclose()
    assert all(answer["result"]["isError"] is True for answer in answers)  # every one refused
    records = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert len(records) == 4 and all(r["decision"] == "deny" for r in records)
    written = json.dumps(records)
    assert not [value for value in HIDDEN if value in written], written
    assert [r["tool"] for r in records[:2]] == ["create_customer", "stripe_api_write"] and records[1]["operation_id"] == "PostCustomers"
    assert records[0]["arguments"]["address"]["country"] == "US" and records[0]["arguments"]["currency"] == "usd"
