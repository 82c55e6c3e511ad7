"""An offline MCP server that behaves like Stripe's, for tests and demos of mcp-guard.

Run it with ``python -m mcp_guard.sandbox [--catalog hosted|legacy] [--http PORT]``. It is
deliberately naive: any dispatcher executes any known operation (a ``PostRefunds`` sent through
``stripe_api_read`` really creates a refund), so only mcp-guard stands between an assistant and
a write. All data is made up and test-mode.
"""

from mcp_guard.sandbox._fixtures import (
    ACCOUNT_ID,
    PLANTED_CARD_NUMBER,
    PLANTED_CUSTOMER_EMAIL,
    PLANTED_EMAIL,
    PLANTED_SECRET_KEY,
    WEBHOOK_SECRET,
    build_fixtures,
)
from mcp_guard.sandbox._hosted import CONNECTED_ACCOUNT_ID
from mcp_guard.sandbox._journal import WriteJournal, read_journal
from mcp_guard.sandbox._operations import OPERATIONS, StripeOperation
from mcp_guard.sandbox._sandbox import CATALOGS, Catalog, Sandbox, UnknownToolError
from mcp_guard.sandbox._server import build_server, serve_http, serve_stdio
from mcp_guard.sandbox._store import SandboxStore, StripeError

__all__ = [
    "ACCOUNT_ID",
    "CATALOGS",
    "CONNECTED_ACCOUNT_ID",
    "Catalog",
    "OPERATIONS",
    "PLANTED_CARD_NUMBER",
    "PLANTED_CUSTOMER_EMAIL",
    "PLANTED_EMAIL",
    "PLANTED_SECRET_KEY",
    "Sandbox",
    "SandboxStore",
    "StripeError",
    "StripeOperation",
    "UnknownToolError",
    "WEBHOOK_SECRET",
    "WriteJournal",
    "build_fixtures",
    "build_server",
    "read_journal",
    "serve_http",
    "serve_stdio",
]
