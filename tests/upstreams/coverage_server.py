#!/usr/bin/env python3
"""A raw JSON-lines stdio MCP server that exercises the protocol, for proxy transparency tests.

No SDK on purpose: it emits exactly the bytes a test needs (unknown fields, ``_meta``, vendor
extensions, off-spec results) and records exactly what it received. Run it as a proxy's
upstream: ``python tests/upstreams/coverage_server.py``.

What a test can rely on:
- ``initialize`` answers with every capability, ``serverInfo`` carrying an unknown field, and an
  unknown top-level result field ``x-extra``; the client's initialize params are readable later
  as resource ``coverage://initialize``.
- ``coverage://last-request`` is the last request received (verbatim, ``_meta`` and unknown
  fields included), not counting reads of that resource itself.
- tools/list and resources/list come in two pages (cursors ``page2`` and ``res2``).
- tools: see ``TOOLS``. Server-to-client requests (sampling, elicitation, roots) wait for the
  client's answer while other requests keep being served.
- Debug lines go to stderr only; stdout carries nothing but JSON-RPC lines.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
SUPPORTED_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
PAGE2 = "page2"
RES2 = "res2"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600
PARSE_ERROR = -32700
RESOURCE_NOT_FOUND = -32002

_write_lock = threading.Lock()


def debug(text: str) -> None:
    print(f"coverage: {text}", file=sys.stderr, flush=True)


def send(message: dict[str, Any]) -> None:
    line = json.dumps(message, separators=(",", ":"))
    with _write_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def respond(request_id: Any, result: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def respond_error(request_id: Any, code: int, message: str, data: Any = None) -> None:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    send({"jsonrpc": "2.0", "id": request_id, "error": error})


def notify(method: str, params: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "method": method, "params": params})


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def _tool(name: str, description: str, properties: dict[str, Any] | None = None,
          **extra: Any) -> dict[str, Any]:
    tool = {"name": name, "description": description,
            "inputSchema": {"type": "object", "properties": properties or {}},
            "_meta": {"coverage/tool": name}, "x-unknown-tool-field": {"kept": True}}
    tool.update(extra)
    return tool


STRUCTURED_SCHEMA = {"type": "object", "properties": {"value": {"type": "integer"},
                                                      "label": {"type": "string"}},
                     "required": ["value", "label"]}
TOOLS = [
    _tool("echo", "Returns its arguments as JSON text.", {"text": {"type": "string"}},
          annotations={"readOnlyHint": True}),
    _tool("slow", "Sends progress with the request's progressToken, answers after `ms`; "
          "honours notifications/cancelled.", {"ms": {"type": "integer"},
                                               "steps": {"type": "integer"}}),
    _tool("ask_sampling", "Asks the client for sampling/createMessage and returns its text.",
          {"prompt": {"type": "string"}}),
    _tool("ask_elicitation", "Sends elicitation/create and returns the client's answer.",
          {"message": {"type": "string"}}),
    _tool("ask_roots", "Sends roots/list and returns the client's answer.", {}),
    _tool("log", "Sends notifications/message.", {"level": {"type": "string"},
                                                  "data": {}}),
    _tool("boom", "Always fails with isError.", {}),
    _tool("structured", "Returns structuredContent matching its outputSchema.", {},
          outputSchema=STRUCTURED_SCHEMA),
    _tool("touch_list", "Sends notifications/tools/list_changed.", {}),
    _tool("hang", "Never answers.", {}),
    _tool("die", "Writes a line to stderr and exits with code 7.", {}),
    _tool("vendor", "Returns a result with unknown fields and _meta.", {}),
]
TOOLS_PAGE_SPLIT = 6

RESOURCES = [
    {"uri": "coverage://initialize", "name": "initialize", "mimeType": "application/json",
     "description": "The initialize params this server received."},
    {"uri": "coverage://last-request", "name": "last-request", "mimeType": "application/json",
     "description": "The last request received, verbatim."},
    {"uri": "coverage://static", "name": "static", "mimeType": "text/plain",
     "_meta": {"coverage/resource": True}},
    {"uri": "coverage://blob", "name": "blob", "mimeType": "application/octet-stream"},
]
PROMPTS = [{"name": "greet", "description": "Greets someone.",
            "arguments": [{"name": "who", "description": "Who to greet", "required": True}]}]
COMPLETIONS = ["alice", "alan", "bob", "carol"]


class CoverageServer:
    def __init__(self) -> None:
        self.initialize_params: Any = None
        self.last_request: Any = None
        self.log_level = "info"
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._waiters: dict[Any, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._cancelled: dict[Any, threading.Event] = {}
        self.workers: list[threading.Thread] = []

    def drain(self, timeout: float) -> None:
        """At end of input, give running tools (``slow``) a moment to answer."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    # -- server-to-client requests -------------------------------------------------------------

    def ask_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request to the client and block this worker thread until it answers."""
        with self._id_lock:
            self._next_id += 1
            request_id = f"coverage-{self._next_id}"
            event, slot = threading.Event(), []
            self._waiters[request_id] = (event, slot)
        send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        event.wait()
        return slot[0]

    def on_response(self, message: dict[str, Any]) -> None:
        waiter = self._waiters.pop(message.get("id"), None)
        if waiter is None:
            debug(f"response to unknown id {message.get('id')!r}")
            return
        waiter[1].append(message)
        waiter[0].set()

    # -- dispatch ------------------------------------------------------------------------------

    def handle_line(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            respond_error(None, PARSE_ERROR, "Parse error")
            return
        if not isinstance(message, dict):
            respond_error(None, INVALID_REQUEST, "Batches and non-objects are not supported")
            return
        method = message.get("method")
        if method is None:
            self.on_response(message)
        elif "id" not in message:
            self.on_notification(method, message.get("params") or {})
        else:
            if not (method == "resources/read"
                    and (message.get("params") or {}).get("uri") == "coverage://last-request"):
                self.last_request = message
            self.on_request(message)

    def on_notification(self, method: str, params: dict[str, Any]) -> None:
        if method == "notifications/cancelled":
            event = self._cancelled.get(params.get("requestId"))
            debug(f"cancelled {params.get('requestId')!r} ({'known' if event else 'unknown'})")
            if event is not None:
                event.set()
        else:
            debug(f"notification {method}")

    def on_request(self, message: dict[str, Any]) -> None:
        request_id, method = message["id"], message["method"]
        params = message.get("params") or {}
        if method == "tools/call":
            # Tools may block (sampling, slow, hang): run each in its own thread.
            self._cancelled[request_id] = threading.Event()
            worker = threading.Thread(target=self.call_tool, args=(request_id, params),
                                      daemon=True)
            self.workers.append(worker)
            worker.start()
            return
        handler = getattr(self, "rpc_" + method.replace("/", "_"), None)
        if handler is None:
            respond_error(request_id, METHOD_NOT_FOUND, f"Method not found: {method}")
            return
        try:
            respond(request_id, handler(params))
        except LookupError as exc:
            code = RESOURCE_NOT_FOUND if method == "resources/read" else INVALID_PARAMS
            respond_error(request_id, code, str(exc))

    # -- requests ------------------------------------------------------------------------------

    def rpc_initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        self.initialize_params = params
        requested = params.get("protocolVersion")
        version = requested if requested in SUPPORTED_VERSIONS else PROTOCOL_VERSION
        return {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": True},
                             "resources": {"subscribe": True, "listChanged": True},
                             "prompts": {"listChanged": True}, "logging": {},
                             "completions": {}},
            "serverInfo": {"name": "coverage", "version": "1.0", "x-vendor": "kept"},
            "instructions": "coverage server instructions",
            "x-extra": {"a": 1},
        }

    def rpc_ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def rpc_tools_list(self, params: dict[str, Any]) -> dict[str, Any]:
        cursor = params.get("cursor")
        if cursor is None:
            return {"tools": TOOLS[:TOOLS_PAGE_SPLIT], "nextCursor": PAGE2}
        if cursor == PAGE2:
            return {"tools": TOOLS[TOOLS_PAGE_SPLIT:]}
        raise LookupError(f"Invalid cursor: {cursor}")

    def rpc_resources_list(self, params: dict[str, Any]) -> dict[str, Any]:
        cursor = params.get("cursor")
        if cursor is None:
            return {"resources": RESOURCES[:2], "nextCursor": RES2}
        if cursor == RES2:
            return {"resources": RESOURCES[2:]}
        raise LookupError(f"Invalid cursor: {cursor}")

    def rpc_resources_templates_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"resourceTemplates": [{"uriTemplate": "coverage://item/{id}", "name": "item",
                                       "mimeType": "text/plain"}]}

    def rpc_resources_read(self, params: dict[str, Any]) -> dict[str, Any]:
        uri = params.get("uri", "")
        if uri == "coverage://initialize":
            body = json.dumps(self.initialize_params)
        elif uri == "coverage://last-request":
            body = json.dumps(self.last_request)
        elif uri == "coverage://static":
            body = "static content"
        elif uri == "coverage://blob":
            return {"contents": [{"uri": uri, "mimeType": "application/octet-stream",
                                  "blob": "AAECAwQ="}]}
        elif uri.startswith("coverage://item/"):
            body = f"item {uri.rsplit('/', 1)[1]}"
        else:
            raise LookupError(f"Resource not found: {uri}")
        return {"contents": [{"uri": uri, "mimeType": "application/json", "text": body}]}

    def rpc_resources_subscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        # Answer first, then announce an update of the subscribed resource.
        threading.Timer(0.01, notify, ("notifications/resources/updated",
                                       {"uri": params.get("uri")})).start()
        return {}

    def rpc_resources_unsubscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def rpc_prompts_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"prompts": PROMPTS}

    def rpc_prompts_get(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("name") != "greet":
            raise LookupError(f"Unknown prompt: {params.get('name')}")
        who = (params.get("arguments") or {}).get("who", "world")
        return {"description": "A greeting",
                "messages": [{"role": "user", "content": text(f"Hello, {who}!")}]}

    def rpc_completion_complete(self, params: dict[str, Any]) -> dict[str, Any]:
        prefix = (params.get("argument") or {}).get("value", "")
        values = [v for v in COMPLETIONS if v.startswith(prefix)]
        return {"completion": {"values": values, "total": len(values), "hasMore": False}}

    def rpc_logging_setLevel(self, params: dict[str, Any]) -> dict[str, Any]:
        self.log_level = params.get("level", "info")
        return {}

    # -- tools ---------------------------------------------------------------------------------

    def call_tool(self, request_id: Any, params: dict[str, Any]) -> None:
        name = params.get("name")
        args = params.get("arguments") or {}
        runner = getattr(self, f"tool_{name}", None)
        try:
            if runner is None:
                respond_error(request_id, INVALID_PARAMS, f"Unknown tool: {name}")
                return
            result = runner(request_id, args, params.get("_meta") or {})
            if result is not None:
                respond(request_id, result)
        finally:
            self._cancelled.pop(request_id, None)

    def tool_echo(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        return {"content": [text(json.dumps(args, sort_keys=True))]}

    def tool_slow(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        total_ms, steps = int(args.get("ms", 200)), max(1, int(args.get("steps", 3)))
        token = meta.get("progressToken")
        cancelled = self._cancelled[request_id]
        for step in range(1, steps + 1):
            if cancelled.wait(total_ms / steps / 1000):
                debug(f"slow {request_id!r} cancelled at step {step}")
                return None  # a cancelled request gets no response
            if token is not None:
                notify("notifications/progress", {"progressToken": token, "progress": step,
                                                  "total": steps, "message": f"step {step}"})
        return {"content": [text(f"slow done after {total_ms} ms")]}

    def tool_ask_sampling(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        answer = self.ask_client("sampling/createMessage", {
            "messages": [{"role": "user", "content": text(args.get("prompt", "Say hi"))}],
            "maxTokens": 50})
        if "error" in answer:
            return {"content": [text(f"sampling failed: {answer['error'].get('message')}")],
                    "isError": True}
        content = answer["result"].get("content") or {}
        return {"content": [text(content.get("text", json.dumps(content)))]}

    def tool_ask_elicitation(self, request_id: Any, args: dict[str, Any],
                             meta: dict[str, Any]) -> Any:
        answer = self.ask_client("elicitation/create", {
            "message": args.get("message", "What is your name?"),
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}},
                                "required": ["name"]}})
        return {"content": [text(json.dumps(answer.get("result", answer.get("error"))))],
                "isError": "error" in answer}

    def tool_ask_roots(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        answer = self.ask_client("roots/list", {})
        return {"content": [text(json.dumps(answer.get("result", answer.get("error"))))],
                "isError": "error" in answer}

    def tool_log(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        notify("notifications/message", {"level": args.get("level", "info"),
                                         "logger": "coverage", "data": args.get("data", "hello")})
        return {"content": [text("logged")]}

    def tool_boom(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        return {"content": [text("boom: this tool always fails")], "isError": True}

    def tool_structured(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        value = {"value": 42, "label": "answer"}
        return {"content": [text(json.dumps(value))], "structuredContent": value}

    def tool_touch_list(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        notify("notifications/tools/list_changed", {})
        return {"content": [text("touched")]}

    def tool_hang(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        debug(f"hang {request_id!r}: never answering")
        return None

    def tool_die(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        debug("dying on request with exit code 7")
        sys.stderr.flush()
        os._exit(7)

    def tool_vendor(self, request_id: Any, args: dict[str, Any], meta: dict[str, Any]) -> Any:
        return {"content": [{"type": "text", "text": "vendor", "x-content-extra": 1}],
                "x-vendor-result": {"nested": [1, 2, 3]},
                "_meta": {"coverage/vendor": "abc", "traceparent": "00-" + "1" * 32 + "-"
                          + "2" * 16 + "-01"}}


def main() -> int:
    server = CoverageServer()
    debug("ready")
    for line in sys.stdin:
        if line.strip():
            server.handle_line(line)
    server.drain(timeout=2.0)
    debug("stdin closed, exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
