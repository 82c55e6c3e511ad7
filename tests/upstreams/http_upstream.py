#!/usr/bin/env python3
"""A minimal streamable-HTTP MCP upstream (JSON responses, no SSE) that misbehaves on request.

Prints `listening http://127.0.0.1:PORT/mcp` on stdout once it serves, and `hanging ID` when a
`hang` call arrives (so a test can kill it mid-call).

    --hang-delete               never answer the DELETE that ends a session
    --initialize-status CODE    answer `initialize` with this HTTP status and a plain-text body

Tools: `echo` (its arguments back as JSON text) and `hang` (never answers).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SESSION_ID = "hostile-session-1"
TOOLS = [{"name": name, "inputSchema": {"type": "object"}} for name in ("echo", "hang")]


def option(name: str) -> str | None:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Mcp-Session-Id", SESSION_ID)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply(405)  # no server-initiated stream

    def do_DELETE(self) -> None:
        if "--hang-delete" in sys.argv:
            threading.Event().wait()
        self._reply(200)

    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "id" not in message:
            self._reply(202)
            return
        method, params = message.get("method"), message.get("params") or {}
        if method == "initialize" and (status := option("--initialize-status")):
            self._reply(int(status), b"Unauthorized", "text/plain")
            return
        if method == "initialize":
            result: dict[str, Any] = {"protocolVersion": params.get("protocolVersion", "2025-11-25"), "capabilities": {"tools": {}},
                                      "serverInfo": {"name": "http-hostile", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": TOOLS}
        elif method == "tools/call" and params.get("name") == "hang":
            print(f"hanging {message['id']}", flush=True)
            threading.Event().wait()
            return
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": json.dumps(params.get("arguments") or {}, sort_keys=True)}]}
        else:
            result = {}
        self._reply(200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode())


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening http://127.0.0.1:{server.server_address[1]}/mcp", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
