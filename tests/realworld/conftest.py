"""Fixtures for the real-world tests: real npm packages, real processes, no network.

The pinned npm tools come from `make node-tools` (npm ci in tests/node). Without them these
tests fail under CI (CI=true) and are skipped locally, both saying "run `make node-tools`".
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/realworld is not a package
from fake_stripe_rest import FakeStripeRest  # noqa: E402
from realworld_support import HostedSandbox  # noqa: E402


@pytest.fixture
def fake_rest() -> Iterator[FakeStripeRest]:
    """A fake Stripe REST API on 127.0.0.1 for stripe-node inside @stripe/mcp 0.2.5."""
    with FakeStripeRest() as api:
        yield api


@pytest.fixture
def hosted_sandbox(tmp_path: Path) -> Iterator[HostedSandbox]:
    """The project's sandbox serving the hosted catalog over streamable HTTP, with a journal."""
    journal = tmp_path / "sandbox-journal.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_guard.sandbox", "--catalog", "hosted", "--http", "0",
         "--journal", str(journal)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    # Keep draining its stderr once it listens, so a chatty sandbox can never block on a full pipe.
    drain = threading.Thread(target=process.stderr.read, daemon=True)
    try:
        url = _announced_url(process)
        drain.start()
        yield HostedSandbox(url, journal, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain.is_alive():
            drain.join(timeout=5)  # EOF follows the exit
        process.stderr.close()


def _announced_url(process: subprocess.Popen[str]) -> str:
    """The sandbox prints `listening http://127.0.0.1:NNNN/mcp` on stderr once it serves."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # ends at EOF if the sandbox dies first
        match = re.search(r"listening (http://\S+)", line)
        if match:
            return match.group(1)
        seen.append(line)
    raise RuntimeError(f"the sandbox exited before listening: {''.join(seen)[-2000:]}")
