"""The sandbox's OAuth mode (`--http PORT --oauth`) speaks the protocol an MCP client expects:
metadata, dynamic registration, consent, PKCE, short-lived tokens, rotation and revocation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
from mcp.client.auth import PKCEParameters

from tests.oauth.support import OAuthSandbox, oauth_sandbox

pytestmark = pytest.mark.anyio
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the tests read the redirect's Location
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[OAuthSandbox]:
    async with oauth_sandbox("--token-ttl", "60") as running:
        yield running


async def register(http: httpx2.AsyncClient, sandbox: OAuthSandbox) -> dict[str, Any]:
    response = await http.post(f"{sandbox.base}/register", json={"redirect_uris": [REDIRECT], "client_name": "test client"})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def authorize(http: httpx2.AsyncClient, sandbox: OAuthSandbox, client: dict[str, Any], pkce: PKCEParameters,
                    decision: str = "approve") -> dict[str, list[str]]:
    """The browser's part: /authorize, the consent page, the form; returns the redirect's query."""
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "state": "s-1",
              "code_challenge": pkce.code_challenge, "code_challenge_method": "S256", "resource": sandbox.url}
    to_consent = await http.get(f"{sandbox.base}/authorize", params=params)
    assert to_consent.status_code == 302
    page = await http.get(to_consent.headers["location"])
    request_id = re.search(r'name="request" value="([^"]+)"', page.text)
    assert page.status_code == 200 and request_id is not None
    back = await http.post(f"{sandbox.base}/consent", data={"request": request_id.group(1), "decision": decision})
    assert back.status_code == 302 and back.headers["location"].startswith(REDIRECT)
    return parse_qs(urlsplit(back.headers["location"]).query)


async def token(http: httpx2.AsyncClient, sandbox: OAuthSandbox, client: dict[str, Any], **form: str) -> httpx2.Response:
    return await http.post(f"{sandbox.base}/token", data={**form, "client_id": client["client_id"], "client_secret": client["client_secret"]})


async def initialize(http: httpx2.AsyncClient, sandbox: OAuthSandbox, access_token: str) -> httpx2.Response:
    return await http.post(sandbox.url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {access_token}"})


async def test_an_unauthenticated_mcp_request_gets_401_pointing_at_the_metadata(sandbox: OAuthSandbox) -> None:
    with anyio.fail_after(20):
        async with httpx2.AsyncClient() as http:
            refused = await http.post(sandbox.url, json=INITIALIZE, headers=MCP_HEADERS)
            resource = (await http.get(f"{sandbox.base}/.well-known/oauth-protected-resource/mcp")).json()
            server = (await http.get(f"{sandbox.base}/.well-known/oauth-authorization-server")).json()
    assert refused.status_code == 401
    assert f'resource_metadata="{sandbox.base}/.well-known/oauth-protected-resource/mcp"' in refused.headers["www-authenticate"]
    assert resource["resource"] == sandbox.url and resource["authorization_servers"] == [sandbox.base]
    assert server["registration_endpoint"] == f"{sandbox.base}/register"
    assert server["revocation_endpoint"] == f"{sandbox.base}/revoke"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["grant_types_supported"] == ["authorization_code", "refresh_token"]


async def test_a_code_is_exchanged_only_with_the_right_pkce_verifier(sandbox: OAuthSandbox) -> None:
    with anyio.fail_after(20):
        async with httpx2.AsyncClient() as http:
            client, pkce = await register(http, sandbox), PKCEParameters.generate()
            query = await authorize(http, sandbox, client, pkce)
            code = query["code"][0]
            wrong = await token(http, sandbox, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                code_verifier=PKCEParameters.generate().code_verifier, resource=sandbox.url)
            right = await token(http, sandbox, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                code_verifier=pkce.code_verifier, resource=sandbox.url)
            reused = await token(http, sandbox, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                 code_verifier=pkce.code_verifier, resource=sandbox.url)
            session = await initialize(http, sandbox, right.json()["access_token"])
    assert query["state"] == ["s-1"]
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 200 and right.json()["expires_in"] == 60 and right.json()["refresh_token"]
    assert reused.status_code == 400  # a code is single-use
    assert session.status_code == 200


async def test_a_denied_consent_returns_access_denied_and_no_code(sandbox: OAuthSandbox) -> None:
    with anyio.fail_after(20):
        async with httpx2.AsyncClient() as http:
            client = await register(http, sandbox)
            query = await authorize(http, sandbox, client, PKCEParameters.generate(), decision="deny")
    assert query["error"] == ["access_denied"] and "code" not in query


async def test_refresh_tokens_rotate_and_revoking_one_ends_the_whole_grant(sandbox: OAuthSandbox) -> None:
    with anyio.fail_after(20):
        async with httpx2.AsyncClient() as http:
            client, pkce = await register(http, sandbox), PKCEParameters.generate()
            code = (await authorize(http, sandbox, client, pkce))["code"][0]
            first = (await token(http, sandbox, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                 code_verifier=pkce.code_verifier, resource=sandbox.url)).json()
            second = await token(http, sandbox, client, grant_type="refresh_token", refresh_token=first["refresh_token"])
            spent = await token(http, sandbox, client, grant_type="refresh_token", refresh_token=first["refresh_token"])
            tokens = second.json()
            revoked = await http.post(f"{sandbox.base}/revoke", data={
                "token": tokens["refresh_token"], "token_type_hint": "refresh_token",
                "client_id": client["client_id"], "client_secret": client["client_secret"]})
            after = await initialize(http, sandbox, tokens["access_token"])
            refresh_after = await token(http, sandbox, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert second.status_code == 200 and tokens["refresh_token"] != first["refresh_token"]
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"
    assert revoked.status_code == 200
    assert after.status_code == 401 and refresh_after.status_code == 400


async def test_a_token_issued_for_another_resource_is_refused(sandbox: OAuthSandbox) -> None:
    with anyio.fail_after(20):
        async with httpx2.AsyncClient() as http:
            client, pkce = await register(http, sandbox), PKCEParameters.generate()
            params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "state": "s",
                      "code_challenge": pkce.code_challenge, "code_challenge_method": "S256", "resource": "http://elsewhere.example/mcp"}
            page = await http.get((await http.get(f"{sandbox.base}/authorize", params=params)).headers["location"])
            request_id = re.search(r'name="request" value="([^"]+)"', page.text)
            assert request_id is not None
            back = await http.post(f"{sandbox.base}/consent", data={"request": request_id.group(1), "decision": "approve"})
            code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
            issued = await token(http, sandbox, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                 code_verifier=pkce.code_verifier, resource="http://elsewhere.example/mcp")
            used = await initialize(http, sandbox, issued.json()["access_token"])
    assert issued.status_code == 200 and used.status_code == 401
