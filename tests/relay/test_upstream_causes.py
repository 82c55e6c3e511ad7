"""Issue 11, item 2: causes, not timeouts. An upstream that prints a fatal error on stderr and
never answers `initialize` (like `@stripe/mcp` 0.3.x offline) gets the client an error naming
the cause, in one line, within 3 s, instead of a 30 s "did not answer"; Node stack traces are
folded into one log line. Through `mcp-guard run` with a fake upstream that prints and hangs.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.relay.faults import hostile_command, hostile_profile
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

DNS_FAILURE = """\
TypeError: fetch failed
    at node:internal/deps/undici/undici:13502:13
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
    at async StreamableHTTPClientTransport.send (file:///app/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js:300:30) {
  [cause]: Error: getaddrinfo ENOTFOUND mcp.stripe.com
      at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26) {
    errno: -3008,
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname: 'mcp.stripe.com'
  }
}
"""
OFFLINE = "Error: getaddrinfo EAI_AGAIN mcp.stripe.com\n    at GetAddrInfoReqWrap.onlookup (node:dns:107:26)\n"
UNAUTHORIZED = "Error: Error POSTing to endpoint (HTTP 401): Invalid API Key provided: rk_test_****\n    at StreamableHTTPClientTransport.send (file:///app/x.js:1:1)\n"
FORBIDDEN = "StripeAuthenticationError: Request failed with status code 403\n    at res.toJSON (file:///app/y.js:2:2)\n"
REFUSED = "Error: connect ECONNREFUSED 127.0.0.1:443\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n"
MISSING_NPX = "sh: 1: npx: not found\n"
UNCAUGHT = """\
/app/node_modules/@stripe/mcp/dist/index.js:12
    throw new TypeError("Cannot read properties of undefined (reading 'tools')");
    ^

TypeError: Cannot read properties of undefined (reading 'tools')
    at main (/app/node_modules/@stripe/mcp/dist/index.js:12:11)
    at Object.<anonymous> (/app/node_modules/@stripe/mcp/dist/index.js:20:1)

Node.js v20.11.1
"""

CASES = [
    (DNS_FAILURE, "DNS lookup of mcp.stripe.com failed (ENOTFOUND)"),
    (OFFLINE, "DNS lookup of mcp.stripe.com failed (EAI_AGAIN)"),
    (UNAUTHORIZED, "refused with HTTP 401: check the Stripe key"),
    (FORBIDDEN, "refused with HTTP 403: check the Stripe key"),
    (REFUSED, ":443 failed (ECONNREFUSED)"),  # the address itself is redacted, as any IP in stderr
    (MISSING_NPX, "missing: sh: 1: npx: not found"),
    (UNCAUGHT, "uncaught error: TypeError: Cannot read properties of undefined (reading 'tools')"),
]
CASE_IDS = ["enotfound", "eai-again", "http-401", "http-403", "econnrefused", "missing-npx", "uncaught-node-error"]
INITIALIZE = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


async def start(tmp_path: Path, stderr: str, when: str) -> RawClient:
    sample = tmp_path / "stderr.txt"
    sample.write_text(stderr)
    config = write_config(tmp_path, profile=hostile_profile())  # initialize_timeout: the default 30 s
    return await RawClient.start(config, hostile_command(when, str(sample)))


@pytest.mark.parametrize(("stderr", "cause"), CASES, ids=CASE_IDS)
async def test_a_fatal_upstream_error_answers_initialize_with_its_cause_within_3_seconds(tmp_path: Path, stderr: str, cause: str) -> None:
    client = await start(tmp_path, stderr, "--stderr-on-initialize")
    try:
        started = time.monotonic()
        answer = await client.call("initialize", INITIALIZE, timeout=10)
        elapsed = time.monotonic() - started
        code = await client.wait(10)
        log = await client.stderr_text()
    finally:
        await client.aclose()
    message = answer["error"]["message"]
    assert answer["error"]["code"] == -32000 and elapsed < 3
    assert message.startswith("the upstream failed before answering 'initialize': ") and cause in message
    assert "\n" not in message
    assert code == 3
    assert [r["outcome"] for r in audit_records(tmp_path / "audit")] == ["upstream_died"]
    assert "    at " not in log  # stack frames are folded, never echoed line by line


async def test_a_fatal_error_printed_before_initialize_arrives_still_answers_it_at_once(tmp_path: Path) -> None:
    quiet = tmp_path / "nothing.txt"
    quiet.write_text("")
    sample = tmp_path / "stderr.txt"
    sample.write_text(OFFLINE)
    upstream = hostile_command("--stderr-at-start", str(sample), "--stderr-on-initialize", str(quiet))  # prints, then never answers
    client = await RawClient.start(write_config(tmp_path, profile=hostile_profile()), upstream)
    try:
        assert client.process.stderr is not None
        async with asyncio.timeout(10):  # the guard has seen the cause before initialize is sent
            while b"upstream failure: DNS lookup" not in await client.process.stderr.readline():
                pass
        started = time.monotonic()
        answer = await client.call("initialize", INITIALIZE, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert "DNS lookup of mcp.stripe.com failed (EAI_AGAIN)" in answer["error"]["message"] and elapsed < 3


async def test_a_stack_trace_is_logged_as_one_line_and_a_non_fatal_one_does_not_end_the_session(tmp_path: Path) -> None:
    warning = "Error: could not read ~/.stripe/config, using defaults\n    at readConfig (/app/config.js:1:1)\n    at main (/app/index.js:2:2)\n"
    client = await start(tmp_path, warning, "--stderr-at-start")
    try:
        answer = await client.initialize()
        pong = await client.call("ping")
        await client.close_stdin()
        assert await client.wait() == 0
        log = await client.stderr_text()
    finally:
        await client.aclose()
    assert answer["result"]["serverInfo"]["name"] == "hostile" and pong["result"] == {}
    assert "upstream error: Error: could not read ~/.stripe/config, using defaults [2 more lines folded]" in log
    assert "    at " not in log
