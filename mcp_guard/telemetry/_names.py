"""Attribute, metric and value names: the MCP semantic conventions plus mcp-guard's own.

The MCP and GenAI conventions are "Development" status and their constants in
`opentelemetry-semantic-conventions` live in `_incubating` modules (the GenAI ones are already
marked as moved to another repository), so importing them would tie us to a package layout that
changes between releases. The literals are kept here and a test checks them against the installed
constants.
"""

from __future__ import annotations

import re
from typing import Final

# MCP semantic conventions.
MCP_METHOD_NAME: Final = "mcp.method.name"
MCP_PROTOCOL_VERSION: Final = "mcp.protocol.version"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_OPERATION_EXECUTE_TOOL: Final = "execute_tool"
JSONRPC_REQUEST_ID: Final = "jsonrpc.request.id"
RPC_RESPONSE_STATUS_CODE: Final = "rpc.response.status_code"
NETWORK_TRANSPORT: Final = "network.transport"
ERROR_TYPE: Final = "error.type"
ERROR_TYPE_TOOL_ERROR: Final = "tool_error"
MCP_SERVER_OPERATION_DURATION: Final = "mcp.server.operation.duration"
# Recommended buckets for mcp.server.operation.duration (seconds).
DURATION_BUCKETS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

# mcp-guard's own.
GUARD_OUTCOME: Final = "mcp_guard.outcome"
GUARD_DECISION: Final = "mcp_guard.decision"
GUARD_RULE: Final = "mcp_guard.rule"
GUARD_OPERATION: Final = "mcp_guard.operation"
GUARD_OPERATION_ID: Final = "mcp_guard.operation_id"  # Stripe's operation id, e.g. GetCustomers
GUARD_PROFILE: Final = "mcp_guard.profile"
GUARD_POLICY_SHA256: Final = "mcp_guard.policy.sha256"
GUARD_DECISION_ID: Final = "mcp_guard.decision_id"
GUARD_AUDIT_SEQ: Final = "mcp_guard.audit.seq"
GUARD_AUDIT_HASH: Final = "mcp_guard.audit.hash"
GUARD_REDACTIONS_PREFIX: Final = "mcp_guard.redactions."
GUARD_REDACTION_CLASS: Final = "mcp_guard.redaction.class"
GUARD_CALLS: Final = "mcp_guard.calls"
GUARD_DENIALS: Final = "mcp_guard.denials"
GUARD_REDACTIONS: Final = "mcp_guard.redactions"
DENY: Final = "deny"

# Stand-in for a client-supplied name that does not look like an identifier (the semconv
# convention for values outside the known set).
OTHER: Final = "_OTHER"

# Method names, tool names, request ids and protocol versions come from the client, so a
# confused or hostile client could put an email, card number or key there. Only values shaped
# like identifiers reach an attribute.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_./:-]{1,64}\Z")
_DATA_LIKE = re.compile(r"(?:sk|rk|pk)_(?:test|live)_|whsec_|\d{12}", re.IGNORECASE)


def safe_identifier(value: str) -> str:
    """`value` if it looks like an identifier, else `_OTHER`."""
    if _IDENTIFIER.match(value) and not _DATA_LIKE.search(value):
        return value
    return OTHER
