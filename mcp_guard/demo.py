"""`mcp-guard demo`: scripted sessions of a real MCP client through mcp-guard to the sandbox.

Nothing here is simulated: the MCP SDK's client starts `mcp-guard run` as a child process over
pipes, and mcp-guard starts the built-in Stripe sandbox the same way. The transcript shows what the
client saw under the shipped `test` profile, then under the stricter `live` profile, and then the
sandbox's own write journal and the audit trails as evidence.

Each session is one `_guarded_session` call with its profile and script of calls. The live
session runs against the sandbox's live-mode data set (`--livemode`): a live profile withholds
any result whose `livemode` is false.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcp_guard.audit import RecordFilter, format_table, read_records, select, verify_audit_dir
from mcp_guard.config import default_config_path
from mcp_guard.errors import GuardError

# Made-up keys of the right shape: each profile accepts only its own kind, and the sandbox ignores them.
DEMO_KEY = "sk_test_51DEMOmcpGuardNotARealKey00000000000000000000000000"
DEMO_LIVE_KEY = "rk_live_51DEMOmcpGuardNotARealKey00000000000000000000000000"
SESSION_TIMEOUT_SECONDS = 120  # a whole scripted session; the sandbox answers in milliseconds


@dataclass(frozen=True)
class Act:
    """One tools/call of a scripted session."""

    title: str
    tool: str
    arguments: dict[str, Any]


REFUND = {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "pi_demo", "amount": 5000}}

TEST_SCRIPT = (
    Act("An allowed read: the first customer (PII redacted, ids and amounts intact)",
        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}}),
    Act("An allowed read: a payment intent with its charge (secrets and card data redacted)",
        "stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents", "parameters": {"limit": 1, "expand": ["data.latest_charge"]}}),
    Act("A write: a refund through stripe_api_write", "stripe_api_write", REFUND),
    Act("A smuggled write: the same refund through the read dispatcher",
        "stripe_api_read", {"stripe_api_operation_id": "PostRefunds", "parameters": {"payment_intent": "pi_demo"}}),
    Act("A read over the profile's limit cap",
        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1000}}),
    Act("A tool mcp-guard cannot classify (unknown means denied)", "send_stripe_mcp_feedback", {"feedback": "hello"}),
)

LIVE_SCRIPT = (
    Act("An allowed read under live rules: a page within live's cap (stricter redaction)",
        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 2}}),
    Act("A search on fields live allows (status, amount, currency, created, the kept booking_id)",
        "stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntentsSearch",
                            "parameters": {"query": "status:'requires_payment_method' AND currency:'usd'", "limit": 1}}),
    Act("A search that filters customers on email: Stripe's search syntax can probe what redaction hides",
        "stripe_api_read", {"stripe_api_operation_id": "GetCustomersSearch", "parameters": {"query": "email~'gmail'"}}),
    Act("A page of 50: within test's cap of 100, above live's cap of 25",
        "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 50}}),
    Act("Expanding the customer behind each charge: live denies PII-heavy expansions",
        "stripe_api_read", {"stripe_api_operation_id": "GetCharges", "parameters": {"limit": 1, "expand": ["data.customer"]}}),
    Act("The same refund: blocked in live too", "stripe_api_write", REFUND),
)


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


@dataclass(frozen=True)
class _Setup:
    workdir: Path
    journal: Path
    env: dict[str, str]

    def sandbox(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "mcp_guard.sandbox", "--catalog", "hosted", "--journal", str(self.journal), *extra]


async def _session(out: Transcript, workdir: Path) -> None:
    setup = _Setup(
        workdir,
        workdir / "sandbox-writes.jsonl",
        {
            "MCP_GUARD_STATE_DIR": str(workdir / "state"),
            "MCP_GUARD_PSEUDONYM_KEY_FILE": str(workdir / "pseudonym.key"),
            "STRIPE_TEST_KEY": DEMO_KEY,
            "STRIPE_LIVE_KEY": DEMO_LIVE_KEY,
            "MCP_GUARD_LOG_LEVEL": "WARNING",
        },
    )
    out.step("What the sandbox offers when a client connects to it directly (no guard)")
    direct = StdioServerParameters(command=sys.executable, args=setup.sandbox()[1:-2], env=setup.env)
    async with stdio_client(direct) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        upstream_tools = [tool.name for tool in (await session.list_tools()).tools]
    out.line(", ".join(upstream_tools))

    await _guarded_session(out, setup, "test", setup.sandbox(), TEST_SCRIPT, upstream_tools)
    await _guarded_session(out, setup, "live", setup.sandbox("--livemode"), LIVE_SCRIPT, upstream_tools)

    out.step("Evidence 1: the sandbox's own journal of executed writes")
    writes = setup.journal.read_text().splitlines() if setup.journal.exists() else []
    out.line(f"{len(writes)} writes executed" + ("" if not writes else ":\n" + "\n".join(writes)))

    for profile in ("test", "live"):
        audit_dir = workdir / "state" / "audit" / profile
        out.step(f"Evidence 2: the {profile} profile's audit trail ({audit_dir})")
        records = select(read_records(audit_dir), RecordFilter())
        out.line(format_table(records))
        report = verify_audit_dir(audit_dir)
        out.line(f"hash chain: {'verified' if report.ok else 'BROKEN'} ({len(records)} records)")


async def _guarded_session(
    out: Transcript, setup: _Setup, profile: str, sandbox: list[str], acts: Sequence[Act], upstream_tools: list[str]
) -> None:
    """One client session through `mcp-guard run --profile PROFILE -- SANDBOX`, playing `acts`."""
    guard = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_guard", "run", "--profile", profile, "--config", str(default_config_path()), "--", *sandbox],
        env=setup.env,
    )
    stderr_path = setup.workdir / f"mcp-guard-{profile}.stderr"
    try:
        # A small local file, opened once per session: the SDK hands its descriptor to the child as stderr.
        with open(stderr_path, "w") as errlog, anyio.fail_after(SESSION_TIMEOUT_SECONDS):  # noqa: ASYNC230
            async with stdio_client(guard, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                init = await session.initialize()
                out.step(f"The client connects through mcp-guard (profile '{profile}', the shipped default policy)")
                out.line(f"server: {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")
                tools = [tool.name for tool in (await session.list_tools()).tools]
                out.step(f"tools/list through mcp-guard ({profile})")
                out.line(f"listed: {', '.join(tools)}")
                out.line(f"hidden: {', '.join(sorted(set(upstream_tools) - set(tools))) or '(none)'}")
                for act in acts:
                    await _call(out, session, f"{profile}: {act.title}", act.tool, act.arguments)
    except Exception as exc:  # a demo that breaks says why in one line, not with a traceback
        lines = stderr_path.read_text().strip().splitlines() if stderr_path.exists() else []
        raise GuardError(f"demo: the {profile} session failed: {lines[-1] if lines else exc}") from exc


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
    stream.write("\nDone. `mcp-guard check --profile live` prints the live policy; `mcp-guard test` runs its policy cases.\n")
    return 0
