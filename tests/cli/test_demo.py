"""`mcp-guard demo`: real sessions under the test and the live profile, run once from an empty directory."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from mcp_guard.demo import DEMO_KEY, DEMO_LIVE_KEY, LIVE_SCRIPT, TEST_SCRIPT


@pytest.fixture(scope="module")
def transcript(mcp_guard_bin: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    workdir = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MCP_GUARD_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run([mcp_guard_bin, "demo"], cwd=workdir, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_plays_both_profiles_scripts_and_shows_their_verified_audit_trails(transcript: str) -> None:
    steps = re.findall(r"^\[\d+\] (test|live): (.*)$", transcript, re.M)
    assert [title for profile, title in steps if profile == "test"] == [act.title for act in TEST_SCRIPT]
    assert [title for profile, title in steps if profile == "live"] == [act.title for act in LIVE_SCRIPT]
    for profile in ("test", "live"):
        assert f"The client connects through mcp-guard (profile '{profile}', the shipped default policy)" in transcript
        assert re.search(rf"the {profile} profile's audit trail .*\n(.*\n)*?    hash chain: verified \(\d+ records\)", transcript)
    assert "    0 writes executed" in transcript
    assert DEMO_KEY not in transcript and DEMO_LIVE_KEY not in transcript


def test_the_live_session_shows_the_stricter_rules(transcript: str) -> None:
    live = transcript.split("(profile 'live', the shipped default policy)", 1)[1]
    assert "rule: profiles.live.arguments.max_limit" in live  # a page of 50: within test's cap, above live's
    assert "rule: profiles.live.arguments.expand_deny" in live
    assert "rule: profiles.live.blocked_operations" in live


def test_the_live_session_reads_the_sandboxs_live_mode_data(transcript: str) -> None:
    live_read = transcript.split(f"live: {LIVE_SCRIPT[0].title}\n", 1)[1].split("\n[", 1)[0]
    assert "result: {" in live_read and '"livemode": true' in live_read
