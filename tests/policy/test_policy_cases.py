"""The policy case runner, in process: discovery, results, malformed files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcp_guard.errors import PolicyTestError
from mcp_guard.policy_cases import discover, run_case_file

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default.yaml"


def case_file(tmp_path: Path, body: str, name: str = "p_test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"config: {DEFAULT}\n" + textwrap.dedent(body))
    return path


def test_the_shipped_cases_all_pass() -> None:
    results = list(run_case_file(ROOT / "policies" / "default_test.yaml"))
    assert len(results) >= 40
    assert [r.name for r in results if not r.passed] == []


def test_a_wrong_expectation_fails_with_what_happened(tmp_path: Path) -> None:
    path = case_file(tmp_path, """
        cases:
          - {name: refund allowed (wrong), profile: live, tool: create_refund, expect: allow}
          - {name: wrong rule, profile: live, tool: create_refund, expect: deny, rule: dispatcher-mismatch}
          - {name: wrong operation, profile: test, tool: list_customers, expect: allow, operation: read}
          - {name: wrong listing, profile: test, tool: list_customers, expect: allow, listed: false}
          - {name: unknown profile, profile: prod, tool: list_customers, expect: allow}
          - {name: right, profile: test, tool: list_customers, expect: allow, rule: profiles.test.allowed_operations}
    """)
    results = {r.name: r for r in run_case_file(path)}
    assert "expected allow, got deny by profiles.live.blocked_operations" in results["refund allowed (wrong)"].problems[0]
    assert results["wrong rule"].problems == ("expected rule dispatcher-mismatch, got profiles.live.blocked_operations",)
    assert results["wrong operation"].problems[0].startswith("expected operation read, got list")
    assert results["wrong listing"].problems == ("expected listed: false, got true",)
    assert "no profile 'prod'" in results["unknown profile"].problems[0]
    assert results["right"].passed


def test_the_config_defaults_to_the_file_beside_it(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(DEFAULT.read_text())
    (tmp_path / "mine_test.yaml").write_text("cases:\n  - {name: a, profile: test, tool: list_customers, expect: allow}\n")
    assert [r.passed for r in run_case_file(tmp_path / "mine_test.yaml")] == [True]


def test_cases_see_only_the_file_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("profiles:\n  p: {mode: test, audit: {dir: /tmp/a}, allowed_operations: ['${OPS}']}\n")
    monkeypatch.setenv("OPS", "create")  # ignored: the case file's env decides
    path = tmp_path / "c_test.yaml"
    path.write_text("env: {OPS: list}\ncases:\n  - {name: a, profile: p, tool: list_customers, expect: allow}\n")
    assert [r.passed for r in run_case_file(path)] == [True]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("cases:\n  - {name: a, profile: test, tool: x, expect: maybe}\n", "cases[0] ('a').expect"),
        ("cases:\n  - {name: a, profile: test, tool: x, expect: allow, colour: red}\n", "cases[0] ('a').colour: unknown key"),
        ("cases:\n  - {name: a, profile: test, tool: x, expect: allow}\n  - {name: a, profile: test, tool: x, expect: allow}\n", "case names must be unique: a"),
        ("cases: [\n", "YAML syntax error"),
    ],
)
def test_a_malformed_case_file_names_the_file_and_the_case(tmp_path: Path, body: str, message: str) -> None:
    path = case_file(tmp_path, body)
    with pytest.raises(PolicyTestError) as info:
        list(run_case_file(path))
    assert str(info.value).startswith(str(path)) and message in str(info.value)


def test_a_broken_config_is_reported_against_the_case_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("profiles: {p: {mode: prod}}\n")
    path = tmp_path / "bad_test.yaml"
    path.write_text("cases:\n  - {name: a, profile: p, tool: x, expect: deny}\n")
    with pytest.raises(PolicyTestError, match=r"bad_test\.yaml: config .*bad\.yaml: .*profiles\.p\.mode"):
        list(run_case_file(path))


def test_discovery_takes_test_files_from_directories_and_any_file_given(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("a_test.yaml", "sub/b_test.yaml", "c.yaml", "sub/d.yml"):
        (tmp_path / name).write_text("")
    assert discover([tmp_path]) == [tmp_path / "a_test.yaml", tmp_path / "sub" / "b_test.yaml"]
    assert discover([tmp_path / "c.yaml"]) == [tmp_path / "c.yaml"]
    with pytest.raises(PolicyTestError, match="no such file or directory"):
        discover([tmp_path / "missing"])
