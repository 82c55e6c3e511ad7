"""The guard's fail-closed paths, in process: a redactor that errors and a redaction that breaks
a tool's outputSchema. Real policy, real redactor, a real audit log in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcp_guard.config import Mode
from mcp_guard.errors import RedactionError
from mcp_guard.guard import Answer, Forward, Guard
from mcp_guard.redaction import Redacted, RedactionSettings, build_redactor
from tests.factories import build_guard, make_profile

pytestmark = pytest.mark.anyio

KEY = b"k" * 32


class BrokenRedactor:
    """Stands in for a redactor that hits something it cannot process (anything but `{}`)."""

    def redact(self, value: Any, **hints: Any) -> Redacted:
        if value == {}:
            return Redacted(value, {}, ())
        raise RedactionError("value nested deeper than the redactor's limit")

    def redact_arguments(self, value: Any) -> Redacted:
        return self.redact(value)

    def redact_free_form(self, value: Any) -> Redacted:
        return self.redact(value)

    def redact_text(self, text: str) -> Redacted:
        raise RedactionError("cannot scan")

    def check_output_schema(self, structured: Any, schema: dict[str, Any]) -> str | None:
        return None


def make_guard(tmp_path: Path, redactor: Any) -> Guard:
    profile = make_profile(tmp_path, allowed_operations=["read", "list", "search", "other"], blocked_operations=[])
    return build_guard(profile, redactor=redactor)


async def call_tool(guard: Guard, tool: str, request_id: int = 1) -> Forward:
    admission = await guard.admit({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
    assert isinstance(admission, Forward)
    return admission


def tool_result(content_text: str, **extra: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": content_text}], **extra}}


async def test_result_that_cannot_be_redacted_is_withheld(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, BrokenRedactor())
    admission = await call_tool(guard, "list_customers")
    line = json.loads(await guard.respond(admission.call, tool_result('{"email": "jenny@example.com"}')))
    assert line["result"]["isError"] is True
    assert "could not be redacted" in line["result"]["content"][0]["text"]
    assert "jenny@example.com" not in json.dumps(line)


async def test_upstream_error_that_cannot_be_redacted_is_withheld(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, BrokenRedactor())
    admission = await call_tool(guard, "list_customers")
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "failed for jenny@example.com"}}
    line = json.loads(await guard.respond(admission.call, error))
    assert "jenny@example.com" not in json.dumps(line)
    assert line["error"]["code"] == -32003


async def test_notification_that_cannot_be_redacted_is_dropped(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, BrokenRedactor())
    log = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "jenny@example.com"}}
    assert guard.from_upstream(log) is None


async def test_arguments_that_cannot_be_redacted_for_the_audit_trail_refuse_the_call(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, BrokenRedactor())
    admission = await guard.admit({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "list_customers", "arguments": {"email": "x@y.z"}}})
    assert isinstance(admission, Answer)
    assert json.loads(admission.line)["error"]["code"] == -32003


async def test_structured_content_broken_by_redaction_becomes_is_error(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, build_redactor(RedactionSettings(), Mode.TEST, KEY))
    schema = {"type": "object", "properties": {"email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"}}, "required": ["email"]}
    listing = await guard.admit({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert isinstance(listing, Forward)
    await guard.respond(listing.call, {"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "list_customers", "inputSchema": {"type": "object"}, "outputSchema": schema}]}})
    admission = await call_tool(guard, "list_customers", 2)
    result = tool_result('{"email": "jenny@example.com"}', structuredContent={"email": "jenny@example.com"})
    line = json.loads(await guard.respond(admission.call, result))["result"]
    assert line["isError"] is True
    assert "outputSchema" in line["content"][0]["text"]
    assert "structuredContent" not in line
    assert "jenny@example.com" not in json.dumps(line)


async def test_structured_content_that_still_fits_its_schema_is_kept(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, build_redactor(RedactionSettings(), Mode.TEST, KEY))
    schema = {"type": "object", "properties": {"email": {"type": "string"}}}
    listing = await guard.admit({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert isinstance(listing, Forward)
    await guard.respond(listing.call, {"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "list_customers", "inputSchema": {"type": "object"}, "outputSchema": schema}]}})
    admission = await call_tool(guard, "list_customers", 2)
    line = json.loads(await guard.respond(admission.call, tool_result("{}", structuredContent={"email": "jenny@example.com"})))["result"]
    assert line.get("isError") is not True
    assert line["structuredContent"]["email"] != "jenny@example.com"


@pytest.mark.parametrize("method", ["tasks/list", "server/discover", "x-vendor/anything"])
async def test_method_outside_the_profile_is_answered_not_forwarded(tmp_path: Path, method: str) -> None:
    guard = make_guard(tmp_path, build_redactor(RedactionSettings(), Mode.TEST, KEY))
    admission = await guard.admit({"jsonrpc": "2.0", "id": 9, "method": method})
    assert isinstance(admission, Answer)
    assert json.loads(admission.line)["error"]["code"] == -32601


async def test_tools_list_whose_tools_are_not_a_list_shows_no_tools(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, build_redactor(RedactionSettings(), Mode.TEST, KEY))
    listing = await guard.admit({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert isinstance(listing, Forward)
    odd = {"jsonrpc": "2.0", "id": 1, "result": {"tools": {"create_refund": {"inputSchema": {}}}}}
    assert json.loads(await guard.respond(listing.call, odd))["result"]["tools"] == []


async def test_audit_record_keeps_only_redacted_arguments(tmp_path: Path) -> None:
    guard = make_guard(tmp_path, build_redactor(RedactionSettings(), Mode.TEST, KEY))
    arguments = {"email": "jenny.rosen@example.com", "note": "key sk_test_51FAKEaudit0000000000000000"}
    admission = await guard.admit({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_customers", "arguments": arguments}})
    assert isinstance(admission, Forward)
    await guard.respond(admission.call, tool_result("[]"))
    trail = "".join(path.read_text() for path in (tmp_path / "audit").glob("*.jsonl"))
    assert '"tool": "list_customers"' in trail or '"tool":"list_customers"' in trail
    assert "jenny.rosen@example.com" not in trail and "sk_test_51FAKEaudit" not in trail
