"""FastMCP's bare proxy (`create_proxy`) over a stdio upstream: the peer mcp-guard is measured against.

Run by benchmarks/run.py from its own virtual environment (benchmarks/.venv-peers, made by
`make bench`): fastmcp brings dozens of packages the product does not need.

    python fastmcp_proxy.py UPSTREAM_COMMAND ARGS...
"""

import sys

from fastmcp.client.transports import StdioTransport
from fastmcp.server import create_proxy

command, *args = sys.argv[1:]
create_proxy(StdioTransport(command=command, args=args)).run(transport="stdio", show_banner=False)
