"""mcp-guard: a policy-enforcing MCP proxy for Stripe."""

from mcp_guard.errors import GuardError
from mcp_guard.operations import Operation

__version__ = "0.1.0"
__all__ = ["GuardError", "Operation", "__version__"]
