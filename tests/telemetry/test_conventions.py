"""Our attribute and metric names are the ones the installed semantic conventions define."""

from __future__ import annotations

import importlib

import pytest

import mcp_guard.telemetry
from mcp_guard.telemetry import _names

INCUBATING = "opentelemetry.semconv._incubating"
STABLE = "opentelemetry.semconv"


@pytest.mark.parametrize(
    "module, constant, ours",
    [
        (f"{INCUBATING}.attributes.mcp_attributes", "MCP_METHOD_NAME", _names.MCP_METHOD_NAME),
        (f"{INCUBATING}.attributes.mcp_attributes", "MCP_PROTOCOL_VERSION", _names.MCP_PROTOCOL_VERSION),
        (f"{INCUBATING}.attributes.gen_ai_attributes", "GEN_AI_TOOL_NAME", _names.GEN_AI_TOOL_NAME),
        (f"{INCUBATING}.attributes.gen_ai_attributes", "GEN_AI_PROMPT_NAME", _names.GEN_AI_PROMPT_NAME),
        (f"{INCUBATING}.attributes.gen_ai_attributes", "GEN_AI_OPERATION_NAME", _names.GEN_AI_OPERATION_NAME),
        (f"{INCUBATING}.attributes.jsonrpc_attributes", "JSONRPC_REQUEST_ID", _names.JSONRPC_REQUEST_ID),
        (f"{INCUBATING}.attributes.rpc_attributes", "RPC_RESPONSE_STATUS_CODE", _names.RPC_RESPONSE_STATUS_CODE),
        (f"{STABLE}.attributes.network_attributes", "NETWORK_TRANSPORT", _names.NETWORK_TRANSPORT),
        (f"{STABLE}.attributes.error_attributes", "ERROR_TYPE", _names.ERROR_TYPE),
        (f"{INCUBATING}.metrics.mcp_metrics", "MCP_SERVER_OPERATION_DURATION", _names.MCP_SERVER_OPERATION_DURATION),
    ],
)
def test_names_match_the_installed_semantic_conventions(module, constant, ours):
    try:
        installed = getattr(importlib.import_module(module), constant)
    except (ImportError, AttributeError):
        pytest.skip(f"{module}.{constant} is not in the installed semantic conventions")
    assert installed == ours


def test_execute_tool_is_a_known_operation_name():
    try:
        known = importlib.import_module(f"{INCUBATING}.attributes.gen_ai_attributes").GenAiOperationNameValues
    except (ImportError, AttributeError):
        pytest.skip("GenAiOperationNameValues is not in the installed semantic conventions")
    values = {member.value for member in known}
    assert _names.GEN_AI_OPERATION_EXECUTE_TOOL in values


def test_the_package_exports_only_its_public_surface():
    assert mcp_guard.telemetry.__all__ == ["RequestSpan", "Telemetry", "telemetry_from_env"]
    assert all(hasattr(mcp_guard.telemetry, name) for name in mcp_guard.telemetry.__all__)
