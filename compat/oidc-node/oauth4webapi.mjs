// The whole authorization code flow against a Latchkey issuer with panva's `oauth4webapi`
// (3.x), unmodified: discovery, authorization request (PKCE S256, state, nonce), the hosted
// sign-in and consent pages (driven by ./agent.mjs), callback validation (state, RFC 9207
// iss), code exchange (client_secret_basic), ID token validation (claims, nonce, and the
// signature through the JWKS), userinfo, refresh rotation, introspection, revocation and
// RP-initiated logout, plus the errors the library must raise on a replayed code, a wrong PKCE
// verifier, a wrong client secret and a forged callback.
//
// oauth4webapi has no URL builders: the authorization and end-session requests are the
// endpoints from the discovered metadata with their parameters, as its documentation does.
//
// Run by crates/latchkey-server/tests/it/compat_oidc_node.rs, which sets the environment below.
// The issuer is plain http on loopback, hence `allowInsecureRequests` (a local test only).

import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";

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

/** The options every request of this script passes to the library. */
const http = { [oauth.allowInsecureRequests]: true, [oauth.customFetch]: recordingFetch };

let n = 0;
async function step(name, fn) {
  const from = exchanges.length;
  try {
    const out = await fn();
    console.log(`ok ${++n} - oauth4webapi: ${name}`);
    return out;
  } catch (err) {
    console.log(`not ok ${++n} - oauth4webapi: ${name}`);
    const seen = exchanges.slice(from);
    if (seen.length) console.error("the library's requests in this step and the server's responses:");
    for (const e of seen) console.error(JSON.stringify(e, null, 2));
    throw err;
  }
}

function describe(err) {
  const cause = err?.cause === undefined ? "" : ` cause=${JSON.stringify(err.cause)}`;
  return `${err?.name}: ${err?.message} code=${err?.code}${cause}`;
}

/** Asserts that `promise` rejects with a `ResponseBodyError` carrying `error`. */
async function rejectsWithOAuthError(promise, error, status = 400) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof oauth.ResponseBodyError, `expected ResponseBodyError, got ${describe(err)}`);
    assert.equal(err.error, error, describe(err));
    assert.equal(err.status, status, describe(err));
    return true;
  });
}

/** Asserts that `fn` throws the library's `OperationProcessingError` with `code`. */
function throwsProcessingError(fn, code) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof oauth.OperationProcessingError, describe(err));
    assert.equal(err.code, code, describe(err));
    return true;
  });
}

const client = { client_id: CLIENT_ID };
const clientAuth = oauth.ClientSecretBasic(CLIENT_SECRET);
const agent = new Agent({ fill: { email: EMAIL, password: PASSWORD }, press: { decision: "approve" } });

const as = await step("discovery", async () => {
  const issuer = new URL(ISSUER);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...http }),
  );
  assert.equal(as.issuer, ISSUER);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  assert.ok(as.code_challenge_methods_supported?.includes("S256"), "S256 PKCE advertised");
  for (const ep of ["introspection_endpoint", "revocation_endpoint", "userinfo_endpoint", "end_session_endpoint", "jwks_uri"]) {
    assert.equal(typeof as[ep], "string", `${ep} advertised`);
  }
  // The RFC 8414 name answers with the same document.
  const as2 = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...http }),
  );
  assert.deepEqual(as2, as);
  return as;
});

/** Authorization request → agent → callback URL, with what the checks need. */
async function authorize() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.client_id);
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  url.searchParams.set("scope", SCOPE);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);
  const callback = await agent.run(url);
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI, `callback ${callback}`);
  return { callback, codeVerifier, state, nonce };
}

/** Callback → validated parameters → token response, processed as an OpenID response. */
async function exchange({ callback, codeVerifier, state, nonce }) {
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    REDIRECT_URI,
    codeVerifier,
    http,
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  return { response, result };
}

const auth = await step("authorization request (PKCE S256, state, nonce) through sign-in and consent", async () => {
  const out = await authorize();
  const [signIn, consent, ...more] = agent.submitted;
  assert.ok(signIn?.fields.includes("password"), `a sign-in form was submitted: ${JSON.stringify(agent.submitted)}`);
  assert.equal(consent?.button, "decision=approve", `the consent was approved: ${JSON.stringify(agent.submitted)}`);
  assert.deepEqual(more, []);
  return out;
});

await step("forged callback (wrong iss, missing iss, wrong state) is refused", () => {
  const wrongIss = new URL(auth.callback);
  wrongIss.searchParams.set("iss", `${ISSUER}-evil`);
  throwsProcessingError(() => oauth.validateAuthResponse(as, client, wrongIss, auth.state), oauth.INVALID_RESPONSE);
  const noIss = new URL(auth.callback);
  noIss.searchParams.delete("iss");
  throwsProcessingError(() => oauth.validateAuthResponse(as, client, noIss, auth.state), oauth.INVALID_RESPONSE);
  throwsProcessingError(
    () => oauth.validateAuthResponse(as, client, auth.callback, oauth.generateRandomState()),
    oauth.INVALID_RESPONSE,
  );
});

await step("wrong client secret: 401 with a Basic challenge (RFC 6749 section 5.2)", async () => {
  // Refused before the code is looked at, so the code stays usable.
  const params = oauth.validateAuthResponse(as, client, auth.callback, auth.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(`${CLIENT_SECRET}x`),
    params,
    REDIRECT_URI,
    auth.codeVerifier,
    http,
  );
  await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: auth.nonce }), (err) => {
    assert.ok(err instanceof oauth.WWWAuthenticateChallengeError, describe(err));
    assert.equal(err.status, 401, describe(err));
    assert.equal(err.cause[0].scheme, "basic", describe(err));
    return true;
  });
});

