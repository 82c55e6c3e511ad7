"""Builders shared by the test directories: profiles, guards and fake keys (all made up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp_guard.audit import open_audit_log
from mcp_guard.checks import build_pipeline
from mcp_guard.config import GuardConfig, Profile
from mcp_guard.guard import Guard, SessionInfo
from mcp_guard.redaction import Redactor
from mcp_guard.serve import LogSink
from mcp_guard.telemetry import Telemetry

FAKE_TEST_KEY = "sk_test_51FAKEmcpGuardTestKey0000000000000000000000aBcD"
FAKE_LIVE_KEY = "rk_live_51FAKEmcpGuardLiveKey0000000000000000000000aBcD"
PSEUDONYM_KEY = b"k" * 32


def make_profile(tmp_path: Path | None = None, *, name: str = "p", mode: str = "test", **fields: Any) -> Profile:
    """A validated profile (named through a GuardConfig, as loading does) auditing into tmp_path."""
    audit_dir = str(tmp_path / "audit") if tmp_path is not None else "/nonexistent/mcp-guard-audit"
    body: dict[str, Any] = {"mode": mode, "audit": {"dir": audit_dir}, **fields}
    return GuardConfig.model_validate({"profiles": {name: body}}).profiles[name]


def build_guard(profile: Profile, *, redactor: Redactor | None, upstream: str = "unit") -> Guard:
    """A guard over `profile` with its real pipeline and a real audit log in the profile's dir."""
    log = open_audit_log(profile.audit, profile.name)
    session = SessionInfo(profile_name=profile.name, profile=profile, upstream=upstream, key_fingerprint=None)
    return Guard(session, build_pipeline(profile.name, profile, redactor=redactor), LogSink(log), Telemetry(), redactor=redactor)
