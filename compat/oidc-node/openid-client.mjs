// The whole authorization code flow against a Latchkey issuer with panva's `openid-client`
// (6.x), unmodified: discovery, authorization URL (PKCE S256, state, nonce), the hosted
// sign-in and consent pages (driven by ./agent.mjs), callback validation (state, RFC 9207
// iss), code exchange (client_secret_basic), ID token validation (signature through the JWKS,
// nonce), userinfo, refresh rotation, introspection, revocation and RP-initiated logout, plus
// the errors the library must raise on a replayed code and a forged callback.
//
// Run by crates/latchkey-server/tests/it/compat_oidc_node.rs, which sets the environment below.
// The issuer is plain http on loopback, hence `allowInsecureRequests` (a local test only).

import assert from "node:assert/strict";
import * as client from "openid-client";

import { Agent } from "./agent.mjs";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const ISSUER = env("LATCHKEY_ISSUER");
const CLIENT_ID = env("LATCHKEY_CLIENT_ID");
const CLIENT_SECRET = env("LATCHKEY_CLIENT_SECRET");
const EMAIL = env("LATCHKEY_EMAIL");
const PASSWORD = env("LATCHKEY_PASSWORD");
const REDIRECT_URI = env("LATCHKEY_REDIRECT_URI");
const POST_LOGOUT_REDIRECT_URI = env("LATCHKEY_POST_LOGOUT_REDIRECT_URI");
const SCOPE = "openid profile email read";

// Every request the library makes, with the server's answer, to show when a step fails.
const exchanges = [];
async function recordingFetch(url, options) {
  const response = await fetch(url, options);
  const body = await response.clone().text();
  exchanges.push({
    request: `${options?.method ?? "GET"} ${url}`,
    requestBody: typeof options?.body === "string" ? options.body : options?.body?.toString(),
    status: response.status,
    headers: Object.fromEntries(
      ["content-type", "cache-control", "www-authenticate", "location"]
        .filter((h) => response.headers.has(h))
        .map((h) => [h, response.headers.get(h)]),
    ),
    body: body.length > 2000 ? `${body.slice(0, 2000)}…` : body,
  });
  return response;
}

let n = 0;
async function step(name, fn) {
  const from = exchanges.length;
  try {
    const out = await fn();
    console.log(`ok ${++n} - openid-client: ${name}`);
    return out;
  } catch (err) {
    console.log(`not ok ${++n} - openid-client: ${name}`);
    const seen = exchanges.slice(from);
    if (seen.length) console.error("the library's requests in this step and the server's responses:");
    for (const e of seen) console.error(JSON.stringify(e, null, 2));
    throw err;
  }
}

/** Asserts that `promise` rejects with a `ResponseBodyError` carrying `error`. */
async function rejectsWithOAuthError(promise, error, status = 400) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof client.ResponseBodyError, `expected ResponseBodyError, got ${describe(err)}`);
    assert.equal(err.error, error, describe(err));
    assert.equal(err.status, status, describe(err));
    return true;
  });
}

function describe(err) {
  const cause = err?.cause === undefined ? "" : ` cause=${JSON.stringify(err.cause, replacer)}`;
  return `${err?.name}: ${err?.message} code=${err?.code}${cause}`;
}

function replacer(_k, v) {
  return v instanceof Headers ? Object.fromEntries(v) : v;
}

const agent = new Agent({ fill: { email: EMAIL, password: PASSWORD }, press: { decision: "approve" } });

const config = await step("discovery", async () => {
  const config = await client.discovery(
    new URL(ISSUER),
    CLIENT_ID,
    { redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI] },
    client.ClientSecretBasic(CLIENT_SECRET),
    {
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
      [client.customFetch]: recordingFetch,
    },
  );
  const md = config.serverMetadata();
  assert.equal(md.issuer, ISSUER);
  assert.equal(md.authorization_response_iss_parameter_supported, true);
  assert.ok(md.supportsPKCE("S256"), "S256 PKCE advertised");
  for (const ep of ["introspection_endpoint", "revocation_endpoint", "userinfo_endpoint", "end_session_endpoint"]) {
    assert.equal(typeof md[ep], "string", `${ep} advertised`);
  }
  return config;
});

/** Authorization URL → agent → callback URL, with the checks that go with it. */
async function authorize() {
  const codeVerifier = client.randomPKCECodeVerifier();
  const checks = {
    pkceCodeVerifier: codeVerifier,
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
    idTokenExpected: true,
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state: checks.expectedState,
    nonce: checks.expectedNonce,
  });
  const callback = await agent.run(url);
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI, `callback ${callback}`);
  return { callback, checks };
}

const { callback, checks } = await step("authorization URL (PKCE S256, state, nonce) through sign-in and consent", async () => {
  const out = await authorize();
  const [signIn, consent, ...more] = agent.submitted;
  assert.ok(signIn?.fields.includes("password"), `a sign-in form was submitted: ${JSON.stringify(agent.submitted)}`);
  assert.equal(consent?.button, "decision=approve", `the consent was approved: ${JSON.stringify(agent.submitted)}`);
  assert.deepEqual(more, []);
  return out;
});

