"""`mcp-guard test` without a path: the cases beside the config `run` would load, from any directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from mcp_guard.config import default_config_path
from tests.cli.conftest import Cli, write_sandbox_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CASES = len(yaml.safe_load((ROOT / "policies" / "default_test.yaml").read_text())["cases"])


def write_cases(directory: Path, name: str, *, config: str | None) -> Path:
    """One passing and one named case against the sandbox config's `test` profile."""
    header = f"config: {config}\n" if config is not None else ""
    path = directory / name
    path.write_text(header + textwrap.dedent("""
        cases:
          - {name: reads the balance, profile: test, tool: retrieve_balance, expect: allow}
          - {name: refuses a refund, profile: test, tool: create_refund, expect: deny, rule: profiles.test.blocked_operations}
    """))
    return path


def test_without_a_config_the_packaged_defaults_cases_run(cli: Cli) -> None:
    done = cli("test")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"config: {default_config_path()}"
    assert lines[-1] == f"{SHIPPED_CASES} passed, 0 failed"
    assert f"ok    {default_config_path().parent / 'default_test.yaml'}: live refuses a refund through stripe_api_write" in lines


def test_the_config_named_by_the_environment_brings_its_own_cases(cli: Cli, tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "policy")
    cases = write_cases(tmp_path / "policy", "mcp-guard_test.yaml", config=None)  # config: defaults to mcp-guard.yaml beside it
    done = cli("test", env={"MCP_GUARD_CONFIG": str(config)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"config: {config}",
        f"ok    {cases}: reads the balance",
        f"ok    {cases}: refuses a refund",
        "2 passed, 0 failed",
    ]


def test_the_user_config_dir_is_used_before_the_packaged_default(cli: Cli, home: Path) -> None:
    directory = home / ".config" / "mcp-guard"
    write_sandbox_config(directory).rename(directory / "config.yaml")
    write_cases(directory, "config_test.yaml", config="config.yaml")
    done = cli("test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"config: {directory / 'config.yaml'}"
    assert done.stdout.splitlines()[-1] == "2 passed, 0 failed"


def test_a_case_files_config_resolves_beside_it_whatever_the_working_directory(cli: Cli, tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "elsewhere" / "policy")
    write_cases(config.parent, "a_test.yaml", config="mcp-guard.yaml")
    (tmp_path / "cwd").mkdir()
    done = cli("test", "--config", str(config), cwd=tmp_path / "cwd")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "2 passed, 0 failed"


def test_a_config_without_cases_beside_it_fails_the_run(cli: Cli, tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "bare")
    done = cli("test", "--config", str(config))
    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [f"no policy cases found in {config.parent} (*_test.yaml beside mcp-guard.yaml)", "0 passed, 0 failed"]


def test_an_environment_variable_naming_no_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    done = cli("test", env={"MCP_GUARD_CONFIG": str(tmp_path / "missing.yaml")})
    assert done.returncode == 1
    assert done.stderr == f"mcp-guard: {tmp_path / 'missing.yaml'}: no such config file (from $MCP_GUARD_CONFIG)\n"


def test_paths_and_a_config_together_are_bad_usage(cli: Cli, tmp_path: Path) -> None:
    done = cli("test", str(ROOT / "policies"), "--config", str(ROOT / "policies" / "default.yaml"))
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_explicit_paths_keep_working(cli: Cli) -> None:
    done = cli("test", str(ROOT / "policies"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"{SHIPPED_CASES} passed, 0 failed"
