"""Builders shared by the test directories: profiles, guards and fake keys (all made up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import settings

from mcp_guard.audit import GroupCommitter, open_audit_log
from mcp_guard.checks import build_pipeline
from mcp_guard.checks.budgets.ledger import BudgetLedger
from mcp_guard.checks.catalog_pin.lock import ProfileLock
from mcp_guard.config import GuardConfig, Profile
from mcp_guard.guard import Guard, SessionInfo
from mcp_guard.redaction import Redactor
from mcp_guard.telemetry import Telemetry

FAKE_TEST_KEY = "sk_test_51FAKEmcpGuardTestKey0000000000000000000000aBcD"
FAKE_LIVE_KEY = "rk_live_51FAKEmcpGuardLiveKey0000000000000000000000aBcD"
PSEUDONYM_KEY = b"k" * 32


def make_profile(tmp_path: Path | None = None, *, name: str = "p", mode: str = "test", **fields: Any) -> Profile:
    """A validated profile (named through a GuardConfig, as loading does) auditing into tmp_path."""
    audit_dir = str(tmp_path / "audit") if tmp_path is not None else "/nonexistent/mcp-guard-audit"
    body: dict[str, Any] = {"mode": mode, "audit": {"dir": audit_dir}, **fields}
    return GuardConfig.model_validate({"profiles": {name: body}}).profiles[name]


def build_guard(
    profile: Profile, *, redactor: Redactor | None, upstream: str = "unit", catalog_lock: ProfileLock | None = None, budget_ledger: BudgetLedger | None = None
) -> Guard:
    """A guard over `profile` with its real pipeline and a real audit log in the profile's dir."""
    log = open_audit_log(profile.audit, profile.name)
    session = SessionInfo(profile_name=profile.name, profile=profile, upstream=upstream, key_fingerprint=None)
    pipeline = build_pipeline(profile.name, profile, redactor=redactor, catalog_lock=catalog_lock, budget_ledger=budget_ledger, audit_health=log.health)
    return Guard(session, pipeline, GroupCommitter(log), Telemetry(), redactor=redactor)


def examples(ci: int) -> int:
    """How many examples a property test runs: `ci` under the ci profile, scaled down under dev."""
    return max(20, ci * settings.default.max_examples // 200)
