"""`audit show` through the real CLI: filters, formats, and config-resolved directories."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, format_table, open_audit_log, parse_since


@pytest.fixture
def trail(tmp_path, make_record, FakeClock) -> Path:
    """Three days ago: 2 allowed reads; an hour ago: a denied refund, a tools/list, a live read."""
    now = datetime.now(timezone.utc)
    clock = FakeClock(now - timedelta(days=3))
    directory = tmp_path / "audit"
    with open_audit_log(AuditSettings(dir=directory), "test", clock=clock) as log:
        log.write(make_record(request_id=1))
        log.write(make_record(request_id=2, tool="retrieve_customer", operation="read"))
        clock.now = now - timedelta(hours=1)
        log.write(make_record(request_id=3, tool="create_refund", operation="create", decision="deny",
                              rule="blocked_operations", outcome="denied", duration_ms=0.2))
        log.write(make_record(request_id=4, method="tools/list", tool=None, operation=None, rule=None))
        log.write(make_record(request_id=5, profile="live", mode="live"))
    return directory


def _ids(result) -> list[int]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["request_id"] for line in result.stdout.splitlines()]


def test_show_jsonl_lists_every_record_oldest_first(trail, run_cli):
    assert _ids(run_cli("audit", "show", "--dir", trail, "--format", "jsonl")) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--tool", "create_refund"], [3]),
        (["--decision", "deny"], [3]),
        (["--decision", "allow", "--tool", "list_customers"], [1, 5]),
        (["--method", "tools/list"], [4]),
        (["--outcome", "denied"], [3]),
        (["--since", "2d"], [3, 4, 5]),
        (["--since", "90m"], [3, 4, 5]),
        (["--profile", "live"], [5]),
        (["--limit", "2"], [4, 5]),
        (["--decision", "allow", "--limit", "1"], [5]),
    ],
)
def test_show_filters(trail, run_cli, filters, expected):
    assert _ids(run_cli("audit", "show", "--dir", trail, "--format", "jsonl", *filters)) == expected


def test_show_since_accepts_an_iso_date(trail, run_cli):
    today = datetime.now(timezone.utc) - timedelta(hours=1)
    assert _ids(run_cli("audit", "show", "--dir", trail, "--format", "jsonl", "--since", today.date().isoformat())) == [3, 4, 5]


def test_show_table_has_one_aligned_row_per_record(trail, run_cli):
    result = run_cli("audit", "show", "--dir", trail, "--decision", "deny")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == [
        "TIME", "PROFILE", "CLIENT", "METHOD", "TOOL", "OPERATION", "OPERATION_ID", "DECISION", "RULE", "OUTCOME", "MS"
    ]
    assert row.split()[2:] == [
        "test", "pytest", "tools/call", "create_refund", "create", "-", "deny", "blocked_operations", "denied", "0.2"
    ]
    assert header.index("TOOL") == row.index("create_refund")


def test_show_table_names_the_client_and_stripes_operation_id(tmp_path, make_record, run_cli):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(client={"name": "claude-code", "version": "2.1"}, tool="stripe_api_read", operation_id="GetCustomersCustomer"))
        log.write(make_record(client=None, tool="stripe_api_read", operation_id=None))
    result = run_cli("audit", "show", "--dir", tmp_path)
    header, first, second = result.stdout.splitlines()
    assert first[header.index("CLIENT"):].split()[:5] == ["claude-code", "tools/call", "stripe_api_read", "list", "GetCustomersCustomer"]
    assert second[header.index("CLIENT"):].split()[:5] == ["-", "tools/call", "stripe_api_read", "list", "-"]


def test_show_policy_selects_the_records_made_under_one_config_by_hash_prefix(tmp_path, make_record, run_cli):
    old, new = "a1b2c3d4" + "0" * 56, "A1B2C3D5" + "f" * 56
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.write(make_record(request_id=1, policy_sha256=old))
        log.write(make_record(request_id=2, policy_sha256=new.lower()))
        log.write(make_record(request_id=3))  # written before records carried the policy version
    assert _ids(run_cli("audit", "show", "--dir", tmp_path, "--format", "jsonl", "--policy", "a1b2c3d4")) == [1]
    assert _ids(run_cli("audit", "show", "--dir", tmp_path, "--format", "jsonl", "--policy", new[:12])) == [2]  # any case
    assert _ids(run_cli("audit", "show", "--dir", tmp_path, "--format", "jsonl", "--policy", f"sha256:{old}")) == [1]


@pytest.mark.parametrize("bad", ["a1b2c3d", "not-hex!", "a1b2c3d4" * 9])
def test_show_policy_needs_at_least_8_hex_digits_of_a_sha256(tmp_path, run_cli, bad):
    result = run_cli("audit", "show", "--dir", tmp_path, "--policy", bad)
    assert result.returncode == 2
    assert "--policy" in result.stderr and "at least 8 hex digits" in result.stderr


def test_show_without_matches_says_so(trail, run_cli):
    result = run_cli("audit", "show", "--dir", trail, "--tool", "delete_everything")
    assert result.returncode == 0 and result.stdout.strip() == "no matching audit records"


def test_show_rejects_a_bad_since_with_one_line(trail, run_cli):
    result = run_cli("audit", "show", "--dir", trail, "--since", "last tuesday")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "--since 'last tuesday'" in result.stderr


def test_show_with_a_config_reads_each_profiles_directory(tmp_path, make_record, run_cli):
    for profile in ("test", "live"):
        with open_audit_log(AuditSettings(dir=tmp_path / profile), profile) as log:
            log.write(make_record(profile=profile, mode=profile, tool=f"{profile}_tool"))
    config = tmp_path / "mcp-guard.yaml"
    config.write_text(
        "profiles:\n"
        "  test: {mode: test, audit: {dir: test}}\n"  # relative: resolved against the config's folder
        "  live: {mode: live, audit: {dir: live}}\n"
    )
    both = run_cli("audit", "show", "--config", config, "--format", "jsonl")
    assert sorted(json.loads(line)["tool"] for line in both.stdout.splitlines()) == ["live_tool", "test_tool"], both.stderr
    live = run_cli("audit", "show", "--config", config, "--profile", "live", "--format", "jsonl")
    assert [json.loads(line)["tool"] for line in live.stdout.splitlines()] == ["live_tool"]
    verify = run_cli("audit", "verify", "--config", config)
    assert verify.returncode == 0 and verify.stdout.count(": OK") == 2


def test_parse_since_understands_relative_and_absolute_times():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("1w", now) == now - timedelta(weeks=1)
    assert parse_since("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_since("2026-03-01T08:30", now) == datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_since("yesterday", now)


def test_long_cells_are_shortened_in_the_table():
    table = format_table([{"ts": "2026-03-01T12:00:00.000000Z", "rule": "r" * 80, "duration_ms": 3}])
    assert "r" * 35 + "…" in table and "r" * 36 not in table
