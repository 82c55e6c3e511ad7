"""The conformance script's comparison must see a difference wherever there is one.

Pure checks of tests/realworld/conformance.py on hand-made result directories (no node needed).
"""

from __future__ import annotations

import json
from pathlib import Path

import conformance


def write_checks(root: Path, scenario: str, checks: list[dict[str, str]]) -> None:
    directory = root / f"server-{scenario}-2026-11-22T02-55-59-821Z"
    directory.mkdir(parents=True)
    (directory / "checks.json").write_text(json.dumps(checks))


def run_of(label: str, root: Path) -> conformance.SuiteRun:
    return conformance.SuiteRun(label, conformance.read_results(root), 1.0)


def test_results_are_read_per_scenario_with_volatile_parts_normalised(tmp_path: Path) -> None:
    write_checks(tmp_path, "dns-rebinding-protection", [
        {"id": "localhost-host-valid-accepted", "status": "FAILURE",
         "errorMessage": "Host 127.0.0.1:40123 refused session 1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
    ])
    assert conformance.read_results(tmp_path) == {
        "dns-rebinding-protection": [
            ("localhost-host-valid-accepted", "FAILURE", "Host HOST:PORT refused session UUID"),
        ],
    }


def test_same_status_with_a_different_error_message_is_a_difference(tmp_path: Path) -> None:
    bare, guarded = tmp_path / "bare", tmp_path / "guarded"
    write_checks(bare, "prompts-get-simple", [{"id": "prompts-get-simple", "status": "FAILURE",
                                              "errorMessage": "MCP error -32602: Prompt not found"}])
    write_checks(guarded, "prompts-get-simple", [{"id": "prompts-get-simple", "status": "FAILURE",
                                                 "errorMessage": "MCP error -32601: method not allowed"}])
    _, differing = conformance.compare(run_of("bare", bare), run_of("guarded", guarded))
    assert differing == ["prompts-get-simple"]


def test_a_scenario_missing_through_the_guard_is_a_difference(tmp_path: Path) -> None:
    bare, guarded = tmp_path / "bare", tmp_path / "guarded"
    write_checks(bare, "ping", [{"id": "ping", "status": "SUCCESS"}])
    write_checks(bare, "tools-list", [{"id": "tools-list", "status": "SUCCESS"}])
    write_checks(guarded, "ping", [{"id": "ping", "status": "SUCCESS"}])
    table, differing = conformance.compare(run_of("bare", bare), run_of("guarded", guarded))
    assert differing == ["tools-list"]
    assert any(line.startswith("ping") and line.rstrip().endswith("yes") for line in table)
