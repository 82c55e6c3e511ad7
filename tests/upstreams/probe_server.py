#!/usr/bin/env python3
"""A tiny raw stdio MCP server for lifecycle tests.

    --pid-file F        write this process's pid to F (so a test can check it was shut down)
    --hang-initialize   read requests forever, answer none (like @stripe/mcp 0.3.x offline)
    --ignore-stdin-eof  keep running after stdin closes (so shutdown must escalate to signals)

Tool `environment` returns this process's environment and argv, as a leak probe.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    args = sys.argv[1:]
    if "--pid-file" in args:
        with open(args[args.index("--pid-file") + 1], "w") as file:
            file.write(str(os.getpid()))
    for line in sys.stdin:
        message = json.loads(line)
        if "--hang-initialize" in args or "id" not in message or "method" not in message:
            continue
        method = message["method"]
        if method == "initialize":
            result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                      "serverInfo": {"name": "probe", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "environment", "inputSchema": {"type": "object"}}]}
        elif method == "tools/call":
            payload = {"environ": dict(os.environ), "argv": sys.argv}
            result = {"content": [{"type": "text", "text": json.dumps(payload)}]}
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
        sys.stdout.flush()
    if "--ignore-stdin-eof" in args:
        while True:
            time.sleep(60)


if __name__ == "__main__":
    main()
