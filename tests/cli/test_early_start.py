"""`mcp-guard run` starts a plain stdio upstream before it imports pydantic, and only when safe.

Each test runs `run` as a real process under an audit hook (`sys.addaudithook`) that notes every
process it starts and whether pydantic was imported by then:
- a plain upstream with a fitting key starts before pydantic, once, and serves the session;
- a key that does not fit the profile never reaches any process;
- an upstream started early from a config that then fails validation is killed, not served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import FAKE_LIVE_KEY, FAKE_TEST_KEY, SANDBOX, write_sandbox_config

# Runs `mcp-guard` in this interpreter and writes what the hook saw to $EARLY_START_EVENTS.
HOOKED_RUN = """
import json, os, sys
started = []
def note(event, args):
    if event == "subprocess.Popen":
        started.append({"argv": [str(a) for a in args[1]], "pydantic_imported": "pydantic" in sys.modules})
sys.addaudithook(note)
from mcp_guard.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open(os.environ["EARLY_START_EVENTS"], "w") as out:
        json.dump(started, out)
sys.exit(code)
"""

# An upstream that says where it is and waits: it must not outlive a guard that refused to serve.
WAITING_UPSTREAM = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"


def hooked_run(args: list[str], env: dict[str, str], tmp_path: Path, stdin: str = "") -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    events = tmp_path / "events.json"
    done = subprocess.run(
        [sys.executable, "-c", HOOKED_RUN, "run", *args], input=stdin, env={**env, "EARLY_START_EVENTS": str(events)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    return done, json.loads(events.read_text())


def test_a_plain_upstream_starts_before_pydantic_is_imported_and_serves(base_env: dict[str, str], tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "cfg")
    initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    done, started = hooked_run(["--profile", "test", "--config", str(config)], {**base_env, "STRIPE_TEST_KEY": FAKE_TEST_KEY}, tmp_path,
                               stdin=initialize + "\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["result"]["serverInfo"]  # the early upstream served the session
    assert len(started) == 1, started  # kept, not restarted
    assert started[0]["argv"][1:] == SANDBOX[1:]
    assert started[0]["pydantic_imported"] is False


def test_a_key_that_does_not_fit_the_profile_reaches_no_process(base_env: dict[str, str], tmp_path: Path) -> None:
    config = write_sandbox_config(tmp_path / "cfg")
    done, started = hooked_run(["--profile", "test", "--config", str(config)], {**base_env, "STRIPE_TEST_KEY": FAKE_LIVE_KEY}, tmp_path)
    assert done.returncode == 1
    assert "is a live key but profile 'test' has mode test" in done.stderr
    assert started == []


def test_an_upstream_started_early_is_killed_when_the_config_then_fails_validation(base_env: dict[str, str], tmp_path: Path) -> None:
    pid_file = tmp_path / "upstream.pid"
    upstream = {"command": sys.executable, "args": ["-c", WAITING_UPSTREAM, str(pid_file)]}
    config = write_sandbox_config(tmp_path / "cfg", upstream=upstream, profile={"allowed_operations": ["read", "fly"]})
    done, started = hooked_run(["--profile", "test", "--config", str(config)], {**base_env, "STRIPE_TEST_KEY": FAKE_TEST_KEY}, tmp_path)
    assert done.returncode == 1
    assert "allowed_operations" in done.stderr and "fly" in done.stderr
    assert len(started) == 1 and started[0]["pydantic_imported"] is False  # it did start early
    if pid_file.exists():  # else it was killed before it could even write its pid
        assert not alive(int(pid_file.read_text()))


def alive(pid: int, within: float = 5.0) -> bool:
    """Whether `pid` is still running after `within` seconds (a zombie counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True
