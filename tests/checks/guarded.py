"""Start `mcp-guard run` processes for the checks' process tests, with room for a loaded machine."""

from __future__ import annotations

from pathlib import Path

from tests.relay.harness import RawClient

# Several guards, each starting its own sandbox, on two shared cores: starting can take a while.
STARTUP_SECONDS = 60


async def start_guard(config: Path, upstream: list[str]) -> RawClient:
    """A running, initialized `mcp-guard run --profile test` over `upstream`."""
    client = await RawClient.start(config, upstream)
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "checks-test", "version": "1"}}
    try:
        await client.call("initialize", params, timeout=STARTUP_SECONDS)
        await client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    except BaseException:
        await client.aclose()
        raise
    return client