const { response: tokenResponse, result: tokens } = await step(
  "callback validated (state, iss) and code exchanged with client_secret_basic",
  async () => {
    const out = await exchange(auth);
    const t = out.result;
    assert.equal(t.token_type, "bearer");
    assert.equal(typeof t.access_token, "string");
    assert.equal(typeof t.refresh_token, "string");
    assert.ok(t.expires_in > 0, "expires_in");
    assert.deepEqual(new Set(t.scope.split(" ")), new Set(SCOPE.split(" ")));
    return out;
  },
);

const claims = await step("ID token: iss, aud, exp, nonce validated, signature verified through the JWKS", async () => {
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  assert.ok(claims, "an ID token was returned");
  await oauth.validateApplicationLevelSignature(as, tokenResponse, http);
  assert.ok(
    exchanges.some((e) => e.request === `GET ${as.jwks_uri}` && e.status === 200),
    "the JWKS was fetched to verify the signature",
  );
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.nonce, auth.nonce);
  assert.equal(claims.email, EMAIL);
  assert.equal(typeof claims.sub, "string");
  assert.equal(typeof claims.at_hash, "string", "at_hash present (the library does not check it in the code flow)");
  return claims;
});

await step("userinfo", async () => {
  const response = await oauth.userInfoRequest(as, client, tokens.access_token, http);
  const info = await oauth.processUserInfoResponse(as, client, claims.sub, response);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.email, EMAIL);
  assert.equal(typeof info.name, "string");
});

async function introspect(token) {
  const response = await oauth.introspectionRequest(as, client, clientAuth, token, http);
  return oauth.processIntrospectionResponse(as, client, response);
}

async function refresh(token) {
  const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, token, http);
  const result = await oauth.processRefreshTokenResponse(as, client, response);
  if (result.id_token) await oauth.validateApplicationLevelSignature(as, response, http);
  return result;
}

async function revoke(token, hint) {
  const response = await oauth.revocationRequest(as, client, clientAuth, token, {
    ...http,
    additionalParameters: { token_type_hint: hint },
  });
  return oauth.processRevocationResponse(response);
}

await step("introspection of the access token: active", async () => {
  const i = await introspect(tokens.access_token);
  assert.equal(i.active, true);
  assert.equal(i.client_id, CLIENT_ID);
  assert.equal(i.sub, claims.sub);
});

const refreshed = await step("refresh: new access token, rotated refresh token", async () => {
  const r = await refresh(tokens.refresh_token);
  assert.equal(typeof r.access_token, "string");
  assert.notEqual(r.access_token, tokens.access_token);
  assert.equal(typeof r.refresh_token, "string");
  assert.notEqual(r.refresh_token, tokens.refresh_token, "refresh token rotated");
  const c = oauth.getValidatedIdTokenClaims(r);
  if (c) assert.equal(c.sub, claims.sub, "refreshed ID token is for the same subject");
  assert.equal((await introspect(r.access_token)).active, true);
  return r;
});

await step("revocation of the refreshed access token; introspection then says inactive", async () => {
  assert.equal(await revoke(refreshed.access_token, "access_token"), undefined);
  assert.equal((await introspect(refreshed.access_token)).active, false);
});

await step("revocation of the rotated refresh token; refreshing with it is invalid_grant", async () => {
  await revoke(refreshed.refresh_token, "refresh_token");
  assert.equal((await introspect(refreshed.refresh_token)).active, false);
  await rejectsWithOAuthError(refresh(refreshed.refresh_token), "invalid_grant");
});

await step("RP-initiated logout (id_token_hint, post_logout_redirect_uri, state)", async () => {
  // A fresh authorization in the same agent: the session and the consent are remembered.
  const { result: t } = await exchange(await authorize());
  assert.equal((await introspect(t.access_token)).active, true);
  const state = oauth.generateRandomState();
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set("id_token_hint", t.id_token);
  url.searchParams.set("post_logout_redirect_uri", POST_LOGOUT_REDIRECT_URI);
  url.searchParams.set("state", state);
  const back = await agent.run(url);
  assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT_REDIRECT_URI, `redirected to ${back}`);
  assert.equal(back.searchParams.get("state"), state);
  assert.equal((await introspect(t.access_token)).active, false, "logout revoked the token");
  const response = await oauth.userInfoRequest(as, client, t.access_token, http);
  await assert.rejects(
    oauth.processUserInfoResponse(as, client, oauth.getValidatedIdTokenClaims(t).sub, response),
    (err) => {
      assert.ok(err instanceof oauth.WWWAuthenticateChallengeError, describe(err));
      assert.equal(err.status, 401, describe(err));
      assert.equal(err.cause[0].scheme, "bearer", describe(err));
      assert.equal(err.cause[0].parameters.error, "invalid_token", describe(err));
      return true;
    },
  );
});

await step("wrong PKCE code_verifier is invalid_grant", async () => {
  // The session ended at logout: the agent signs in again.
  const a = await authorize();
  await rejectsWithOAuthError(exchange({ ...a, codeVerifier: oauth.generateRandomCodeVerifier() }), "invalid_grant");
});

await step("replayed authorization code: invalid_grant, and the tokens it issued are revoked", async () => {
  const a = await authorize();
  const { result: t } = await exchange(a);
  await rejectsWithOAuthError(exchange(a), "invalid_grant");
  assert.equal((await introspect(t.access_token)).active, false);
  assert.equal((await introspect(t.refresh_token)).active, false);
});

if (process.env.LATCHKEY_COMPAT_DEBUG === "1") {
  for (const e of exchanges) console.error(JSON.stringify(e, null, 2));
}
console.log(`oauth4webapi ${n} steps passed`);