const tokens = await step("callback validated (state, iss) and code exchanged with client_secret_basic", async () => {
  assert.equal(callback.searchParams.get("iss"), ISSUER);
  assert.equal(callback.searchParams.get("state"), checks.expectedState);
  const tokens = await client.authorizationCodeGrant(config, callback, checks);
  assert.equal(tokens.token_type, "bearer");
  assert.equal(typeof tokens.access_token, "string");
  assert.equal(typeof tokens.refresh_token, "string");
  assert.ok(tokens.expiresIn() > 0, "expires_in");
  assert.deepEqual(new Set(tokens.scope.split(" ")), new Set(SCOPE.split(" ")));
  return tokens;
});

const claims = await step("ID token: signature (JWKS), iss, aud, nonce, exp validated by the library", () => {
  const claims = tokens.claims();
  assert.ok(claims, "an ID token was returned");
  assert.equal(claims.iss, ISSUER);
  assert.ok(claims.aud === CLIENT_ID || (Array.isArray(claims.aud) && claims.aud.includes(CLIENT_ID)));
  assert.equal(claims.nonce, checks.expectedNonce);
  assert.equal(claims.email, EMAIL);
  assert.equal(typeof claims.sub, "string");
  assert.equal(typeof claims.at_hash, "string", "at_hash present (the library does not check it in the code flow)");
  const jwks = config.serverMetadata().jwks_uri;
  assert.ok(exchanges.some((e) => e.request === `GET ${jwks}` && e.status === 200), "the JWKS was fetched to verify the signature");
  return claims;
});

await step("forged callback (wrong iss, wrong state, missing iss) is refused before any request", async () => {
  const wrongIss = new URL(callback);
  wrongIss.searchParams.set("iss", `${ISSUER}-evil`);
  await assert.rejects(client.authorizationCodeGrant(config, wrongIss, checks), (err) => {
    assert.ok(err instanceof client.ClientError, describe(err));
    assert.equal(err.code, "OAUTH_INVALID_RESPONSE", describe(err));
    return true;
  });
  const noIss = new URL(callback);
  noIss.searchParams.delete("iss");
  await assert.rejects(client.authorizationCodeGrant(config, noIss, checks), (err) => {
    assert.ok(err instanceof client.ClientError, describe(err));
    assert.equal(err.code, "OAUTH_INVALID_RESPONSE", describe(err));
    return true;
  });
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { ...checks, expectedState: client.randomState() }),
    (err) => {
      assert.ok(err instanceof client.ClientError, describe(err));
      assert.equal(err.code, "OAUTH_INVALID_RESPONSE", describe(err));
      return true;
    },
  );
});

await step("userinfo", async () => {
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.email, EMAIL);
  assert.equal(typeof info.name, "string");
});

await step("introspection of the access token: active", async () => {
  const i = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(i.active, true);
  assert.equal(i.client_id, CLIENT_ID);
  assert.equal(i.sub, claims.sub);
});

const refreshed = await step("refresh: new access token, rotated refresh token", async () => {
  const r = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(typeof r.access_token, "string");
  assert.notEqual(r.access_token, tokens.access_token);
  assert.equal(typeof r.refresh_token, "string");
  assert.notEqual(r.refresh_token, tokens.refresh_token, "refresh token rotated");
  const c = r.claims();
  if (c) assert.equal(c.sub, claims.sub, "refreshed ID token is for the same subject");
  const i = await client.tokenIntrospection(config, r.access_token);
  assert.equal(i.active, true);
  return r;
});

await step("revocation of the refreshed access token; introspection then says inactive", async () => {
  assert.equal(await client.tokenRevocation(config, refreshed.access_token, { token_type_hint: "access_token" }), undefined);
  const i = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(i.active, false);
});

await step("revocation of the rotated refresh token; refreshing with it is invalid_grant", async () => {
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false);
  await rejectsWithOAuthError(client.refreshTokenGrant(config, refreshed.refresh_token), "invalid_grant");
});

await step("RP-initiated logout (id_token_hint, post_logout_redirect_uri, state)", async () => {
  // A fresh authorization in the same agent: the session and the consent are remembered.
  const { callback, checks } = await authorize();
  const t = await client.authorizationCodeGrant(config, callback, checks);
  assert.equal((await client.tokenIntrospection(config, t.access_token)).active, true);
  const state = client.randomState();
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: t.id_token,
    post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    state,
  });
  const back = await agent.run(url);
  assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT_REDIRECT_URI, `redirected to ${back}`);
  assert.equal(back.searchParams.get("state"), state);
  assert.equal((await client.tokenIntrospection(config, t.access_token)).active, false, "logout revoked the token");
  await assert.rejects(client.fetchUserInfo(config, t.access_token, t.claims().sub), (err) => {
    assert.ok(err instanceof client.WWWAuthenticateChallengeError, describe(err));
    const [challenge] = err.cause;
    assert.equal(challenge.scheme, "bearer", describe(err));
    assert.equal(challenge.parameters.error, "invalid_token", describe(err));
    return true;
  });
});

await step("replayed authorization code: invalid_grant, and the tokens it issued are revoked", async () => {
  // The session ended at logout: the agent signs in again.
  const { callback, checks } = await authorize();
  const t = await client.authorizationCodeGrant(config, callback, checks);
  await rejectsWithOAuthError(client.authorizationCodeGrant(config, callback, checks), "invalid_grant");
  assert.equal((await client.tokenIntrospection(config, t.access_token)).active, false);
  assert.equal((await client.tokenIntrospection(config, t.refresh_token)).active, false);
});

if (process.env.LATCHKEY_COMPAT_DEBUG === "1") {
  for (const e of exchanges) console.error(JSON.stringify(e, null, 2));
}
console.log(`openid-client ${n} steps passed`);
