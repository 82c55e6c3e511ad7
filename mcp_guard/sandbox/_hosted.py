"""The hosted catalog (https://mcp.stripe.com): generic dispatchers over operation ids.

The dispatchers are naive on purpose: ``stripe_api_read`` executes a ``Post*`` operation too,
so that only mcp-guard stands between an assistant and a write.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcp_guard.sandbox._docs import search_docs
from mcp_guard.sandbox._fixtures import ACCOUNT_ID
from mcp_guard.sandbox._operations import OPERATIONS, get_operation
from mcp_guard.sandbox._store import StripeError
from mcp_guard.sandbox._tools import DESTRUCTIVE, READ_ONLY, WRITE, SandboxTool, json_result, string, text_result

if TYPE_CHECKING:
    from mcp_guard.sandbox._sandbox import ToolCall

CONNECTED_ACCOUNT_ID = "acct_1SandboxConnected02"

_OPERATION_ID = string("A Stripe OpenAPI operation id, e.g. GetCustomers or PostRefunds.")
_PARAMETERS = {"type": "object", "additionalProperties": True,
               "description": "Request parameters: path, query and body parameters by name."}


def _guarded(run: Any) -> Any:
    """Turn Stripe errors into ``isError`` results, as the hosted server does."""

    def wrapper(call: ToolCall) -> dict[str, Any]:
        try:
            result: dict[str, Any] = run(call)
            return result
        except StripeError as exc:
            return json_result(exc.body, is_error=True)

    return wrapper


def _parameters(call: ToolCall) -> dict[str, Any]:
    raw = call.arguments.get("parameters") or {}
    if isinstance(raw, str):  # some clients send the object JSON-encoded
        try:
            raw = json.loads(raw)
        except ValueError:
            raise StripeError("parameters must be a JSON object", param="parameters") from None
    if not isinstance(raw, dict):
        raise StripeError("parameters must be an object", param="parameters")
    return raw


def _operation_id(call: ToolCall) -> str:
    op_id = call.arguments.get("stripe_api_operation_id")
    if not isinstance(op_id, str) or not op_id:
        raise StripeError("Missing required argument: stripe_api_operation_id",
                          code="parameter_missing", param="stripe_api_operation_id")
    return op_id


def _dispatch(call: ToolCall) -> dict[str, Any]:
    livemode = call.sandbox.store.livemode
    if isinstance(call.arguments.get("livemode"), bool) and call.arguments["livemode"] is not livemode:
        mode = "live" if livemode else "test"
        raise StripeError(f"This sandbox holds {mode}-mode data only; livemode must be "
                          f"{str(livemode).lower()}.", code="livemode_mismatch", param="livemode")
    context = call.arguments.get("stripe_context")
    if isinstance(context, str) and context:
        call.stripe_account = context
    return json_result(call.execute(_operation_id(call), _parameters(call)))


def _api_search(call: ToolCall) -> dict[str, Any]:
    words = str(call.arguments.get("query", "")).lower().split()
    hits = [op for op in OPERATIONS.values()
            if all(w in f"{op.operation_id} {op.path} {op.summary}".lower() for w in words)]
    return json_result([{"stripe_api_operation_id": op.operation_id, "method": op.method,
                         "path": op.path, "summary": op.summary} for op in hits[:20]])


def _api_details(call: ToolCall) -> dict[str, Any]:
    op = get_operation(_operation_id(call))
    params = []
    if op.id_param:
        params.append({"name": op.id_param, "in": "path", "required": True,
                       "schema": {"type": "string", "maxLength": 5000}})
    if op.kind in ("list", "search"):
        params += [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
                   {"name": "expand", "in": "query", "schema": {"type": "array"}}]
        if op.kind == "list":
            params.append({"name": "starting_after", "in": "query", "schema": {"type": "string"}})
        else:
            params.append({"name": "query", "in": "query", "required": True,
                           "schema": {"type": "string"}})
    return json_result({"stripe_api_operation_id": op.operation_id, "method": op.method,
                        "path": op.path, "summary": op.summary, "parameters": params,
                        "dispatcher": "stripe_api_write" if op.is_write else "stripe_api_read"})


def _account_info(call: ToolCall) -> dict[str, Any]:
    return json_result(call.execute("GetAccount", {}))


def _balance_summary(call: ToolCall) -> dict[str, Any]:
    return json_result(call.execute("GetBalance", {}))


def _docs(call: ToolCall) -> dict[str, Any]:
    question = call.arguments.get("question")
    if not isinstance(question, str) or not question.strip():
        raise StripeError("Missing required argument: question", code="parameter_missing",
                          param="question")
    return json_result(search_docs(question, call.arguments.get("language")))


def _analytics(call: ToolCall) -> dict[str, Any]:
    run = {"id": call.sandbox.store.new_id("qr"), "object": "sigma.query_run",
           "status": "running", "sql": str(call.arguments.get("query", "")),
           "livemode": call.sandbox.store.livemode}
    call.record_side_effect("StripeAnalyticsQueryRun", run)
    return json_result(run)


def _feedback(call: ToolCall) -> dict[str, Any]:
    receipt = {"id": call.sandbox.store.new_id("fb"), "object": "mcp_feedback", "received": True}
    call.record_side_effect("SendStripeMcpFeedback", receipt)
    return text_result("Thank you, your feedback was sent to Stripe.")


def _accounts(call: ToolCall) -> dict[str, Any]:
    account = call.sandbox.store.account
    livemode = call.sandbox.store.livemode
    return json_result({"object": "list", "has_more": False, "url": "/v1/accounts", "data": [
        {"id": ACCOUNT_ID, "object": "account", "display_name":
         account["settings"]["dashboard"]["display_name"], "type": "standard", "livemode": livemode},
        {"id": CONNECTED_ACCOUNT_ID, "object": "account", "display_name": "Sandbox Connected Shop",
         "type": "express", "livemode": livemode},
    ]})


def _create_refund(call: ToolCall) -> dict[str, Any]:
    params = {k: call.arguments[k] for k in ("payment_intent", "charge", "amount", "reason")
              if call.arguments.get(k) is not None}
    return json_result(call.execute("PostRefunds", params))


TOOLS: tuple[SandboxTool, ...] = (
    SandboxTool("stripe_api_search", "Search the Stripe API for operations matching a query. "
                "Returns operation ids to use with stripe_api_details, stripe_api_read and "
                "stripe_api_write.", {"query": string("Words describing the API operation.")},
                _guarded(_api_search), ("query",), READ_ONLY),
    SandboxTool("stripe_api_details", "Describe one Stripe API operation: method, path and "
                "parameters.", {"stripe_api_operation_id": _OPERATION_ID},
                _guarded(_api_details), ("stripe_api_operation_id",), READ_ONLY),
    SandboxTool("stripe_api_read", "Execute a read-only Stripe API operation (GET) and return "
                "the Stripe response.",
                {"stripe_api_operation_id": _OPERATION_ID, "parameters": _PARAMETERS},
                _guarded(_dispatch), ("stripe_api_operation_id",), READ_ONLY),
    SandboxTool("stripe_api_write", "Execute a Stripe API operation that creates, updates or "
                "deletes objects (POST or DELETE) and return the Stripe response.",
                {"stripe_api_operation_id": _OPERATION_ID, "parameters": _PARAMETERS,
                 "livemode": {"type": "boolean", "description": "Must match the key's mode."},
                 "stripe_context": string("A connected account id (acct_...) to act on.")},
                _guarded(_dispatch), ("stripe_api_operation_id",), DESTRUCTIVE),
    SandboxTool("get_stripe_account_info", "Retrieve information about the Stripe account.", {},
                _guarded(_account_info), (), READ_ONLY),
    SandboxTool("get_balance_summary", "Retrieve the account balance.", {},
                _guarded(_balance_summary), (), READ_ONLY),
    SandboxTool("search_stripe_documentation", "Search Stripe's documentation and support "
                "articles.", {"question": string("The question to answer."),
                              "language": string("Programming language for code samples.")},
                _guarded(_docs), ("question",), READ_ONLY),
    SandboxTool("stripe_analytics", "Start an analytics query run over the account's data.",
                {"query": string("What to analyse, in plain language or SQL.")},
                _guarded(_analytics), ("query",), WRITE),
    SandboxTool("send_stripe_mcp_feedback", "Send feedback about this MCP server to Stripe.",
                {"feedback": string("The feedback text.")}, _guarded(_feedback), ("feedback",),
                WRITE),
    SandboxTool("list_available_accounts_or_orgs", "List the accounts and organizations this "
                "connection may act on.", {}, _guarded(_accounts), (), READ_ONLY),
    SandboxTool("create_refund", "Refund a PaymentIntent, in full or in part.",
                {"payment_intent": string("The PaymentIntent id."),
                 "amount": {"type": "integer", "description": "Amount in minor units."},
                 "reason": string("duplicate, fraudulent or requested_by_customer")},
                _guarded(_create_refund), ("payment_intent",), WRITE),
)
