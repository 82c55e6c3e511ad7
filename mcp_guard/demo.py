"""`mcp-guard demo`: a scripted session of a real MCP client through mcp-guard to the sandbox.

Nothing here is simulated: the MCP SDK's client starts `mcp-guard run` as a child process over
pipes, and mcp-guard starts the built-in Stripe sandbox the same way. The transcript shows what the
client saw, and then the sandbox's own write journal and the audit trail as evidence.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcp_guard.audit import RecordFilter, format_table, read_records, select, verify_audit_dir

DEMO_KEY = "sk_test_51DEMOmcpGuardNotARealKey00000000000000000000000000"
PROFILE = "test"


def default_config_path() -> Path:
    return Path(str(resources.files("mcp_guard") / "data" / "default.yaml"))


class Transcript:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._step = 0

    def heading(self, text: str) -> None:
        self._out.write(f"\n{text}\n{'=' * len(text)}\n")

    def step(self, text: str) -> None:
        self._step += 1
        self._out.write(f"\n[{self._step}] {text}\n")

    def line(self, text: str = "", indent: int = 4) -> None:
        self._out.write(textwrap.indent(text, " " * indent) + "\n")


def _text_of(result: Any) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def _excerpt(text: str, limit: int = 1400) -> str:
    try:
        text = json.dumps(json.loads(text), indent=2)
    except ValueError:
        pass
    return text if len(text) <= limit else text[:limit] + "\n... (truncated)"


async def _session(out: Transcript, workdir: Path) -> None:
    journal = workdir / "sandbox-writes.jsonl"
    sandbox = [sys.executable, "-m", "mcp_guard.sandbox", "--catalog", "hosted", "--journal", str(journal)]
    env = {
        "MCP_GUARD_STATE_DIR": str(workdir / "state"),
        "MCP_GUARD_PSEUDONYM_KEY_FILE": str(workdir / "pseudonym.key"),
        "STRIPE_TEST_KEY": DEMO_KEY,
        "MCP_GUARD_LOG_LEVEL": "WARNING",
    }
    guard = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_guard", "run", "--profile", PROFILE, "--config", str(default_config_path()), "--", *sandbox],
        env=env,
    )
    direct = StdioServerParameters(command=sys.executable, args=sandbox[1:-2], env=env)

    out.step("What the sandbox offers when a client connects to it directly (no guard)")
    async with stdio_client(direct) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        upstream_tools = [tool.name for tool in (await session.list_tools()).tools]
    out.line(", ".join(upstream_tools))

    with open(workdir / "mcp-guard.stderr", "w") as errlog:
        async with stdio_client(guard, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            out.step(f"The client connects through mcp-guard (profile '{PROFILE}', the shipped default policy)")
            out.line(f"server: {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")

            tools = [tool.name for tool in (await session.list_tools()).tools]
            out.step("tools/list through mcp-guard")
            out.line(f"listed: {', '.join(tools)}")
            out.line(f"hidden: {', '.join(sorted(set(upstream_tools) - set(tools))) or '(none)'}")

            await _call(out, session, "An allowed read: the first customer (PII redacted, ids and amounts intact)",
                        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}})
            await _call(out, session, "An allowed read: a payment intent with its charge (secrets and card data redacted)",
                        "stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents", "parameters": {"limit": 1, "expand": ["data.latest_charge"]}})
            await _call(out, session, "A write: a refund through stripe_api_write",
                        "stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "pi_demo", "amount": 5000}})
            await _call(out, session, "A smuggled write: the same refund through the read dispatcher",
                        "stripe_api_read", {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "pi_demo"}})
            await _call(out, session, "A read over the profile's limit cap",
                        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1000}})
            await _call(out, session, "A tool mcp-guard cannot classify (unknown means denied)",
                        "send_stripe_mcp_feedback", {"feedback": "hello"})

    out.step("Evidence 1: the sandbox's own journal of executed writes")
    writes = journal.read_text().splitlines() if journal.exists() else []
    out.line(f"{len(writes)} writes executed" + ("" if not writes else ":\n" + "\n".join(writes)))

    audit_dir = workdir / "state" / "audit" / PROFILE
    out.step(f"Evidence 2: the audit trail ({audit_dir})")
    records = select(read_records(audit_dir), RecordFilter())
    out.line(format_table(records))
    report = verify_audit_dir(audit_dir)
    out.line(f"hash chain: {'verified' if report.ok else 'BROKEN'} ({len(records)} records)")


async def _call(out: Transcript, session: ClientSession, title: str, tool: str, arguments: dict[str, Any]) -> None:
    out.step(title)
    out.line(f"tools/call {tool} {json.dumps(arguments)}")
    result = await session.call_tool(tool, arguments)
    verdict = "isError: " if getattr(result, "is_error", False) else "result: "
    out.line(verdict + _excerpt(_text_of(result)))


def run_demo(stream: TextIO = sys.stdout) -> int:
    out = Transcript(stream)
    out.heading("mcp-guard demo: a real MCP client, mcp-guard, and the built-in Stripe sandbox")
    with tempfile.TemporaryDirectory(prefix="mcp-guard-demo-") as tmp:
        anyio.run(_session, out, Path(tmp))
    stream.write("\nDone. Run `make test` for the full test suite.\n")
    return 0
