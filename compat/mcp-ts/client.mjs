// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk), unmodified, driven line
// by line by crates/latchkey-server/tests/it/mcp_e2e.rs against an MCP server protected by Latchkey.
//
// Usage: node client.mjs <mcp-url>   (MCP_REDIRECT_URI: the loopback redirect URI to register)
//
// The SDK does everything OAuth itself: on the server's 401 it reads the protected resource
// metadata, the authorization server's metadata, registers the client dynamically (RFC 7591),
// and builds the authorization URL (PKCE S256, `resource`, `state`). This script only plays
// the parts an application plays: it stores what the SDK hands it, and "opens the browser"
// by printing the URL — the test drives the hosted pages and answers with the redirect.
//
// Lines out:  AUTHORIZE <url> | READY <json> | RESULT <json> | ERROR <kind> <message> | BYE
// Lines in:   after AUTHORIZE: the full redirect URL the browser reached, or ABORT;
//             otherwise: CALL <tool> [<json arguments>] | EXPIRE | QUIT

import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const mcpUrl = new URL(process.argv[2] ?? "");
const redirectUri = process.env.MCP_REDIRECT_URI;
if (!redirectUri) throw new Error("MCP_REDIRECT_URI is not set");

const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function readLine() {
  const next = await input.next();
  if (next.done) throw new Error("stdin closed");
  return next.value.trim();
}
function say(kind, payload) {
  process.stdout.write(`${kind} ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n`);
}

/** An in-memory OAuthClientProvider: what a desktop MCP client keeps in its settings. */
class MemoryProvider {
  client = undefined;
  stored = undefined;
  verifier = undefined;
  expectedState = undefined;
  tokenSaves = 0;
  authorizations = 0;

  get redirectUrl() {
    return redirectUri;
  }
  get clientMetadata() {
    return {
      client_name: "MCP TypeScript SDK e2e",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens) {
    this.tokenSaves += 1;
    this.stored = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizations += 1;
    say("AUTHORIZE", url.toString());
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error("no code verifier saved");
    return this.verifier;
  }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.stored = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
  }
}

const provider = new MemoryProvider();
let client;
let transport;

/** The test's answer to AUTHORIZE: the callback's code once state and issuer check out. */
async function callbackCode() {
  const line = await readLine();
  if (line === "ABORT") return undefined;
  const callback = new URL(line);
  const p = callback.searchParams;
  if (p.get("error")) throw new Error(`authorization failed: ${p.get("error")} ${p.get("error_description") ?? ""}`);
  if (p.get("state") !== provider.expectedState) throw new Error("state mismatch on the callback");
  const code = p.get("code");
  if (!code) throw new Error("the callback has no code");
  return code;
}

/** Connects; when the server wants authorization, completes it (or gives up on ABORT). */
async function connect() {
  for (let attempt = 0; attempt < 2; attempt++) {
    transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    const c = new Client({ name: "latchkey-e2e-ts", version: "1.0.0" });
    try {
      await c.connect(transport);
      return c;
    } catch (e) {
      if (!(e instanceof UnauthorizedError)) throw e;
      const code = await callbackCode();
      if (code === undefined) return undefined;
      await transport.finishAuth(code);
    }
  }
  throw new Error("still unauthorized after authorizing");
}

function resultOf(r) {
  return {
    is_error: r.isError === true,
    structured: r.structuredContent ?? null,
    text: (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n"),
    token_saves: provider.tokenSaves,
    authorizations: provider.authorizations,
  };
}

async function call(name, args) {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return say("RESULT", resultOf(await client.callTool({ name, arguments: args })));
    } catch (e) {
      if (!(e instanceof UnauthorizedError)) throw e;
    }
    // The SDK could not refresh its way out of the server's 401 and asked for a new
    // authorization (it printed AUTHORIZE).
    const code = await callbackCode();
    if (code === undefined) return say("ERROR", "unauthorized the server refused the token and authorization was not repeated");
    await transport.finishAuth(code);
  }
  throw new Error("still unauthorized after authorizing again");
}

async function main() {
  client = await connect();
  if (!client) return say("ERROR", "unauthorized authorization was not completed");
  const tools = await client.listTools();
  say("READY", {
    tools: tools.tools.map((t) => t.name).sort(),
    client_id: provider.client?.client_id,
    scope: provider.stored?.scope ?? null,
    has_refresh_token: Boolean(provider.stored?.refresh_token),
  });
  for (let i = 0; i < 50; i++) {
    const line = await readLine();
    if (line === "QUIT") break;
    if (line === "EXPIRE") {
      // This SDK keeps no expiry clock of its own: it refreshes when the server says 401.
      say("RESULT", { expired: true });
      continue;
    }
    const m = /^CALL (\S+)(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`unknown command: ${line}`);
    await call(m[1], m[2] ? JSON.parse(m[2]) : {});
  }
  await client.close();
  say("BYE", "");
}

try {
  await main();
  process.exit(0);
} catch (e) {
  say("ERROR", `failed ${e?.stack ?? e}`);
  process.exit(1);
}
