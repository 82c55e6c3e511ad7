"""Loading a config: interpolation, paths, search order, and errors that name file and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcp_guard.config import Mode, default_config_path, load_config
from mcp_guard.errors import ConfigError

MINIMAL = """
upstream: {command: npx, args: ["-y", "@stripe/mcp@0.3.3"]}
profiles:
  test:
    mode: test
    api_key: ${STRIPE_TEST_KEY}
    audit: {dir: /tmp/audit/test, retention_days: 90}
"""
KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE"


def write(tmp_path: Path, text: str, name: str = "mcp-guard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ if environ is not None else {"STRIPE_TEST_KEY": KEY})
    return str(info.value)


def test_a_valid_config_loads_with_its_key_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    loaded = load_config(path, {"STRIPE_TEST_KEY": KEY})
    profile = loaded.profile("test")
    assert loaded.path == path
    assert profile.mode is Mode.TEST and profile.name == "test"
    assert profile.api_key is not None and profile.api_key.get_secret_value() == KEY
    assert KEY not in repr(profile)
    assert loaded.upstream_for("test").args == ["-y", "@stripe/mcp@0.3.3"]


def test_a_missing_variable_names_the_file_the_key_and_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    message = error_of(path, {})
    assert message.startswith(f"{path}: profiles.test.api_key: environment variable STRIPE_TEST_KEY is not set")


def test_defaults_and_escapes_in_interpolation(tmp_path: Path) -> None:
    path = write(tmp_path, """
        upstream: {command: "${NODE:-npx}", args: ["$${LITERAL}", "${A}-${B:-b}"]}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY:-}", audit: {dir: /tmp/a}}
    """)
    loaded = load_config(path, {"A": "a"})
    upstream = loaded.upstream_for("test")
    assert upstream.command == "npx"
    assert upstream.args == ["${LITERAL}", "a-b"]
    assert loaded.profile("test").api_key is None  # empty means no key


def test_a_malformed_reference_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("${STRIPE_TEST_KEY}", "${STRIPE TEST}"))
    assert "profiles.test.api_key: malformed variable reference" in error_of(path)


def test_an_unknown_operation_names_the_file_the_key_and_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    allowed_operations: [writ]\n")
    assert error_of(path) == (
        f"{path}: profiles.test.allowed_operations[0]: 'writ' is not one of read, list, search, create, update, delete or other"
    )


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    blocked_operation: [create]\n")
    assert error_of(path) == f"{path}: profiles.test.blocked_operation: unknown key; did you mean 'blocked_operations'?"


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "profiles:\n  live: {mode: live}\n")
    assert error_of(path) == f"{path}: profiles.live.audit: required key is missing"


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    arguments: {max_limit: 0}\n    mode: prod\n")
    message = error_of(path)
    assert f"{path}: profiles.test.arguments.max_limit:" in message
    assert "'prod' is not one of test or live" in message


def test_a_bad_upstream_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("{command: npx, ", "{command: npx, url: 'https://mcp.stripe.com', "))
    assert error_of(path) == f"{path}: upstream: give exactly one of 'command' (stdio) or 'url' (streamable HTTP)"


def test_a_bad_redaction_section_is_named_without_pydantic_internals(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    redaction: {no_such_option: true}\n")
    message = error_of(path)
    assert message.startswith(f"{path}: profiles.test.redaction.no_such_option: unknown key")
    assert "RedactionSettings" not in message and "literal" not in message
    assert load_config(write(tmp_path, MINIMAL + "    redaction: 'off'\n", "off.yaml"), {"STRIPE_TEST_KEY": KEY}).profile("test").redaction == "off"


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "profiles:\n  test: {mode: test\n  live: x\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3:") and "YAML syntax error" in message


@pytest.mark.parametrize("text", ["", "- a list\n", "just a string\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    assert "top level must be a mapping" in error_of(write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such config file"


def test_a_key_value_never_appears_in_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("${STRIPE_TEST_KEY}", f"[{KEY}]"))
    message = error_of(path)
    assert "profiles.test.api_key" in message and KEY not in message


def test_tool_rules_are_validated(tmp_path: Path) -> None:
    base = MINIMAL + "    tools:\n"
    assert "give 'operation' or 'decision'" in error_of(write(tmp_path, base + "      x: {}\n"))
    assert "same tool as tools.list_customers" in error_of(write(tmp_path, base + "      list_customers: {decision: deny}\n      ListCustomers: {decision: deny}\n"))
    assert "stripe_api_operation_id" in error_of(write(tmp_path, base + "      stripe_api_read: {operation: read}\n"))


def test_an_unknown_profile_names_the_file_and_the_known_profiles(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, MINIMAL), {"STRIPE_TEST_KEY": KEY})
    with pytest.raises(ConfigError, match=r"mcp-guard\.yaml: no profile 'prod' \(known profiles: test\)"):
        loaded.profile("prod")


def test_a_profile_upstream_overrides_the_top_level_and_none_at_all_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, """
        profiles:
          test: {mode: test, audit: {dir: /tmp/a}, upstream: {url: "https://mcp.stripe.com"}}
          other: {mode: test, audit: {dir: /tmp/b}}
    """)
    loaded = load_config(path, {})
    assert loaded.upstream_for("test").url == "https://mcp.stripe.com"
    with pytest.raises(ConfigError, match="profile 'other' has no upstream"):
        loaded.upstream_for("other")


def test_audit_dirs_expand_home_and_resolve_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write(tmp_path, """
        upstream: {command: npx, cwd: "~/work"}
        profiles:
          test: {mode: test, audit: {dir: "~/audit"}}
          live: {mode: live, audit: {dir: "state/audit"}}
    """)
    loaded = load_config(path, {})
    assert loaded.profile("test").audit.dir == tmp_path / "home" / "audit"
    assert loaded.profile("live").audit.dir == tmp_path / "state" / "audit"
    assert loaded.config.upstream is not None and loaded.config.upstream.cwd == str(tmp_path / "home" / "work")


# --- search order


def test_without_a_path_the_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, MINIMAL)
    chosen = write(tmp_path, MINIMAL, "chosen.yaml")
    assert load_config(None, {"MCP_GUARD_CONFIG": str(chosen), "STRIPE_TEST_KEY": KEY}).path == chosen


def test_an_environment_variable_pointing_nowhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such config file \(from \$MCP_GUARD_CONFIG\)"):
        load_config(None, {"MCP_GUARD_CONFIG": str(tmp_path / "missing.yaml")})


def test_without_a_path_the_user_config_then_the_default_and_never_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    environ = {"HOME": str(home), "STRIPE_TEST_KEY": KEY}
    write(work, MINIMAL)  # a cloned repository's permissive policy: never picked up
    assert load_config(None, environ).path == default_config_path()
    user = home / ".config" / "mcp-guard" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(MINIMAL)
    assert load_config(None, environ).path == user
