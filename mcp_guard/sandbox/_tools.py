"""What a sandbox tool is, and the result shapes Stripe's MCP servers use."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_guard.sandbox._sandbox import ToolCall

ToolRunner = Callable[["ToolCall"], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SandboxTool:
    """One tool of a catalog: its wire definition and the function that runs it."""

    name: str
    description: str
    properties: dict[str, Any]
    run: ToolRunner
    required: tuple[str, ...] = ()
    annotations: dict[str, Any] = field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        """The ``tools/list`` entry, camelCase as on the wire."""
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        tool: dict[str, Any] = {"name": self.name, "description": self.description,
                                "inputSchema": schema}
        if self.annotations:
            tool["annotations"] = dict(self.annotations)
        return tool


def json_result(body: Any, *, is_error: bool = False) -> dict[str, Any]:
    """One text content item holding JSON, as both Stripe servers answer."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": json.dumps(body, indent=2)}]}
    if is_error:
        result["isError"] = True
    return result


def text_result(text: str, *, is_error: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
    if is_error:
        result["isError"] = True
    return result


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


LIMIT = integer("A limit on the number of objects to be returned, between 1 and 100.",
                minimum=1, maximum=100)

READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True,
             "openWorldHint": True}
WRITE = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False,
         "openWorldHint": True}
DESTRUCTIVE = {**WRITE, "destructiveHint": True}
