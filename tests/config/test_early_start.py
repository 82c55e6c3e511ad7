"""`early_start.early_command`: what `run` may start from the raw config before validating it.

Two properties, checked on realistic configs and on every way a key may not reach an upstream:
- whatever it would start is exactly what the validated config starts (command, args, env with
  the key, cwd), so the early process is the one `run` keeps;
- it starts nothing when the key does not fit the profile, sits on the command line or in the
  upstream's own config, or when the raw config is not shaped as the schema requires.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from mcp_guard.config import validate_config_file
from mcp_guard.config_file import read_config_file
from mcp_guard.early_start import early_command
from mcp_guard.errors import ConfigError
from mcp_guard.resolve import preflight, resolve_loaded
from mcp_guard.serve import _stdio_command
from mcp_guard.transports.process import KEY_ENV_VAR

TEST_KEY = "sk_test_51FAKEearlyStart00000000000000000000000000aBcD"
LIVE_RESTRICTED = "rk_live_51FAKEearlyStart00000000000000000000000000aBcD"
LIVE_SECRET = "sk_live_51FAKEearlyStart00000000000000000000000000aBcD"
ENVIRON = {"STRIPE_TEST_KEY": TEST_KEY, "STRIPE_LIVE_KEY": LIVE_RESTRICTED, "SK_LIVE_KEY": LIVE_SECRET, "HOME": "/home/someone", "PATH": os.environ.get("PATH", "")}


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mcp-guard.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def validated_command(path: Path, profile: str, command: list[str], environ: dict[str, str]):
    """What `run` starts after validation, or None when it would start nothing (an error, or HTTP)."""
    try:
        resolved = resolve_loaded(validate_config_file(read_config_file(path, environ)), profile, command=command)
    except ConfigError:
        return None
    if preflight(resolved, environ) or resolved.upstream.url is not None:
        return None
    return _stdio_command(resolved.upstream, resolved.key.value if resolved.key is not None else None)


STARTS_EARLY = {
    "npm relay, test key": ("""
        upstream: {command: npx, args: ["-y", "@stripe/mcp@0.3.3"], env: {NODE_OPTIONS: "--max-old-space-size=256"}}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "restricted live key, profile upstream with a relative cwd": ("""
        upstream: {url: "https://mcp.stripe.com"}
        profiles:
          live:
            mode: live
            api_key: ${STRIPE_LIVE_KEY}
            audit: {dir: audit}
            upstream: {command: sh, args: ["-c", "exec cat"], cwd: "."}
        """, "live", []),
    "no key at all": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: "${UNSET_KEY:-}", audit: {dir: audit}}
        """, "test", []),
    "-- command replaces an HTTP upstream and keeps its env": ("""
        upstream: {url: "https://mcp.stripe.com", env: {A: b}}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", ["cat", "-u"]),
    "unrestricted live key the profile allows": ("""
        upstream: {command: cat}
        profiles:
          live: {mode: live, api_key: "${SK_LIVE_KEY}", allow_unrestricted_live_key: true, audit: {dir: audit}}
        """, "live", []),
}


@pytest.mark.parametrize(("body", "profile", "command"), STARTS_EARLY.values(), ids=STARTS_EARLY.keys())
def test_what_starts_early_is_exactly_what_the_validated_config_starts(tmp_path: Path, body: str, profile: str, command: list[str]) -> None:
    path = config(tmp_path, body)
    early = early_command(read_config_file(path, ENVIRON), profile, command)
    assert early is not None
    assert early == validated_command(path, profile, command, ENVIRON)
    assert early.env.get(KEY_ENV_VAR) in (TEST_KEY, LIVE_RESTRICTED, LIVE_SECRET, None)


def test_the_shipped_default_profiles_start_early_with_their_keys(tmp_path: Path) -> None:
    from mcp_guard.config_file import default_config_path

    environ = {**ENVIRON, "MCP_GUARD_STATE_DIR": str(tmp_path)}
    for profile, key in (("test", TEST_KEY), ("live", LIVE_RESTRICTED)):
        early = early_command(read_config_file(default_config_path(), environ), profile)
        assert early is not None and early.env[KEY_ENV_VAR] == key
        assert early == validated_command(default_config_path(), profile, [], environ)


