"""mcp-guard in front of Stripe's real npm packages, offline.

Two upstreams, each a real, pinned `@stripe/mcp` run by node with a test-only preload:
- 0.3.3, the stdio relay to https://mcp.stripe.com, its fetch rewritten to the project's sandbox
  serving the hosted catalog over streamable HTTP;
- 0.2.5, local tools through stripe-node, pointed at a fake Stripe REST API.
Through both, under a read-only profile: writes are neither listed nor callable (and never arrive
upstream), reads come back redacted with ids and amounts intact, every request is audited, and
the key travels only in the environment / the Authorization header.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fake_stripe_rest import FakeStripeRest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from realworld_support import (
    FAKE_RESTRICTED_KEY,
    HostedSandbox,
    audit_records,
    cmdline_text,
    environ_of,
    guard_and_upstream_pids,
    guarded_session,
    require_node_tools,
    text_of,
    write_guard_config,
)

import nodetools
from mcp_guard.sandbox import (
    PLANTED_CARD_NUMBER,
    PLANTED_CUSTOMER_EMAIL,
    PLANTED_EMAIL,
    PLANTED_SECRET_KEY,
    build_fixtures,
)

pytestmark = [pytest.mark.realworld, pytest.mark.anyio]

SESSION_TIMEOUT = 60  # seconds for one whole guarded session (node start-up included)
FIXTURES = build_fixtures()  # the same made-up data the sandbox and the fake REST API serve
FIRST_PI = FIXTURES["payment_intents"][0]
FIRST_CUSTOMER = FIXTURES["customers"][0]
FIRST_INVOICE = FIXTURES["invoices"][0]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")



def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class StripeUpstream:
    """One real @stripe/mcp version behind the guard, and what the test knows about it."""

    name: str
    upstream: dict[str, Any]  # the config's `upstream:` section
    write_tools: set[str]  # exposed by the package, must be hidden by the read-only profile
    read_tools: set[str]  # must stay listed
    write_calls: list[tuple[str, dict[str, Any]]]  # each must be refused
    payment_intents_call: tuple[str, dict[str, Any]]  # an allowed read of payment intents
    pii_call: tuple[str, dict[str, Any]]  # an allowed read full of contact PII
    pii_id: str  # an id the PII read must still show
    pii_strings: list[str]  # values the PII read must no longer show
    received_writes: Callable[[], list[Any]]  # writes that reached "Stripe"
    seen_token_hashes: Callable[[], list[str]]  # sha256 of every bearer token "Stripe" saw

    def bare_parameters(self) -> StdioServerParameters:
        """The same upstream without the guard (key in env, as the guard would pass it)."""
        return StdioServerParameters(command=self.upstream["command"], args=self.upstream["args"],
                                     env={**self.upstream["env"], "STRIPE_SECRET_KEY": FAKE_RESTRICTED_KEY})


def node_options(preload: Path) -> str:
    return f'--require "{preload}"'


def stripe_0_3_3(sandbox: HostedSandbox, tmp_path: Path) -> StripeUpstream:
    seen_auth = tmp_path / "seen-auth.jsonl"
    refund = {"payment_intent": FIRST_PI["id"], "amount": 100}

    def seen() -> list[str]:
        lines = seen_auth.read_text().splitlines() if seen_auth.exists() else []
        return [json.loads(line)["token_sha256"] for line in lines]

    return StripeUpstream(
        name="@stripe/mcp@0.3.3",
        upstream={
            "command": nodetools.node_binary(),
            "args": [str(nodetools.entry_point("stripe-mcp-0.3.3"))],
            "env": {
                "NODE_OPTIONS": node_options(nodetools.PRELOAD_HOSTED_FETCH),
                "MCP_GUARD_TEST_HOSTED_URL": sandbox.url,
                "MCP_GUARD_TEST_SEEN_AUTH_FILE": str(seen_auth),
            },
        },
        write_tools={"stripe_api_write", "create_refund"},
        read_tools={"stripe_api_read", "get_balance_summary"},
        write_calls=[
            ("stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": refund}),
            # A write smuggled through the read dispatcher: the operation id decides, not the tool.
            ("stripe_api_read", {"stripe_api_operation_id": "PostRefunds", "parameters": refund}),
            ("create_refund", refund),
        ],
        payment_intents_call=("stripe_api_read", {"stripe_api_operation_id": "GetPaymentIntents",
                                                  "parameters": {"limit": 3}}),
        pii_call=("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 3}}),
        pii_id=FIRST_CUSTOMER["id"],
        pii_strings=[PLANTED_CUSTOMER_EMAIL, PLANTED_EMAIL, PLANTED_SECRET_KEY, PLANTED_CARD_NUMBER,
                     FIRST_CUSTOMER["phone"], FIRST_CUSTOMER["address"]["line1"]],
        received_writes=sandbox.writes,
        seen_token_hashes=seen,
    )


LEGACY_WRITES: list[tuple[str, dict[str, Any]]] = [
    ("create_customer", {"name": "Ada Lovelace", "email": "ada@example.org"}),
    ("create_product", {"name": "Widget"}),
    ("create_price", {"product": "prod_FAKE", "unit_amount": 500, "currency": "usd"}),
    ("create_payment_link", {"price": "price_FAKE", "quantity": 1}),
    ("create_invoice", {"customer": FIRST_CUSTOMER["id"], "days_until_due": 30}),
    ("create_invoice_item", {"customer": FIRST_CUSTOMER["id"], "price": "price_FAKE", "invoice": FIRST_INVOICE["id"]}),
    ("finalize_invoice", {"invoice": FIRST_INVOICE["id"]}),
    ("create_refund", {"payment_intent": FIRST_PI["id"], "amount": 100}),
    ("cancel_subscription", {"subscription": FIXTURES["subscriptions"][0]["id"]}),
    ("update_subscription", {"subscription": FIXTURES["subscriptions"][0]["id"], "proration_behavior": "none"}),
    ("create_coupon", {"name": "TENOFF", "percent_off": 10, "amount_off": 0}),
    ("update_dispute", {"dispute": FIXTURES["disputes"][0]["id"], "submit": True}),
]
LEGACY_READS = {"list_customers", "list_products", "list_prices", "list_invoices", "retrieve_balance",
                "list_payment_intents", "list_subscriptions", "search_stripe_documentation", "list_coupons",
                "list_disputes"}


def stripe_0_2_5(api: FakeStripeRest) -> StripeUpstream:
    def seen() -> list[str]:
        return [sha256(header.removeprefix("Bearer ")) for header in list(api.journal.authorizations)]

    return StripeUpstream(
        name="@stripe/mcp@0.2.5",
        upstream={
            "command": nodetools.node_binary(),
            "args": [str(nodetools.entry_point("stripe-mcp-0.2.5")), "--tools=all"],
            "env": {
                "NODE_OPTIONS": node_options(nodetools.PRELOAD_STRIPE_NODE),
                "MCP_GUARD_TEST_STRIPE_API": api.url,
            },
        },
        write_tools={name for name, _ in LEGACY_WRITES},
        read_tools=LEGACY_READS,
        write_calls=LEGACY_WRITES,
        payment_intents_call=("list_payment_intents", {"limit": 3}),
        pii_call=("list_invoices", {"limit": 3}),
        pii_id=FIRST_INVOICE["id"],
        pii_strings=[FIRST_INVOICE["customer_email"], FIRST_INVOICE["customer_phone"],
                     FIRST_INVOICE["customer_address"]["line1"]],
        received_writes=api.journal.snapshot_writes,
        seen_token_hashes=seen,
    )


@pytest.fixture(params=["0.3.3", "0.2.5"], ids=["stripe-mcp-0.3.3-hosted", "stripe-mcp-0.2.5-legacy"])
def stripe(request: pytest.FixtureRequest, tmp_path: Path) -> StripeUpstream:
    require_node_tools("stripe-mcp-0.3.3", "stripe-mcp-0.2.5")
    if request.param == "0.3.3":
        return stripe_0_3_3(request.getfixturevalue("hosted_sandbox"), tmp_path)
    return stripe_0_2_5(request.getfixturevalue("fake_rest"))


@pytest.fixture
def config(stripe: StripeUpstream, tmp_path: Path) -> Path:
    return write_guard_config(tmp_path, stripe.upstream)


@asynccontextmanager
async def bare_session(stripe: StripeUpstream, errlog_path: Path) -> AsyncIterator[ClientSession]:
    """The package without the guard: the controls that show what the guard prevents."""
    with errlog_path.open("w") as errlog:
        async with stdio_client(stripe.bare_parameters(), errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def call(session: ClientSession, name: str, arguments: dict[str, Any]) -> Any:
    return await session.call_tool(name, arguments)


# --- tests ----------------------------------------------------------------------------------


async def test_read_only_profile_hides_every_write_tool(stripe: StripeUpstream, config: Path, tmp_path: Path) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        # Control: the package itself offers the write tools...
        async with bare_session(stripe, tmp_path / "bare.err") as bare:
            bare_names = {tool.name for tool in (await bare.list_tools()).tools}
        assert stripe.write_tools <= bare_names, f"{stripe.name} no longer offers {stripe.write_tools - bare_names}"
        # ...and through the guard they are gone, while the reads stay.
        async with guarded_session(config, tmp_path / "guard.err") as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
    assert not names & stripe.write_tools, f"write tools listed through the guard: {names & stripe.write_tools}"
    assert stripe.read_tools <= names, f"read tools missing through the guard: {stripe.read_tools - names}"


async def test_write_calls_are_refused_and_never_reach_stripe(stripe: StripeUpstream, config: Path,
                                                             tmp_path: Path) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with guarded_session(config, tmp_path / "guard.err") as session:
            await session.list_tools()
            for name, arguments in stripe.write_calls:
                result = await call(session, name, arguments)
                assert result.is_error, f"{name} {arguments} was not refused: {text_of(result)[:300]}"
            # The upstream is alive and answering: the refusals were the guard's, not a dead pipe.
            still_alive = await call(session, *stripe.payment_intents_call)
            assert not still_alive.is_error
        assert stripe.received_writes() == [], f"a write reached Stripe through the guard: {stripe.received_writes()}"

        # Control: the same write sent to the package directly does arrive, so the check above
        # would catch a guard that let it through.
        name, arguments = stripe.write_calls[0]
        async with bare_session(stripe, tmp_path / "bare.err") as bare:
            await bare.call_tool(name, arguments)
    assert len(stripe.received_writes()) == 1


async def test_allowed_reads_are_redacted_but_keep_ids_and_amounts(stripe: StripeUpstream, config: Path,
                                                                   tmp_path: Path) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with guarded_session(config, tmp_path / "guard.err") as session:
            await session.list_tools()
            intents = await call(session, *stripe.payment_intents_call)
            pii = await call(session, *stripe.pii_call)
    intents_text, pii_text = text_of(intents), text_of(pii)
    assert not intents.is_error and not pii.is_error, (intents_text[:300], pii_text[:300])

    assert FIRST_PI["id"] in intents_text
    assert re.search(rf'"amount":\s*{FIRST_PI["amount"]}\b', intents_text), intents_text[:500]
    assert '"currency":' in intents_text and '"usd"' in intents_text
    assert "_secret_" not in intents_text and FIRST_PI["client_secret"] not in intents_text
    assert FIRST_PI["receipt_email"] not in intents_text

    assert stripe.pii_id in pii_text
    for value in stripe.pii_strings:
        assert value not in pii_text, f"{value!r} reached the client"
    assert not EMAIL.search(intents_text + pii_text), EMAIL.search(intents_text + pii_text)


async def test_every_request_is_audited_once(stripe: StripeUpstream, config: Path, tmp_path: Path) -> None:
    write_name, write_arguments = stripe.write_calls[0]
    read_name, read_arguments = stripe.payment_intents_call
    with anyio.fail_after(SESSION_TIMEOUT):
        async with guarded_session(config, tmp_path / "guard.err") as session:
            await session.list_tools()
            await call(session, read_name, read_arguments)
            await call(session, write_name, write_arguments)
    records = audit_records(tmp_path / "audit")
    summary = [(r["method"], r["tool"], r["decision"]) for r in records]
    assert summary == [
        ("initialize", None, "allow"),
        ("tools/list", None, "allow"),
        ("tools/call", read_name, "allow"),
        ("tools/call", write_name, "deny"),
    ]
    assert records[3]["outcome"] == "denied"
    audit_text = "".join(path.read_text() for path in (tmp_path / "audit").glob("*.jsonl"))
    assert FAKE_RESTRICTED_KEY not in audit_text
    assert FIRST_PI["client_secret"] not in audit_text


async def test_key_reaches_the_upstream_only_by_env_and_header(stripe: StripeUpstream, config: Path,
                                                               tmp_path: Path) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with guarded_session(config, tmp_path / "guard.err") as session:
            guard_pid, children = guard_and_upstream_pids(config)
            nodes = [pid for pid in children if cmdline_text(pid).startswith(nodetools.node_binary())]
            assert len(nodes) == 1, f"expected one node upstream under mcp-guard, found {children}"
            result = await call(session, *stripe.payment_intents_call)
            assert not result.is_error
            assert FAKE_RESTRICTED_KEY not in cmdline_text(guard_pid)
            assert FAKE_RESTRICTED_KEY not in cmdline_text(nodes[0])
            assert environ_of(nodes[0]).get("STRIPE_SECRET_KEY") == FAKE_RESTRICTED_KEY
    seen = stripe.seen_token_hashes()
    assert seen, "the upstream never called Stripe"
    assert set(seen) == {sha256(FAKE_RESTRICTED_KEY)}
