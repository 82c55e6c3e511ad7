"""Real processes for the OAuth tests: the sandbox in OAuth mode, `mcp-guard login` approved the
way a person would (the consent form submitted with an HTTP client), the stored grant's file."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import yaml

from tests.relay.harness import http_sandbox

MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")
AUTHORIZE_URL = re.compile(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)")


@dataclass
class OAuthSandbox:
    url: str  # the MCP endpoint
    base: str  # the issuer

    async def events(self) -> list[dict[str, Any]]:
        async with httpx2.AsyncClient() as http:
            return list((await http.get(f"{self.base}/sandbox/oauth/events")).json()["events"])

    async def count(self, event: str) -> int:
        return sum(1 for e in await self.events() if e["event"] == event)


@asynccontextmanager
async def oauth_sandbox(*args: str) -> AsyncIterator[OAuthSandbox]:
    """`mcp-guard sandbox --http 0 --oauth ARGS` as a child process, until the block ends."""
    async with http_sandbox(MCP_GUARD, "sandbox", "--http", "0", "--oauth", *args) as url:
        yield OAuthSandbox(url=url, base=url.removesuffix("/mcp"))


def write_oauth_config(tmp_path: Path, url: str, *, profiles: tuple[str, ...] = ("test", "live")) -> Path:
    """A config whose profiles (named after their mode) reach `url` with `auth: oauth`."""
    body = {
        name: {
            "mode": name,
            "upstream": {"url": url, "auth": "oauth", "request_timeout": 15, "initialize_timeout": 15},
            "audit": {"dir": str(tmp_path / f"audit-{name}"), "retention_days": 30},
        }
        for name in profiles
    }
    path = tmp_path / "mcp-guard.yaml"
    path.write_text(yaml.safe_dump({"profiles": body}))
    return path


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def run_command(*args: str, env: dict[str, str] | None = None) -> Finished:
    """`mcp-guard ARGS` to its end (callers bound the time with `anyio.fail_after`)."""
    process = await asyncio.create_subprocess_exec(
        MCP_GUARD, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


async def login(config: Path, profile: str, *, decision: str = "approve") -> Finished:
    """`mcp-guard login --no-browser`, with the printed URL followed and the consent form answered
    (callers bound the time with `anyio.fail_after`)."""
    process = await asyncio.create_subprocess_exec(
        MCP_GUARD, "login", "--profile", profile, "--config", str(config), "--no-browser", "--timeout", "60",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdout is not None
    seen: list[str] = []
    while True:
        line = (await process.stderr.readline()).decode()
        if not line:  # login ended before printing a URL
            out = (await process.stdout.read()).decode()
            return Finished(await process.wait(), out, "".join(seen))
        seen.append(line)
        if match := AUTHORIZE_URL.search(line):
            break
    await answer_consent(match.group(1), decision)
    out, err = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), "".join(seen) + err.decode())


async def answer_consent(authorize_url: str, decision: str) -> httpx2.Response:
    """What a person does in the browser: open the URL, press Approve (or Deny), follow the redirect."""
    async with httpx2.AsyncClient(follow_redirects=True, timeout=15) as http:
        page = await http.get(authorize_url)
        assert page.status_code == 200, page.text
        request_id = re.search(r'name="request" value="([^"]+)"', page.text)
        assert request_id is not None, page.text
        consent_url = str(page.url).split("?", 1)[0]
        return await http.post(consent_url, data={"request": request_id.group(1), "decision": decision})


def grant_file(profile: str) -> Path:
    return Path(os.environ["MCP_GUARD_STATE_DIR"]) / "oauth" / f"{profile}.json"


def stored_grant(profile: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(grant_file(profile).read_text())
    return data


async def revoke(sandbox: OAuthSandbox, profile: str, which: str) -> None:
    """Revoke the stored grant's `access_token` or `refresh_token` at the sandbox, as the client."""
    grant = stored_grant(profile)
    secrets = grant["secrets"]
    data = {"token": secrets[which], "token_type_hint": which, "client_id": grant["client_id"], "client_secret": secrets["client_secret"]}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{sandbox.base}/revoke", data=data)
    assert response.status_code == 200, response.text
