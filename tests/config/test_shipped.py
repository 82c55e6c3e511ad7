"""The shipped default config, its packaged copy, and the client examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_guard.config import Mode, default_config_path, load_config
from mcp_guard.operations import WRITE_OPERATIONS, Operation

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default.yaml"


def test_the_packaged_default_is_an_exact_copy_of_policies_default() -> None:
    assert default_config_path().read_bytes() == DEFAULT.read_bytes()


def test_the_packaged_cases_are_an_exact_copy_of_policies_default_test() -> None:
    """`mcp-guard test` without a path runs the packaged default's cases from an installed wheel."""
    packaged = default_config_path().parent / "default_test.yaml"
    assert packaged.read_bytes() == (ROOT / "policies" / "default_test.yaml").read_bytes()


def test_the_default_loads_without_any_environment() -> None:
    loaded = load_config(DEFAULT, {})
    assert set(loaded.config.profiles) == {"test", "live"}
    assert loaded.upstream_for("live").args == ["-y", "@stripe/mcp@0.3.3"]


def test_every_setting_line_of_the_default_is_commented() -> None:
    for number, line in enumerate(DEFAULT.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            assert " # " in line, f"policies/default.yaml:{number} has no comment: {line!r}"


def test_both_profiles_are_read_only_and_live_is_stricter() -> None:
    loaded = load_config(DEFAULT, {})
    test, live = loaded.profile("test"), loaded.profile("live")
    assert (test.mode, live.mode) == (Mode.TEST, Mode.LIVE)
    for profile in (test, live):
        assert WRITE_OPERATIONS <= set(profile.blocked_operations)
        assert not WRITE_OPERATIONS & set(profile.allowed_operations)
        assert profile.redaction != "off"
    assert set(live.allowed_operations) <= set(test.allowed_operations)
    assert live.arguments.search_fields is not None and test.arguments.search_fields is None
    assert Operation.OTHER in live.blocked_operations
    assert live.arguments.max_limit is not None and test.arguments.max_limit is not None
    assert live.arguments.max_limit < test.arguments.max_limit
    assert live.arguments.expand_deny and not test.arguments.expand_deny
    assert not live.allow_unrestricted_live_key
    assert live.audit.retention_days > test.audit.retention_days == 90
    assert live.audit.dir != test.audit.dir


def test_audit_dirs_follow_the_state_dir_variable(tmp_path: Path) -> None:
    loaded = load_config(DEFAULT, {"MCP_GUARD_STATE_DIR": str(tmp_path)})
    assert loaded.profile("test").audit.dir == tmp_path / "audit" / "test"


def test_keys_come_from_the_documented_variables() -> None:
    loaded = load_config(DEFAULT, {"STRIPE_TEST_KEY": "rk_test_51Hfake0000FAKE", "STRIPE_LIVE_KEY": "rk_live_51Hfake0000FAKE"})
    assert loaded.profile("test").api_key.get_secret_value() == "rk_test_51Hfake0000FAKE"  # type: ignore[union-attr]
    assert loaded.profile("live").api_key.get_secret_value() == "rk_live_51Hfake0000FAKE"  # type: ignore[union-attr]


EXAMPLES = {
    "cursor/mcp.json": "mcpServers",
    "claude-desktop/claude_desktop_config.json": "mcpServers",
    "vscode/mcp.json": "servers",
}


@pytest.mark.parametrize(("file", "key"), sorted(EXAMPLES.items()))
def test_client_examples_run_each_profile_with_its_key_in_env(file: str, key: str) -> None:
    servers = json.loads((ROOT / "examples" / file).read_text())[key]
    assert set(servers) == {"stripe-test", "stripe-live"}
    for name, variable in (("test", "STRIPE_TEST_KEY"), ("live", "STRIPE_LIVE_KEY")):
        entry = servers[f"stripe-{name}"]
        assert Path(entry["command"]).name == "mcp-guard"
        assert entry["args"] == ["run", "--profile", name]
        assert variable in entry["env"]
        assert not any("_test_" in a or "_live_" in a or "key" in a.lower() for a in entry["args"])
        if key == "servers":
            assert entry["type"] == "stdio"
            assert entry["env"][variable].startswith("${input:")


def test_claude_desktop_uses_an_absolute_command_and_sets_path() -> None:
    servers = json.loads((ROOT / "examples" / "claude-desktop" / "claude_desktop_config.json").read_text())["mcpServers"]
    for entry in servers.values():
        assert Path(entry["command"]).is_absolute()
        assert "PATH" in entry["env"]


def test_the_sandbox_example_runs_the_guard_over_the_sandbox() -> None:
    entry = json.loads((ROOT / "examples" / "sandbox" / "mcp.json").read_text())["mcpServers"]["stripe-sandbox"]
    assert entry["args"] == ["run", "--profile", "test", "--", "mcp-guard", "sandbox"]


def test_the_examples_readme_explains_every_example() -> None:
    readme = (ROOT / "examples" / "README.md").read_text()
    for file in [*EXAMPLES, "sandbox/mcp.json"]:
        assert f"## {file}" in readme


@pytest.mark.parametrize("name", ["mcp-guard.yaml", "sandbox.yaml"])
def test_the_oauth_examples_reach_an_http_upstream_with_oauth_and_hold_no_key(name: str) -> None:
    loaded = load_config(ROOT / "examples" / "oauth" / name, environ={})
    for profile in ("test", "live"):
        upstream = loaded.upstream_for(profile)
        assert upstream.url is not None and upstream.auth == "oauth"
        assert loaded.profile(profile).api_key is None


def test_the_oauth_client_entries_pass_no_key() -> None:
    servers = json.loads((ROOT / "examples" / "oauth" / "mcp.json").read_text())["mcpServers"]
    assert [entry["args"][:3] for entry in servers.values()] == [["run", "--profile", "test"], ["run", "--profile", "live"]]
    assert all("env" not in entry for entry in servers.values())
