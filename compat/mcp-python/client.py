"""The official MCP Python SDK (`mcp`), unmodified, driven line by line by
crates/latchkey-server/tests/it/mcp_e2e.rs against an MCP server protected by Latchkey.

Usage: python client.py <mcp-url>   (MCP_REDIRECT_URI: the loopback redirect URI to register)

The SDK's OAuthClientProvider does the OAuth work itself: on the server's 401 it reads the
protected resource metadata, the authorization server's metadata, registers the client
(RFC 7591) and builds the authorization URL (PKCE S256, `resource`, `state`), then checks the
callback's `state` and `iss` and exchanges the code. This script only plays the application:
it keeps what the SDK stores and "opens the browser" by printing the URL; the test drives the
hosted pages and answers with the redirect.

Lines out:  AUTHORIZE <url> | READY <json> | RESULT <json> | ERROR <kind> <message> | BYE
Lines in:   after AUTHORIZE: the full redirect URL the browser reached, or ABORT;
            otherwise: CALL <tool> [<json arguments>] | EXPIRE | QUIT
"""

import json
import os
import sys
import time
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, OAuthFlowError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

MAX_COMMANDS = 50


def say(kind: str, payload) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    sys.stdout.write(f"{kind} {text}\n")
    sys.stdout.flush()


async def read_line() -> str:
    line = await anyio.to_thread.run_sync(sys.stdin.readline)
    if not line:
        raise EOFError("stdin closed")
    return line.strip()


class Aborted(Exception):
    """The user declined to authorize again."""


class MemoryStorage:
    """TokenStorage in memory: what a desktop MCP client keeps in its settings."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.token_saves = 0

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.token_saves += 1
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class App:
    def __init__(self, mcp_url: str, redirect_uri: str) -> None:
        self.storage = MemoryStorage()
        self.authorizations = 0
        self.provider = OAuthClientProvider(
            server_url=mcp_url,
            client_metadata=OAuthClientMetadata(
                client_name="MCP Python SDK e2e",
                redirect_uris=[redirect_uri],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=self.storage,
            redirect_handler=self.open_browser,
            callback_handler=self.wait_for_callback,
        )
        self.http = httpx2.AsyncClient(auth=self.provider, timeout=30)
        self.mcp_url = mcp_url

    async def open_browser(self, url: str) -> None:
        self.authorizations += 1
        say("AUTHORIZE", url)

    async def wait_for_callback(self) -> AuthorizationCodeResult:
        line = await read_line()
        if line == "ABORT":
            raise Aborted("authorization was not repeated")
        params = {k: v[0] for k, v in parse_qs(urlparse(line).query).items()}
        if "error" in params:
            raise OAuthFlowError(f"authorization failed: {params['error']} {params.get('error_description', '')}")
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    def result(self, r) -> dict:
        return {
            "is_error": bool(r.is_error),
            "structured": r.structured_content,
            "text": "\n".join(c.text for c in r.content if getattr(c, "type", None) == "text"),
            "token_saves": self.storage.token_saves,
            "authorizations": self.authorizations,
        }


def refused(e: BaseException) -> bool:
    """Whether `e` (possibly inside exception groups) is the user declining to authorize again."""
    if isinstance(e, Aborted):
        return True
    if isinstance(e, BaseExceptionGroup):
        return any(refused(x) for x in e.exceptions)
    return refused(e.__cause__) if e.__cause__ is not None else False


async def session(app: App) -> None:
    async with Client(streamable_http_client(app.mcp_url, http_client=app.http)) as client:
        tools = await client.list_tools()
        tokens = app.storage.tokens
        say(
            "READY",
            {
                "tools": sorted(t.name for t in tools.tools),
                "client_id": app.storage.client.client_id if app.storage.client else None,
                "scope": tokens.scope if tokens else None,
                "has_refresh_token": bool(tokens and tokens.refresh_token),
            },
        )
        for _ in range(MAX_COMMANDS):
            line = await read_line()
            if line == "QUIT":
                break
            if line == "EXPIRE":
                # The SDK keeps its own expiry clock and refreshes before sending once it has
                # passed; move that clock as the test moved the server's.
                app.provider.context.token_expiry_time = time.time() - 1
                say("RESULT", {"expired": True})
                continue
            name, _, args = line.removeprefix("CALL ").partition(" ")
            if not line.startswith("CALL "):
                raise ValueError(f"unknown command: {line}")
            result = await client.call_tool(name, json.loads(args) if args else {})
            say("RESULT", app.result(result))


async def main() -> int:
    redirect_uri = os.environ.get("MCP_REDIRECT_URI")
    if not redirect_uri or len(sys.argv) < 2:
        raise SystemExit("usage: MCP_REDIRECT_URI=… python client.py <mcp-url>")
    app = App(sys.argv[1], redirect_uri)
    try:
        await session(app)
    except BaseException as e:  # noqa: BLE001 - anyio wraps failures in exception groups
        if not refused(e):
            raise
        say("ERROR", "unauthorized the server refused the token and authorization was not repeated")
        # The test ends the conversation after the refusal.
        while (await read_line()) != "QUIT":
            pass
    say("BYE", "")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
