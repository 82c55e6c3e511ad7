"""An offline MCP server that behaves like Stripe's, for tests and demos of mcp-guard.

Run it with ``mcp-guard sandbox`` or ``python -m mcp_guard.sandbox`` (``--catalog hosted|legacy``,
``--http PORT``, ``--oauth``, ``--livemode``). It is
deliberately naive: any dispatcher executes any known operation (a ``PostRefunds`` sent through
``stripe_api_read`` really creates a refund), so only mcp-guard stands between an assistant and
a write. All data is made up: test mode, or live mode with ``--livemode``.
"""

from mcp_guard.sandbox._fixtures import (
    ACCOUNT_ID,
    LIVE_PLANTED_SECRET_KEY,
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
    "LIVE_PLANTED_SECRET_KEY",
    "OPERATIONS",
    "PLANTED_CARD_NUMBER",
    "PLANTED_CUSTOMER_EMAIL",
    "PLANTED_EMAIL",
    "PLANTED_SECRET_KEY",
    "WEBHOOK_SECRET",
    "Catalog",
    "Sandbox",
    "SandboxStore",
    "StripeError",
    "StripeOperation",
    "UnknownToolError",
    "WriteJournal",
    "build_fixtures",
    "build_server",
    "read_journal",
    "serve_http",
    "serve_stdio",
]
