"""The sandbox itself, independent of MCP transport: a catalog of tools over one store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp_guard.sandbox import _hosted, _legacy
from mcp_guard.sandbox._journal import WriteJournal
from mcp_guard.sandbox._operations import execute, get_operation
from mcp_guard.sandbox._store import SandboxStore, StripeError
from mcp_guard.sandbox._tools import SandboxTool

Catalog = Literal["hosted", "legacy"]
CATALOGS: tuple[Catalog, ...] = ("hosted", "legacy")


class UnknownToolError(LookupError):
    """A ``tools/call`` named a tool this catalog does not have."""


@dataclass(slots=True)
class ToolCall:
    """One ``tools/call`` in progress; tool runners execute Stripe operations through it."""

    sandbox: Sandbox
    tool: str
    arguments: dict[str, Any]
    stripe_account: str | None = None

    def execute(self, operation_id: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """Execute any known operation, read or write: the sandbox is naive on purpose."""
        if self.stripe_account is not None and not self.stripe_account.startswith("acct_"):
            raise StripeError(f"Invalid Stripe-Account: {self.stripe_account!r}",
                              param="stripe_context")
        op = get_operation(operation_id)
        result = execute(self.sandbox.store, op, parameters)
        if op.is_write:
            self.sandbox.journal.record(tool=self.tool, operation=op.operation_id, result=result)
        return result

    def record_side_effect(self, operation: str, result: dict[str, Any]) -> None:
        """Journal a tool that changes something outside Stripe objects (feedback, analytics)."""
        self.sandbox.journal.record(tool=self.tool, operation=operation, result=result)


class Sandbox:
    """An offline stand-in for Stripe's MCP server: ``hosted`` or ``legacy`` (0.2.5) catalog."""

    def __init__(self, catalog: Catalog = "hosted", *, seed: int = 0,
                 journal_path: Path | None = None, livemode: bool = False) -> None:
        if catalog not in CATALOGS:
            raise ValueError(f"unknown catalog {catalog!r}; expected one of {CATALOGS}")
        self.catalog = catalog
        self.store = SandboxStore(seed, livemode=livemode)
        self.journal = WriteJournal(journal_path)
        tools = _hosted.TOOLS if catalog == "hosted" else _legacy.TOOLS
        self.tools: dict[str, SandboxTool] = {t.name: t for t in tools}

    def list_tools(self) -> list[dict[str, Any]]:
        return [tool.definition() for tool in self.tools.values()]

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None, *,
                  stripe_account: str | None = None) -> dict[str, Any]:
        """Run a tool; returns the ``CallToolResult`` as a wire dict."""
        tool = self.tools.get(name)
        if tool is None:
            raise UnknownToolError(name)
        return tool.run(ToolCall(self, name, dict(arguments or {}), stripe_account))
