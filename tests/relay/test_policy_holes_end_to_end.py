"""Issue 10, items 4-6, end to end: argument rules cannot be skipped by the shape or spelling of
the arguments. Through `mcp-guard run` (a real process) to an upstream that records every line it
receives, so "refused" also means "never reached the upstream"; a control call shows that the
same call without the offending part does reach it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.relay.faults import hostile_command, hostile_profile, received_lines
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

ACCOUNT = "acct_1NotAllowed"
SPELLINGS: list[tuple[str, dict[str, Any]]] = [
    ("stripeAccount", {"stripeAccount": ACCOUNT}),
    ("stripeContext", {"stripeContext": ACCOUNT}),
    ("stripe.account", {"stripe.account": ACCOUNT}),
    ("headers.Stripe-Account", {"headers": {"Stripe-Account": ACCOUNT}}),
    ("options.stripeAccount", {"options": {"stripeAccount": ACCOUNT}}),
]


async def run_calls(tmp_path: Path, calls: list[tuple[Any, str, Any]], *, profile: dict[str, Any] | None = None) -> tuple[dict[Any, dict[str, Any]], list[dict[str, Any]]]:
    """Each (id, tool, arguments) as a tools/call; the answers by id and what reached the upstream."""
    received = tmp_path / "received.jsonl"
    client = await RawClient.start(write_config(tmp_path, profile=hostile_profile(**(profile or {}))), hostile_command("--received", str(received)))
    try:
        with anyio.fail_after(30):
            await client.initialize()
            for request_id, tool, arguments in calls:
                await client.request("tools/call", {"name": tool, "arguments": arguments}, id=request_id)
            answers = {request_id: await client.response(request_id) for request_id, _, _ in calls}
    finally:
        await client.aclose()
    forwarded = [json.loads(line) for line in received_lines(received)]
    return answers, [m for m in forwarded if m.get("method") == "tools/call"]


def denial_text(answer: dict[str, Any]) -> str:
    assert answer["result"]["isError"] is True, answer
    return str(answer["result"]["content"][0]["text"])


async def test_arguments_that_are_not_an_object_are_refused_as_invalid_params_and_never_forwarded(tmp_path: Path) -> None:
    calls = [
        ("string", "echo", json.dumps({"limit": 1000})),
        ("list", "echo", [{"stripeAccount": ACCOUNT}]),
        ("dispatcher-string", "stripe_api_read", json.dumps({"stripe_api_operation_id": "PostRefunds"})),
        ("control", "echo", {"text": "an object"}),
    ]
    answers, forwarded = await run_calls(tmp_path, calls)
    for request_id in ("string", "list", "dispatcher-string"):
        assert answers[request_id]["error"]["code"] == -32602, answers[request_id]
        assert "must be a JSON object" in answers[request_id]["error"]["message"]
    assert [m["params"]["arguments"] for m in forwarded] == [{"text": "an object"}]
    decisions = {r["request_id"]: (r["decision"], r["outcome"]) for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"}
    assert decisions == {"string": ("deny", "denied"), "list": ("deny", "denied"), "dispatcher-string": ("deny", "denied"), "control": ("allow", "ok")}


async def test_connected_account_routing_is_refused_in_every_spelling_at_top_level_and_inside_parameters(tmp_path: Path) -> None:
    calls: list[tuple[Any, str, Any]] = []
    for name, spelling in SPELLINGS:
        calls.append((f"top:{name}", "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", **spelling}))
        calls.append((f"parameters:{name}", "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": spelling}))
    calls.append(("control", "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 3}}))
    answers, forwarded = await run_calls(tmp_path, calls)
    refused = [request_id for request_id, answer in answers.items() if request_id != "control" and "connected_accounts" in denial_text(answer)]
    assert sorted(refused) == sorted(request_id for request_id, _, _ in calls if request_id != "control")
    assert [m["params"]["arguments"] for m in forwarded] == [{"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 3}}]


async def test_expand_deny_matches_at_any_depth_of_the_path(tmp_path: Path) -> None:
    paths = ["customer", "data.customer", "invoice.subscription.customer", "customer.default_source", "data.invoice.customer"]
    calls: list[tuple[Any, str, Any]] = [
        (path, "stripe_api_read", {"stripe_api_operation_id": "GetCharges", "parameters": {"expand": [path]}}) for path in paths
    ]
    calls.append(("control", "stripe_api_read", {"stripe_api_operation_id": "GetCharges", "parameters": {"expand": ["data.invoice"]}}))
    answers, forwarded = await run_calls(tmp_path, calls, profile={"arguments": {"expand_deny": ["customer"]}})
    for path in paths:
        assert "expand_deny" in denial_text(answers[path]), path
    assert [m["params"]["arguments"]["parameters"]["expand"] for m in forwarded] == [["data.invoice"]]


async def test_tools_whose_names_fold_to_one_policy_name_are_all_hidden_and_refused(tmp_path: Path) -> None:
    """`echo`, `echo `, `Echo` and `echo\\0` are one tool to the policy; the upstream may route
    them to different tools, so none of them is listed or called. Unique names are unaffected."""
    received, extra = tmp_path / "received.jsonl", tmp_path / "extra-tools.json"
    extra.write_text(json.dumps(["echo ", "Echo", "echo\u0000", "list_customers", "List-Customers"]))
    client = await RawClient.start(write_config(tmp_path, profile=hostile_profile()),
                                   hostile_command("--received", str(received), "--extra-tools", str(extra)))
    calls = [("echo", "echo"), ("echo-space", "echo "), ("ECHO", "ECHO"), ("list", "list_customers"), ("list-dash", "list-customers")]
    control = '{"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"ok"}]}}'
    try:
        with anyio.fail_after(30):
            await client.initialize()
            listed = [tool["name"] for tool in (await client.call("tools/list"))["result"]["tools"]]
            relisted = [tool["name"] for tool in (await client.call("tools/list"))["result"]["tools"]]
            answers = {}
            for request_id, tool in calls:
                answers[request_id] = await client.response(await client.request("tools/call", {"name": tool, "arguments": {}}, id=request_id))
            allowed = await client.call("tools/call", {"name": "raw", "arguments": {"line": control}})
    finally:
        await client.aclose()
    assert listed == relisted == ["raw", "ask_raw", "flood_stderr", "hang", "die"]
    for request_id, _ in calls:
        assert "ambiguous" in denial_text(answers[request_id]), request_id
    assert allowed["result"]["content"][0]["text"] == "ok"
    forwarded = [json.loads(line) for line in received_lines(received)]
    assert [m["params"]["name"] for m in forwarded if m.get("method") == "tools/call"] == ["raw"]
    rules = {r["request_id"]: r["rule"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"}
    assert all(rules[request_id] == "tools.ambiguous_name" for request_id, _ in calls), rules
    assert (await client.stderr_text()).count("fold to the same policy name") == 1


async def test_look_alike_tools_on_different_pages_of_tools_list_are_hidden_and_refused_too(tmp_path: Path) -> None:
    """`echo` on the first page and `ECHO` on the second: each page alone holds one name per
    policy key, the session holds two, so from the second page on neither is listed or called."""
    received, extra = tmp_path / "received.jsonl", tmp_path / "extra-tools.json"
    extra.write_text(json.dumps(["ECHO"]))
    client = await RawClient.start(write_config(tmp_path, profile=hostile_profile()),
                                   hostile_command("--received", str(received), "--extra-tools", str(extra), "--page-size", "6"))
    try:
        with anyio.fail_after(30):
            await client.initialize()
            first = (await client.call("tools/list"))["result"]
            second = (await client.call("tools/list", {"cursor": first["nextCursor"]}))["result"]
            relisted = (await client.call("tools/list"))["result"]
            answers = [await client.call("tools/call", {"name": name, "arguments": {}}) for name in ("ECHO", "echo")]
    finally:
        await client.aclose()
    assert "echo" in [tool["name"] for tool in first["tools"]]  # before the look-alike was seen
    assert second["tools"] == []
    assert "echo" not in [tool["name"] for tool in relisted["tools"]]
    assert all("ambiguous" in denial_text(answer) for answer in answers)
    forwarded = [json.loads(line) for line in received_lines(received)]
    assert [m for m in forwarded if m.get("method") == "tools/call"] == []
