"""`mcp-guard install`: run as a process with a temporary HOME, then the installed entry is started
the way each client starts it (the MCP SDK's stdio client, the client's own substitution of the
key placeholder) against the built-in sandbox."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.cli.conftest import FAKE_TEST_KEY, Cli, write_sandbox_config

# Where each client's file lands (relative to HOME, or to the working directory for project files),
# its servers key, and what the client puts in place of the key variable's value when it starts the server.
CLIENTS: dict[str, tuple[str, str, str]] = {
    "cursor": ("~/.cursor/mcp.json", "mcpServers", "${env:STRIPE_TEST_KEY}"),
    "claude-desktop": ("~/.config/Claude/claude_desktop_config.json", "mcpServers", "<your rk_test_ or sk_test_ key>"),
    "vscode": ("./.vscode/mcp.json", "servers", "${input:stripe-test-key}"),
    "claude-code": ("./.mcp.json", "mcpServers", "${STRIPE_TEST_KEY}"),
}


def client_file(client: str, home: Path, workdir: Path) -> Path:
    where = CLIENTS[client][0]
    return home / where[2:] if where.startswith("~/") else workdir / where[2:]


def read_entry(path: Path, key: str, name: str = "stripe-test") -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(path.read_text())[key][name]
    return entry


async def start_like_a_client(entry: dict[str, Any], placeholder: str) -> tuple[set[str], Any, Any]:
    """Substitute the key as the client would, start the entry's command, list tools, read, write."""
    env = {name: FAKE_TEST_KEY if value == placeholder else value for name, value in entry.get("env", {}).items()}
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}
            listed = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 1}})
            refund = await session.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostRefunds", "parameters": {"amount": 1}})
    return names, listed, refund


@pytest.mark.anyio
@pytest.mark.parametrize("client", sorted(CLIENTS))
async def test_an_installed_entry_starts_a_guarded_session_as_the_client_would(
    client: str, cli: Cli, home: Path, workdir: Path, tmp_path: Path, mcp_guard_bin: str
) -> None:
    config = write_sandbox_config(tmp_path / "cfg")
    done = await anyio.to_thread.run_sync(lambda: cli("install", client, "--profile", "test", "--config", str(config)))
    assert done.returncode == 0, done.stderr
    path = client_file(client, home, workdir)
    assert done.stdout.startswith(f"{path}: added server 'stripe-test'\n")
    _, key, placeholder = CLIENTS[client]
    entry = read_entry(path, key)

    assert entry["command"] == mcp_guard_bin and os.path.isabs(entry["command"])
    assert entry["args"] == ["run", "--profile", "test", "--config", str(config)]
    assert entry["env"]["STRIPE_TEST_KEY"] == placeholder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if client in ("vscode", "claude-code"):
        assert entry["type"] == "stdio"
    if client == "vscode":
        assert json.loads(path.read_text())["inputs"] == [
            {"type": "promptString", "id": "stripe-test-key", "description": "STRIPE_TEST_KEY: rk_test_ or sk_test_ key for mcp-guard profile test", "password": True}
        ]
    if client == "claude-desktop":
        assert "/usr/bin" in entry["env"]["PATH"].split(os.pathsep)

    names, listed, refund = await start_like_a_client(entry, placeholder)
    assert "stripe_api_read" in names and "stripe_api_write" not in names
    assert not listed.is_error and '"cus_' in listed.content[0].text
    assert refund.is_error is True


def test_the_installed_entry_never_holds_a_key_even_when_one_is_set(cli: Cli, home: Path) -> None:
    done = cli("install", "cursor", "--profile", "test", env={"STRIPE_TEST_KEY": FAKE_TEST_KEY})
    assert done.returncode == 0, done.stderr
    text = (home / ".cursor" / "mcp.json").read_text()
    assert FAKE_TEST_KEY not in text + done.stdout
    assert read_entry(home / ".cursor" / "mcp.json", "mcpServers")["args"] == ["run", "--profile", "test"]


