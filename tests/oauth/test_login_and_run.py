"""Issue 14 end to end, through real processes: the sandbox's OAuth mode, `mcp-guard login` with
the consent form answered over HTTP, `mcp-guard run` under the MCP SDK's client, `check`, `logout`."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from tests.oauth.support import (
    MCP_GUARD,
    grant_file,
    login,
    oauth_sandbox,
    revoke,
    run_command,
    stored_grant,
    write_oauth_config,
)

pytestmark = pytest.mark.anyio

READ_CUSTOMERS = {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 2}}


@asynccontextmanager
async def guarded_session(config: Path, profile: str, errlog: IO[str], **env: str) -> AsyncIterator[ClientSession]:
    """The MCP SDK's client talking to `mcp-guard run`; the guard's stderr goes to `errlog`."""
    passed = {name: os.environ[name] for name in ("MCP_GUARD_STATE_DIR", "MCP_GUARD_PSEUDONYM_KEY_FILE", "PYTHON_KEYRING_BACKEND")}
    params = StdioServerParameters(command=MCP_GUARD, args=["run", "--profile", profile, "--config", str(config)], env={**passed, **env})
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text_of(result: Any) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def audit_lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for file in sorted(directory.glob("*.jsonl")) for line in file.read_text().splitlines() if line]


async def test_login_then_run_is_a_guarded_session_that_never_shows_the_token(tmp_path: Path) -> None:
    with anyio.fail_after(90):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            logged_in = await login(config, "test")
            assert logged_in.returncode == 0, logged_in.stderr
            checked = await run_command("check", "--profile", "test", "--config", str(config))
            first_tokens = dict(stored_grant("test")["secrets"])
            log_path = tmp_path / "guard.log"
            with log_path.open("w") as errlog:
                async with guarded_session(config, "test", errlog, MCP_GUARD_LOG_LEVEL="DEBUG") as session:
                    listed = await session.list_tools()
                    read = await session.call_tool("stripe_api_read", READ_CUSTOMERS)
                    write = await session.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": {}})
            events = [event["event"] for event in await sandbox.events()]

    assert "logged in" in logged_in.stdout and "test mode acct_" in logged_in.stdout
    assert "/authorize?" in logged_in.stderr and "code_challenge_method=S256" in logged_in.stderr
    assert checked.returncode == 0, checked.stderr
    assert "oauth test grant" in checked.stdout and ": ok" in checked.stdout
    assert "test mode acct_" in checked.stdout and "expires in" in checked.stdout
    assert events[:3] == ["registered", "approved", "issued"] and "bearer_rejected" not in events
    names = {tool.name for tool in listed.tools}
    assert "stripe_api_read" in names and "stripe_api_write" not in names
    customers = json.loads(text_of(read))["data"]
    assert len(customers) == 2 and all(c["email"] in (None, "[redacted:email]") for c in customers)
    assert write.is_error is True and "denied" in text_of(write)
    records = audit_lines(tmp_path / "audit-test")
    fingerprint = f"oauth test grant …{stored_grant('test')['client_id'][-4:]}"
    assert records and all(str(r["key_fingerprint"]).startswith(fingerprint) for r in records)
    # No token, refresh token or client secret anywhere the client, the logs or the audit can see.
    secrets = {v for v in [*first_tokens.values(), *stored_grant("test")["secrets"].values()] if v}
    seen = "\n".join([logged_in.stdout, logged_in.stderr, checked.stdout, checked.stderr, log_path.read_text(),
                      json.dumps(records), text_of(read), text_of(write), json.dumps([t.model_dump() for t in listed.tools])])
    assert "mcp-guard: DEBUG" in seen  # the guard's debug log was captured, so the check below means something
    assert not [secret for secret in secrets if secret in seen]


async def test_a_token_near_expiry_is_refreshed_before_it_is_sent_in_the_middle_of_a_session(tmp_path: Path) -> None:
    # Tokens living 10 s are always inside the 30 s refresh margin: every request refreshes first.
    with anyio.fail_after(90):
        async with oauth_sandbox("--token-ttl", "10") as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            with (tmp_path / "guard.log").open("w") as errlog:
                async with guarded_session(config, "test", errlog) as session:
                    before = await sandbox.count("refreshed")
                    results = [await session.call_tool("stripe_api_read", READ_CUSTOMERS) for _ in range(3)]
                    after = await sandbox.count("refreshed")
            rejected = await sandbox.count("bearer_rejected")
    assert all(result.is_error is not True for result in results)
    assert after >= before + 3  # a refresh before each call of the session
    assert rejected == 0  # no expired token was ever sent


async def test_a_revoked_access_token_is_refreshed_after_the_401_and_the_session_goes_on(tmp_path: Path) -> None:
    with anyio.fail_after(90):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            with (tmp_path / "guard.log").open("w") as errlog:
                async with guarded_session(config, "test", errlog) as session:
                    first = await session.call_tool("stripe_api_read", READ_CUSTOMERS)
                    await revoke(sandbox, "test", "access_token")
                    second = await session.call_tool("stripe_api_read", READ_CUSTOMERS)
            events = [event["event"] for event in await sandbox.events()]
    assert first.is_error is not True and second.is_error is not True
    revoked_at = events.index("revoked")
    assert "bearer_rejected" in events[revoked_at:] and "refreshed" in events[revoked_at:]


async def test_a_grant_revoked_mid_session_answers_the_request_with_the_login_command(tmp_path: Path) -> None:
    with anyio.fail_after(90):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            with (tmp_path / "guard.log").open("w") as errlog:
                async with guarded_session(config, "test", errlog) as session:
                    await revoke(sandbox, "test", "refresh_token")  # the whole grant, as the Dashboard does
                    with pytest.raises(MCPError) as refused:
                        await session.call_tool("stripe_api_read", READ_CUSTOMERS)
            restarted = await run_command("run", "--profile", "test", "--config", str(config))
    assert "revoked or has expired" in str(refused.value) and "mcp-guard login --profile test" in str(refused.value)
    records = audit_lines(tmp_path / "audit-test")
    assert records[-1]["outcome"] == "jsonrpc_error" and "mcp-guard login --profile test" in records[-1]["error"]
    # A new start fails fast, on one line, before serving anything.
    assert restarted.returncode == 1 and restarted.stdout == ""
    assert restarted.stderr.strip().splitlines()[-1].endswith("run `mcp-guard login --profile test`")


async def test_run_without_a_grant_fails_fast_with_one_line_naming_login(tmp_path: Path) -> None:
    config = write_oauth_config(tmp_path, "http://127.0.0.1:9/mcp")  # never contacted
    with anyio.fail_after(30):
        result = await run_command("run", "--profile", "test", "--config", str(config))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == "mcp-guard: profile 'test' has no OAuth grant: run `mcp-guard login --profile test`"


async def test_logout_revokes_the_grant_at_the_server_and_deletes_it(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            logged_out = await run_command("logout", "--profile", "test")
            events = await sandbox.events()
            again = await run_command("logout", "--profile", "test")
    assert logged_out.returncode == 0 and "revoked and deleted" in logged_out.stdout
    assert any(e["event"] == "revoked" and e["kind"] == "grant" for e in events)
    assert not grant_file("test").exists()
    assert again.returncode == 0 and "no OAuth grant is stored" in again.stdout


async def test_a_test_mode_grant_is_refused_for_the_live_profile_and_nothing_is_stored(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            refused = await login(config, "live")
            events = await sandbox.events()
    assert refused.returncode == 1
    assert "reaches a test-mode account but profile 'live' has mode live" in refused.stderr
    assert not grant_file("live").exists()
    assert any(e["event"] == "revoked" and e["kind"] == "grant" for e in events)


async def test_a_live_mode_grant_serves_the_live_profile_and_never_the_test_profile(tmp_path: Path) -> None:
    with anyio.fail_after(90):
        async with oauth_sandbox("--livemode") as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            live = await login(config, "live")
            test = await login(config, "test")
            with (tmp_path / "guard.log").open("w") as errlog:
                async with guarded_session(config, "live", errlog) as session:
                    balance = await session.call_tool("get_balance_summary", {})
    assert live.returncode == 0 and "live mode" in live.stdout
    assert test.returncode == 1 and "reaches a live-mode account but profile 'test' has mode test" in test.stderr
    assert balance.is_error is not True and json.loads(text_of(balance))["livemode"] is True


async def test_the_live_profile_refuses_to_start_when_the_account_the_grant_reaches_is_in_test_mode(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            # A grant whose stored mode says live while the account it reaches is in test mode.
            forged = stored_grant("test") | {"profile": "live", "mode": "live"}
            fd = os.open(grant_file("live"), os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, json.dumps(forged).encode())
            os.close(fd)
            checked = await run_command("check", "--profile", "live", "--config", str(config))
            result = await run_command("run", "--profile", "live", "--config", str(config))
    assert checked.returncode == 0  # offline, the stored grant looks fine
    assert result.returncode == 1 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "reaches a test-mode account but profile 'live' has mode live" in last
    assert last.endswith("run `mcp-guard login --profile live` with a live-mode account")


async def test_two_guards_sharing_a_grant_refresh_it_in_turn_without_spending_each_others_refresh_token(tmp_path: Path) -> None:
    # Every request refreshes (tokens live 10 s, inside the margin) and every refresh rotates the
    # refresh token: a guard that sent a refresh token the other had spent would get invalid_grant.
    results: list[Any] = []
    with anyio.fail_after(120):
        async with oauth_sandbox("--token-ttl", "10") as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
            with (tmp_path / "a.log").open("w") as log_a, (tmp_path / "b.log").open("w") as log_b:
                async with guarded_session(config, "test", log_a) as a, guarded_session(config, "test", log_b) as b:

                    async def calls(session: ClientSession) -> None:
                        for _ in range(3):
                            results.append(await session.call_tool("stripe_api_read", READ_CUSTOMERS))

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(calls, a)
                        tg.start_soon(calls, b)
            refreshed = await sandbox.count("refreshed")
    assert len(results) == 6 and [r for r in results if r.is_error] == []
    assert refreshed >= 6


async def test_run_with_a_grant_but_an_unreachable_upstream_fails_fast_with_one_line(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with oauth_sandbox() as sandbox:
            config = write_oauth_config(tmp_path, sandbox.url)
            assert (await login(config, "test")).returncode == 0
        result = await run_command("run", "--profile", "test", "--config", str(config))  # the sandbox has stopped
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"mcp-guard: could not reach {sandbox.url}: ConnectError"
