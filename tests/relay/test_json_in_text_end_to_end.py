"""Through `mcp-guard run`: a Stripe object wrapped in prose is redacted and livemode-checked as an object.

An upstream that answers `Customer: {...}`, a Markdown fence or one document per line instead
of one bare JSON document must not get a customer's name and address past the field rules, nor
a test-mode object past a live profile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.relay.faults import hostile_command, hostile_profile
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

FAKE_LIVE_KEY = "rk_live_51FAKEmcpGuardJsonInText00000000000000000aBcD"
CUSTOMER = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Hiroshi Adeyemi", "email": "hiroshi@example.com",
            "address": {"line1": "9 Harbor Way", "city": "Austin", "country": "US"}, "balance": 1250, "livemode": False}
WRAPPED = {
    "prose": "Customer: " + json.dumps(CUSTOMER),
    "fence": "```json\n" + json.dumps(CUSTOMER, indent=2) + "\n```",
    "lines": json.dumps(CUSTOMER) + "\n" + json.dumps({**CUSTOMER, "id": "cus_NffrFeUfNV2Hic"}),
}


def answer_line(text: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": "@ID@", "result": {"content": [{"type": "text", "text": text}]}}).replace('"@ID@"', "@ID@")


async def call_raw(tmp_path: Path, text: str, **profile: Any) -> dict[str, Any]:
    config = write_config(tmp_path, profile=hostile_profile(**profile), upstream={"command": "unused", "request_timeout": 20})
    client = await RawClient.start(config, hostile_command())
    try:
        await client.initialize()
        return await client.call("tools/call", {"name": "raw", "arguments": {"line": answer_line(text)}})
    finally:
        await client.aclose()


@pytest.mark.parametrize("text", WRAPPED.values(), ids=WRAPPED.keys())
async def test_a_wrapped_customer_reaches_the_client_without_name_email_or_address(tmp_path: Path, text: str) -> None:
    answer = await call_raw(tmp_path, text)
    shown = answer["result"]["content"][0]["text"]
    assert not [value for value in ("Hiroshi", "hiroshi@example.com", "9 Harbor Way", "Austin") if value in shown], shown
    assert "cus_NffrFeUfNV2Hib" in shown and "[redacted:name]" in shown


@pytest.mark.parametrize("text", WRAPPED.values(), ids=WRAPPED.keys())
async def test_a_wrapped_test_mode_object_is_withheld_from_a_live_profile(tmp_path: Path, text: str) -> None:
    answer = await call_raw(tmp_path, text, mode="live", api_key=FAKE_LIVE_KEY)
    result = answer.get("result") or {}
    assert result.get("isError") is True or "error" in answer, answer
    assert "Hiroshi" not in json.dumps(answer)
    [record] = [r for r in audit_records(tmp_path / "audit") if r["tool"] == "raw"]
    assert "livemode" in json.dumps(record)