NEVER_EARLY = {
    "a live key in a test profile": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: "${STRIPE_LIVE_KEY}", audit: {dir: audit}}
        """, "test", []),
    "a test key in a live profile": ("""
        upstream: {command: cat}
        profiles:
          live: {mode: live, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "live", []),
    "an unrestricted live key": ("""
        upstream: {command: cat}
        profiles:
          live: {mode: live, api_key: "${SK_LIVE_KEY}", audit: {dir: audit}}
        """, "live", []),
    "allow_unrestricted_live_key as a string": ("""
        upstream: {command: cat}
        profiles:
          live: {mode: live, api_key: "${SK_LIVE_KEY}", allow_unrestricted_live_key: "yes", audit: {dir: audit}}
        """, "live", []),
    "a truncated key": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: "sk_test_abc", audit: {dir: audit}}
        """, "test", []),
    "a publishable key": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: "pk_test_51FAKEearlyStart000000000000000", audit: {dir: audit}}
        """, "test", []),
    "the key on the command line": ("""
        upstream: {command: npx, args: ["-y", "@stripe/mcp", "--api-key=${STRIPE_TEST_KEY}"]}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "the key inside an argument": ("""
        upstream: {command: sh, args: ["-c", "KEY=${STRIPE_TEST_KEY} exec cat"]}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "--api-key after --": ("""
        profiles:
          test: {mode: test, audit: {dir: audit}}
        """, "test", ["npx", "@stripe/mcp", "--api-key", TEST_KEY]),
    "a key in the upstream's env": ("""
        upstream: {command: cat, env: {STRIPE_API_KEY: "${SK_LIVE_KEY}"}}
        profiles:
          test: {mode: test, audit: {dir: audit}}
        """, "test", []),
    "an HTTP upstream": ("""
        upstream: {url: "https://mcp.stripe.com"}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "headers on the upstream": ("""
        upstream: {command: cat, headers: {X-Debug: "1"}}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "a mode the schema does not know": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: Test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "args that are not strings": ("""
        upstream: {command: cat, args: [-u, 1]}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "env values that are not strings": ("""
        upstream: {command: cat, env: {DEBUG: 1}}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "test", []),
    "a key that is not a string": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: [1, 2], audit: {dir: audit}}
        """, "test", []),
    "an unknown profile": ("""
        upstream: {command: cat}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """, "prod", []),
}


@pytest.mark.parametrize(("body", "profile", "command"), NEVER_EARLY.values(), ids=NEVER_EARLY.keys())
def test_nothing_starts_early_when_the_key_or_the_upstream_is_not_plainly_fine(tmp_path: Path, body: str, profile: str, command: list[str]) -> None:
    assert early_command(read_config_file(config(tmp_path, body), ENVIRON), profile, command) is None


def test_an_early_upstream_the_validated_config_would_not_start_is_killed_and_replaced(tmp_path: Path) -> None:
    import subprocess

    from mcp_guard.early_start import EarlyUpstream
    from mcp_guard.serve import _start_upstream
    from mcp_guard.transports.process import kill_group, spawn, stdio_command

    path = config(tmp_path, """
        upstream: {command: cat, args: ["-u"]}
        profiles:
          test: {mode: test, api_key: "${STRIPE_TEST_KEY}", audit: {dir: audit}}
        """)
    resolved = resolve_loaded(validate_config_file(read_config_file(path, ENVIRON)), "test")
    stale = stdio_command("cat", [], {}, None, TEST_KEY)  # not what the validated config starts
    early = EarlyUpstream(stale, spawn(stale))
    child = _start_upstream(resolved, early)
    try:
        assert child is not None and child is not early.child
        assert early.child.poll() is not None  # killed before anything was sent to it
        assert child.args[1:] == ["-u"]
    finally:
        if child is not None:
            kill_group(child)
    same = validated_command(path, "test", [], ENVIRON)
    assert same is not None
    kept = EarlyUpstream(same, spawn(same))
    try:
        assert _start_upstream(resolved, kept) is kept.child and kept.child.poll() is None
    finally:
        kill_group(kept.child)
    assert isinstance(kept.child, subprocess.Popen)