def test_other_servers_and_settings_are_kept_and_the_file_is_backed_up_first(cli: Cli, home: Path) -> None:
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir()
    original = '{"theme": "dark", "mcpServers": {"github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "ghp_secret"}}}}'
    path.write_text(original)
    path.chmod(0o640)
    done = cli("install", "cursor", "--profile", "live")
    assert done.returncode == 0, done.stderr
    document = json.loads(path.read_text())
    assert document["theme"] == "dark"
    assert document["mcpServers"]["github"] == {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "ghp_secret"}}
    assert document["mcpServers"]["stripe-live"]["env"] == {"STRIPE_LIVE_KEY": "${env:STRIPE_LIVE_KEY}"}
    backups = list(path.parent.glob("mcp.json.bak-*"))
    assert [b.read_text() for b in backups] == [original]
    assert f"(backup: {backups[0]})" in done.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_dry_run_prints_a_masked_diff_and_writes_nothing(cli: Cli, home: Path) -> None:
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir()
    original = '{"mcpServers": {"github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "ghp_secret"}}}}'
    path.write_text(original)
    done = cli("install", "cursor", "--profile", "test", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert '+    "stripe-test": {\n' in done.stdout
    assert '+        "STRIPE_TEST_KEY": "${env:STRIPE_TEST_KEY}"\n' in done.stdout
    assert "ghp_secret" not in done.stdout and '"GITHUB_TOKEN": "***"' in done.stdout
    assert path.read_text() == original
    assert list(path.parent.iterdir()) == [path]


def test_a_dry_run_of_a_new_file_diffs_against_nothing(cli: Cli, home: Path) -> None:
    done = cli("install", "claude-desktop", "--profile", "test", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"--- /dev/null\n+++ {home / '.config' / 'Claude' / 'claude_desktop_config.json'}\n")
    assert not (home / ".config").exists()


def test_installing_again_changes_nothing_and_keeps_a_key_the_user_filled_in(cli: Cli, home: Path) -> None:
    assert cli("install", "claude-desktop", "--profile", "test").returncode == 0
    path = home / ".config" / "Claude" / "claude_desktop_config.json"
    document = json.loads(path.read_text())
    document["mcpServers"]["stripe-test"]["env"]["STRIPE_TEST_KEY"] = FAKE_TEST_KEY  # what the user does next
    path.write_text(json.dumps(document))
    again = cli("install", "claude-desktop", "--profile", "test")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{path}: server 'stripe-test' is already installed; nothing changed\n"
    assert json.loads(path.read_text()) == document
    assert not list(path.parent.glob("*.bak-*"))


def test_a_different_entry_of_the_same_name_is_refused_unless_forced(cli: Cli, home: Path) -> None:
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir()
    original = {"mcpServers": {"stripe-test": {"command": "npx", "args": ["-y", "@stripe/mcp"], "env": {"STRIPE_SECRET_KEY": "sk_test_x"}}}}
    path.write_text(json.dumps(original))
    refused = cli("install", "cursor", "--profile", "test")
    assert refused.returncode == 1
    assert refused.stderr == f"mcp-guard: {path}: a different server 'stripe-test' is already there; --force replaces it (after a backup), --name NAME adds another\n"
    assert json.loads(path.read_text()) == original
    forced = cli("install", "cursor", "--profile", "test", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith(f"{path}: replaced server 'stripe-test' (backup: ")
    assert read_entry(path, "mcpServers")["args"] == ["run", "--profile", "test"]
    renamed = cli("install", "cursor", "--profile", "live", "--name", "stripe-prod")
    assert renamed.returncode == 0
    assert set(json.loads(path.read_text())["mcpServers"]) == {"stripe-test", "stripe-prod"}


def test_a_client_file_that_is_not_plain_json_is_left_alone(cli: Cli, workdir: Path) -> None:
    path = workdir / ".vscode" / "mcp.json"
    path.parent.mkdir()
    path.write_text('{\n  // my servers\n  "servers": {}\n}\n')
    done = cli("install", "vscode", "--profile", "test")
    assert done.returncode == 1
    assert done.stderr.startswith(f"mcp-guard: {path}:2: not plain JSON")
    assert len(done.stderr.splitlines()) == 1
    assert path.read_text() == '{\n  // my servers\n  "servers": {}\n}\n'


def test_user_scope_writes_the_users_files(cli: Cli, home: Path) -> None:
    assert cli("install", "vscode", "--profile", "test", "--user").returncode == 0
    assert cli("install", "claude-code", "--profile", "test", "--user").returncode == 0
    assert read_entry(home / ".config" / "Code" / "User" / "mcp.json", "servers")["type"] == "stdio"
    assert read_entry(home / ".claude.json", "mcpServers")["env"] == {"STRIPE_TEST_KEY": "${STRIPE_TEST_KEY}"}


def test_a_config_named_by_the_environment_is_pinned_in_the_entry(cli: Cli, home: Path, tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "cfg")
    done = cli("install", "cursor", "--profile", "test", env={"MCP_GUARD_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    assert read_entry(home / ".cursor" / "mcp.json", "mcpServers")["args"] == ["run", "--profile", "test", "--config", str(config)]


def test_an_unknown_profile_is_one_line_and_writes_nothing(cli: Cli, home: Path) -> None:
    done = cli("install", "cursor", "--profile", "staging")
    assert done.returncode == 1
    assert done.stderr.startswith("mcp-guard: ") and "no profile 'staging' (known profiles: test, live)" in done.stderr
    assert not (home / ".cursor").exists()


def test_an_oauth_profile_gets_an_entry_without_env_and_a_login_hint(cli: Cli, home: Path) -> None:
    config = Path(__file__).resolve().parents[2] / "examples" / "oauth" / "mcp-guard.yaml"
    done = cli("install", "cursor", "--profile", "live", "--config", str(config))
    assert done.returncode == 0, done.stderr
    entry = read_entry(home / ".cursor" / "mcp.json", "mcpServers", "stripe-live")
    assert entry["args"] == ["run", "--profile", "live", "--config", str(config)]
    assert "env" not in entry
    assert f"run `mcp-guard login --profile live --config {config}` once" in done.stdout
