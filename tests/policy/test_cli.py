"""`mcp-guard check`, `explain` and `test`, run as real processes."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default.yaml"
SK_LIVE = "sk_live_51HfakeUnrestrictedKey000FAKE"
RK_LIVE = "rk_live_51HfakeRestrictedLiveKey00FAKE"
SK_TEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE"


@pytest.fixture
def cli(mcp_guard_bin: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run mcp-guard in an empty directory with an empty HOME and no Stripe keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_CONFIG_HOME", None)

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [mcp_guard_bin, *args], cwd=tmp_path, env={**env, **(extra_env or {})},
            capture_output=True, text=True, timeout=60,
        )

    return run


# --- test


def test_the_shipped_cases_pass(cli) -> None:  # type: ignore[no-untyped-def]
    expected = len(yaml.safe_load((ROOT / "policies" / "default_test.yaml").read_text())["cases"])
    done = cli("test", str(ROOT / "policies"))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"{expected} passed, 0 failed"
    assert sum(line.startswith("ok    ") for line in lines) == expected
    assert any(line.endswith("default_test.yaml: live refuses a refund through stripe_api_write") for line in lines)


def test_a_failing_case_is_named_and_the_run_fails(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = tmp_path / "wrong_test.yaml"
    cases.write_text(textwrap.dedent(f"""
        config: {DEFAULT}
        cases:
          - {{name: test lists customers, profile: test, tool: list_customers, expect: allow}}
          - {{name: live may refund (wrong on purpose), profile: live, tool: stripe_api_write,
              arguments: {{stripe_api_operation_id: PostRefunds}}, expect: allow}}
    """))
    done = cli("test", str(cases))
    assert done.returncode == 1
    assert f"FAIL  {cases}: live may refund (wrong on purpose)" in done.stdout
    assert "expected allow, got deny by profiles.live.blocked_operations" in done.stdout
    assert f"ok    {cases}: test lists customers" in done.stdout
    assert done.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_a_run_without_cases_fails(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    done = cli("test", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "0 passed, 0 failed"


def test_a_malformed_case_file_is_one_line_on_stderr(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = tmp_path / "bad_test.yaml"
    cases.write_text(f"config: {DEFAULT}\ncases:\n  - {{name: half, profile: test}}\n")
    done = cli("test", str(cases))
    assert done.returncode == 1
    assert done.stderr.startswith(f"mcp-guard: {cases}: cases[0] ('half').tool: required key is missing")


# --- check


def test_check_prints_the_effective_policy_of_the_default(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", extra_env={"STRIPE_TEST_KEY": SK_TEST, "STRIPE_LIVE_KEY": RK_LIVE})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "mcp_guard/data/default.yaml" in out.splitlines()[0]
    assert "sha256:" in out.splitlines()[0]
    live = out[out.index("profile live"):]
    assert "mode:         live" in live
    assert "rk_live_…FAKE" in live and "from profiles.live.api_key (from $STRIPE_LIVE_KEY): ok" in live
    assert "allowed:      read, list, search\n" in live
    assert "search:       status, amount, currency, created, metadata[booking_id]" in live
    assert "blocked:      create, update, delete, other" in live
    assert "max_limit:    25" in live
    assert "redaction:    on" in live
    assert "retention 365 days" in live
    assert "max_limit:    100" in out[out.index("profile test"):out.index("profile live")]


def test_check_refuses_an_unrestricted_live_key_without_printing_it(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--profile", "live", extra_env={"STRIPE_LIVE_KEY": SK_LIVE})
    assert done.returncode == 1
    assert "profiles.live.api_key" in done.stderr and "allow_unrestricted_live_key" in done.stderr
    assert "REFUSED" in done.stdout
    assert SK_LIVE not in done.stdout + done.stderr


def test_check_without_a_key_names_the_variable_the_stripe_relay_needs(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--profile", "live")
    assert done.returncode == 1
    assert "profile 'live' has no Stripe key" in done.stderr and "set $STRIPE_LIVE_KEY" in done.stderr
    assert "no key" in done.stdout


def test_check_refuses_a_test_key_in_the_live_profile(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--profile", "live", extra_env={"STRIPE_LIVE_KEY": SK_TEST})
    assert done.returncode == 1 and "test key" in done.stderr


def test_check_accepts_a_restricted_live_key_and_shows_its_fingerprint(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--profile", "live", extra_env={"STRIPE_LIVE_KEY": RK_LIVE})
    assert done.returncode == 0, done.stderr
    assert "rk_live_…FAKE sha256:" in done.stdout and ": ok" in done.stdout
    assert RK_LIVE not in done.stdout


def test_check_names_the_file_and_key_of_a_bad_config(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT.read_text().replace("allowed_operations: [read, list, search]  # search only", "allowed_operations: [writ, list, search]  # search only"))
    done = cli("check", "--config", str(bad))
    assert done.returncode == 1
    assert done.stderr.strip() == f"mcp-guard: {bad}: profiles.live.allowed_operations[0]: 'writ' is not one of read, list, search, create, update, delete or other"


def test_check_warns_when_redaction_is_off(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "off.yaml"
    config.write_text("upstream: {command: npx}\nprofiles:\n  t: {mode: test, redaction: 'off', audit: {dir: a}}\n")
    done = cli("check", "--config", str(config))
    assert done.returncode == 0
    assert "redaction:    OFF" in done.stdout and "warning:" in done.stdout


def test_check_uses_the_config_named_by_the_environment(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "env.yaml"
    config.write_text("upstream: {command: npx}\nprofiles:\n  only: {mode: test, audit: {dir: a}}\n")
    done = cli("check", extra_env={"MCP_GUARD_CONFIG": str(config)})
    assert done.returncode == 0 and "profile only" in done.stdout and str(config) in done.stdout


# --- explain


def test_explain_prints_the_decision_and_its_rule(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("explain", "--profile", "live", "stripe_api_write", "--args", '{"stripe_api_operation_id": "PostRefunds"}')
    assert done.returncode == 0, done.stderr
    rows = dict(line.split(":", 1) for line in done.stdout.splitlines())
    assert {k: v.strip() for k, v in rows.items() if k in ("operation", "decision", "rule", "listed")} == {
        "operation": "create", "decision": "deny", "rule": "profiles.live.blocked_operations", "listed": "no",
    }
    assert "PostRefunds" in rows["reason"]


def test_explain_shows_an_argument_rule(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("explain", "--profile", "live", "list_customers", "--args", '{"limit": 100}')
    assert "rule:       profiles.live.arguments.max_limit" in done.stdout
    assert "decision:   deny" in done.stdout


def test_explain_allows_a_read(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("explain", "--profile", "test", "stripe_api_read", "--args", '{"stripe_api_operation_id": "GetBalance"}')
    assert "decision:   allow" in done.stdout and "basis:      operation id GetBalance" in done.stdout


def test_explain_refuses_bad_args_and_unknown_profiles(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("explain", "--profile", "test", "x", "--args", "{nope").returncode == 2
    assert cli("explain", "--profile", "test", "x", "--args", "[1]").returncode == 2
    unknown = cli("explain", "--profile", "prod", "list_customers")
    assert unknown.returncode == 1 and "no profile 'prod' (known profiles: test, live)" in unknown.stderr
