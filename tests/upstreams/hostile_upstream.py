#!/usr/bin/env python3
"""A raw stdio MCP upstream that misbehaves on request, for fault and hostile-input tests.

    --received F        append every line received to F (proof of what reached the upstream)
    --pid-file F        write this process's pid to F
    --stderr-at-start F copy file F to stderr before reading anything
    --stderr-on-initialize F
                        on `initialize`, copy file F to stderr and never answer it (like
                        @stripe/mcp 0.3.x offline, which prints its fetch error and hangs)
    --extra-tools F     list the tool names of the JSON list in file F too (look-alikes, say;
                        a call to one is answered "unknown tool")
    --page-size N       answer tools/list N tools at a time (nextCursor is the next offset)
    --tasks             advertise the 2025-11-25 `tasks` capability and accept task-augmented
                        tools/call (answering with a task, as a task-capable server would)

Tools (all `read`-safe names; the test's profile allows them):
- `raw {"line": T}`: answer with the line T verbatim, "@ID@" replaced by the request's id as JSON
  and "@NESTED:N@" by N nested arrays; so a test can send what no well-behaved server would (deep
  nesting, NaN, "\\ud800", huge lines) without its own arguments nesting that deep.
  With `"latin1": true` each character of T is written as the one byte it stands for, so
  "\\u00ff" becomes the byte 0xFF: lines that are not UTF-8.
- `ask_raw {"line": T}`: send the line T (a request or notification of the upstream's own,
  "@ID@" replaced by a fresh id) to the client, then answer `sent`.
- `flood_stderr {"bytes": N}`: answer `flooding`, then write N bytes of log lines to stderr
  (from a thread: requests keep being served meanwhile).
- `echo`: its arguments back as JSON text.   `hang`: never answers.
- `die {"stderr_bytes": N, "exit_time_file": F}`: write N bytes of error lines (with personal
  data) to stderr, then "dying on request", write its time.monotonic() to F, and exit with code 7,
  answering nothing.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from typing import Any

TOOLS = ["raw", "ask_raw", "flood_stderr", "echo", "hang", "die"]


def option(name: str) -> str | None:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args else None


def send_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def respond(request_id: Any, result: dict[str, Any]) -> None:
    send_line(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}))


def copy_to_stderr(path: str) -> None:
    with open(path) as file:
        sys.stderr.write(file.read())
    sys.stderr.flush()


def flood_stderr(size: int) -> None:
    line = ("upstream log line " + "x" * 100 + "\n").encode()
    while size > 0:
        os.write(2, line)  # blocks while mcp-guard does not read: that is the point
        size -= len(line)


def expand(line: str) -> str:
    """"@NESTED:N@" -> N nested arrays around a 1 (the arguments that carry the line stay shallow)."""
    return re.sub(r"@NESTED:(\d+)@", lambda m: "[" * int(m.group(1)) + "1" + "]" * int(m.group(1)), line)


def burst_stderr(size: int) -> None:
    line = b"Error: card 4242424242424242 of jenny.rosen@example.com was declined;" + b" retrying after a failure" * 5 + b"\n"
    block = line * 1000
    for _ in range(size // len(block)):
        os.write(2, block)  # blocks while mcp-guard does not drain stderr


def text(value: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": value}]}


def call_tool(request_id: Any, params: dict[str, Any]) -> None:
    name, arguments = params.get("name"), params.get("arguments") or {}
    if "--tasks" in sys.argv and isinstance(params.get("task"), dict):
        respond(request_id, {"task": {"taskId": "task-1", "status": "working", "createdAt": "2026-01-01T00:00:00Z", "ttl": 60000}})
        return
    if name == "raw":
        line = expand(arguments["line"]).replace("@ID@", json.dumps(request_id))
        if arguments.get("latin1"):
            sys.stdout.buffer.write(line.encode("latin-1") + b"\n")
            sys.stdout.buffer.flush()
        else:
            send_line(line)
    elif name == "ask_raw":
        send_line(expand(arguments["line"]).replace("@ID@", json.dumps("upstream-1")))
        respond(request_id, text("sent"))
    elif name == "flood_stderr":
        threading.Thread(target=flood_stderr, args=(int(arguments["bytes"]),)).start()
        respond(request_id, text("flooding"))
    elif name == "echo":
        respond(request_id, text(json.dumps(arguments, sort_keys=True)))
    elif name == "hang":
        return
    elif name == "die":
        burst_stderr(int(arguments.get("stderr_bytes", 0)))
        sys.stderr.write("hostile: dying on request\n")
        sys.stderr.flush()
        if arguments.get("exit_time_file"):  # CLOCK_MONOTONIC is one clock for every process here
            with open(arguments["exit_time_file"], "w") as out:
                out.write(repr(time.monotonic()))
        os._exit(7)
    else:
        send_line(json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"unknown tool {name}"}}))


def extra_tools() -> list[str]:
    path = option("--extra-tools")
    if path is None:
        return []
    with open(path) as file:
        names: list[str] = json.load(file)
    return names


def tools_page(names: list[str], cursor: str | None) -> dict[str, Any]:
    """All the tools, or with --page-size N the N after `cursor` (an offset) and the next cursor."""
    size = int(option("--page-size") or len(names) or 1)
    start = int(cursor or 0)
    page: dict[str, Any] = {"tools": [{"name": name, "inputSchema": {"type": "object"}} for name in names[start:start + size]]}
    if start + size < len(names):
        page["nextCursor"] = str(start + size)
    return page


def main() -> None:
    received, pid_file = option("--received"), option("--pid-file")
    if pid_file:
        with open(pid_file, "w") as file:
            file.write(str(os.getpid()))
    if at_start := option("--stderr-at-start"):
        copy_to_stderr(at_start)
    for line in sys.stdin:
        if received:
            with open(received, "a") as file:
                file.write(line)
        message = json.loads(line)
        if "id" not in message or "method" not in message:
            continue
        method, request_id, params = message["method"], message["id"], message.get("params") or {}
        if method == "initialize":
            if on_initialize := option("--stderr-on-initialize"):
                copy_to_stderr(on_initialize)
                continue  # and never answer
            capabilities: dict[str, Any] = {"tools": {}}
            if "--tasks" in sys.argv:
                capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
            respond(request_id, {"protocolVersion": params.get("protocolVersion", "2025-11-25"), "capabilities": capabilities,
                                 "serverInfo": {"name": "hostile", "version": "1"}})
        elif method == "tools/list":
            respond(request_id, tools_page(TOOLS + extra_tools(), params.get("cursor")))
        elif method == "tools/call":
            call_tool(request_id, params)
        elif method.startswith("tasks/"):
            respond(request_id, {"taskId": "task-1", "status": "completed"})
        else:
            respond(request_id, {})


if __name__ == "__main__":
    main()
