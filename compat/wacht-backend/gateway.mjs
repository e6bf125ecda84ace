// Compatibility check: @wacht/backend 1.0.0-beta.20's gateway API (`gateway.checkPrincipalAuthz`,
// `gateway.checkAuthz`, `gateway.resolveGatewayPrincipalContext`), used unchanged against a
// running Latchkey. The only configuration is the gateway URL (`options.gatewayUrl`) and a
// `fetch` wrapper (`options.fetch`) that adds the backend API key: the package's `checkAuthz`
// sends no Authorization header of its own, and Latchkey requires callers to authenticate.
// Responses are checked against the package's own types (dist/index.d.ts, AuthzCheckResponse).
//
// Environment:
//   LATCHKEY_GATEWAY_URL        base URL of the gateway, e.g. http://127.0.0.1:8080
//   LATCHKEY_API_KEY            a backend API key (lk_api_…)
//   LATCHKEY_TOKEN              a live access token (scope read, bound to LATCHKEY_OAUTH_RESOURCE)
//   LATCHKEY_CLIENT_ID          the OAuth client_id the token was issued to
//   LATCHKEY_USER_ID            the id of the user who granted it
//   LATCHKEY_RESOURCE           the resource to check, as the SDK user writes it: "mcp"
//   LATCHKEY_OAUTH_RESOURCE     its canonical identifier, e.g. https://api.acme.test/mcp
//   LATCHKEY_GRANTED_RESOURCE   what the user granted, e.g. urn:latchkey:user:<id>
//   LATCHKEY_REVOKED_TOKEN      an access token whose grant was revoked
//   LATCHKEY_RATE_LIMIT_RULE    optional: a rate-limit rule the check must report, e.g. client:generous
//
// crates/latchkey-server/tests/it/compat_wacht_backend_gateway.rs sets all of these up.
//
// Prints one line per step; exits 0 only if every check passed.

import assert from 'node:assert/strict';
import { AuthenticationError, WachtError } from '@wacht/backend';

let current = 'setup';
process.on('uncaughtException', (err) => {
  console.log(`FAIL ${current}: ${err?.stack ?? err}`);
  process.exit(1);
});

function env(name, { optional = false } = {}) {
  const v = process.env[name];
  if (!v && !optional) {
    console.error(`FAIL setup: the environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const gatewayUrl = env('LATCHKEY_GATEWAY_URL');
const apiKey = env('LATCHKEY_API_KEY');
const token = env('LATCHKEY_TOKEN');
const clientId = env('LATCHKEY_CLIENT_ID');
const userId = env('LATCHKEY_USER_ID');
const resource = env('LATCHKEY_RESOURCE');
const oauthResource = env('LATCHKEY_OAUTH_RESOURCE');
const grantedResource = env('LATCHKEY_GRANTED_RESOURCE');
const revokedToken = env('LATCHKEY_REVOKED_TOKEN');
const rateLimitRule = env('LATCHKEY_RATE_LIMIT_RULE', { optional: true });

// The seed snippet below is written the way an integrator copies it from the SDK docs, with
// the resource spelled "mcp".
assert.equal(resource, 'mcp', 'the seed snippet checks resource "mcp": set LATCHKEY_RESOURCE=mcp');

// The documented way to authenticate @wacht/backend's gateway calls: its `fetch` option. A
// wrapper around the global fetch that adds the backend API key to every request.
const withApiKey = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${apiKey}`);
  return fetch(input, { ...init, headers });
};

// ---------------------------------------------------------------------------------------
// Shape checks, field by field as declared in @wacht/backend's dist/index.d.ts.
//
// JSON has no `undefined`: where the .d.ts declares `field?: T` the server may send `null`.
// That is accepted (the SDK's own code treats null like absent) but listed, so any
// difference between the declared types and what is on the wire is visible in the output.

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const nullsForOptional = new Set();

function isString(v, what) {
  assert.equal(typeof v, 'string', `${what} must be a string, got ${JSON.stringify(v)}`);
}

function isNonEmptyString(v, what) {
  isString(v, what);
  assert.ok(v.length > 0, `${what} must not be empty`);
}

function isNumber(v, what) {
  assert.equal(typeof v, 'number', `${what} must be a number, got ${JSON.stringify(v)}`);
  assert.ok(Number.isFinite(v), `${what} must be finite, got ${v}`);
}

function isBool(v, what) {
  assert.equal(typeof v, 'boolean', `${what} must be a boolean, got ${JSON.stringify(v)}`);
}

function isObject(v, what) {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} must be an object, got ${JSON.stringify(v)}`);
}

function isStringArray(v, what) {
  assert.ok(Array.isArray(v), `${what} must be an array, got ${JSON.stringify(v)}`);
  v.forEach((s, i) => isString(s, `${what}[${i}]`));
}

function isTimestamp(v, what) {
  isString(v, what);
  assert.match(v, RFC3339, `${what} must be an RFC 3339 date-time, got ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must parse as a date, got ${v}`);
}

/** `field?: T`: absent, or `check` passes (null accepted and recorded, see above). */
function optional(obj, key, what, check) {
  const v = obj[key];
  if (v === undefined) return;
  if (v === null) {
    nullsForOptional.add(what);
    return;
  }
  check(v, what);
}

/** `field: T | null` (declared nullable): null or `check` passes. */
function nullable(v, what, check) {
  if (v !== null) check(v, what);
}

/** AuthzIdentity. */
function checkIdentity(id, what) {
  isObject(id, what);
  for (const k of ['key_id', 'deployment_id', 'app_slug', 'key_name']) isNonEmptyString(id[k], `${what}.${k}`);
  for (const k of ['owner_user_id', 'organization_id', 'workspace_id', 'organization_membership_id', 'workspace_membership_id']) {
    optional(id, k, `${what}.${k}`, isNonEmptyString);
  }
}

/** AuthzMetadata. */
function checkMetadata(m, what) {
  isObject(m, what);
  optional(m, 'principal_type', `${what}.principal_type`, isString);
  for (const k of ['permissions_checked', 'organization_permissions', 'workspace_permissions', 'scopes']) {
    optional(m, k, `${what}.${k}`, isStringArray);
  }
  // Declared `string | null`, so null is not a deviation here.
  for (const k of ['oauth_resource', 'granted_resource']) {
    if (m[k] !== undefined) nullable(m[k], `${what}.${k}`, isString);
  }
  optional(m, 'expires_at', `${what}.expires_at`, isTimestamp);
}

/** AuthzRateLimitState. */
function checkRateLimit(r, what) {
  isObject(r, what);
  isString(r.rule, `${what}.rule`);
  isNumber(r.remaining, `${what}.remaining`);
  isNumber(r.limit, `${what}.limit`);
}

/** AuthzCheckResponse. */
function checkResponse(r, what) {
  isObject(r, what);
  isNonEmptyString(r.request_id, `${what}.request_id`);
  isBool(r.allowed, `${what}.allowed`);
  optional(r, 'reason', `${what}.reason`, (v, w) =>
    assert.ok(['permission_denied', 'rate_limited'].includes(v), `${w} must be an AuthzDenyReason, got ${JSON.stringify(v)}`),
  );
  optional(r, 'blocked_rule', `${what}.blocked_rule`, isString);
  optional(r, 'identity', `${what}.identity`, checkIdentity);
  isStringArray(r.permissions, `${what}.permissions`);
  optional(r, 'metadata', `${what}.metadata`, checkMetadata);
  assert.ok(Array.isArray(r.rate_limits), `${what}.rate_limits must be an array, got ${JSON.stringify(r.rate_limits)}`);
  r.rate_limits.forEach((x, i) => checkRateLimit(x, `${what}.rate_limits[${i}]`));
  optional(r, 'retry_after', `${what}.retry_after`, isNumber);
  isObject(r.headers, `${what}.headers`);
  for (const [k, v] of Object.entries(r.headers)) isString(v, `${what}.headers[${JSON.stringify(k)}]`);
}

/** ResolvedGatewayPrincipalContext, for an OAuth access token of LATCHKEY_USER_ID. */
function checkPrincipal(p, what) {
  isObject(p, what);
  assert.equal(p.tokenType, 'oauth_token', `${what}.tokenType`);
  checkIdentity(p.identity, `${what}.identity`);
  assert.equal(p.identity.principal_type, 'oauth_access_token', `${what}.identity.principal_type`);
  checkMetadata(p.metadata, `${what}.metadata`);
  assert.equal(p.ownerUserId, userId, `${what}.ownerUserId`);
  isStringArray(p.permissions, `${what}.permissions`);
}

function ok(line) {
  console.log(`ok   ${current}: ${line}`);
}

async function step(name, fn) {
  current = name;
  ok(await fn());
}

/** The same check sent without the SDK, to read the server's own status and body. */
async function rawCheck(principalValue, { authenticated = true } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (authenticated) headers.Authorization = `Bearer ${apiKey}`;
  const res = await fetch(`${gatewayUrl.replace(/\/+$/, '')}/v1/authz/check`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ principal: { type: 'oauth_access_token', value: principalValue }, resource, method: 'POST' }),
  });
  return { status: res.status, body: await res.json() };
}

/** `promise` must reject with the SDK's AuthenticationError carrying the server's message. */
async function expectAuthenticationError(promise, raw, what) {
  let caught;
  try {
    const r = await promise;
    assert.fail(`${what}: resolved instead of throwing (allowed=${r?.allowed}, reason=${r?.reason})`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    caught = err;
  }
  assert.ok(caught instanceof AuthenticationError, `${what}: expected AuthenticationError, got ${caught?.name}: ${caught?.message}`);
  assert.ok(caught instanceof WachtError, `${what}: AuthenticationError is a WachtError`);
  assert.equal(caught.name, 'AuthenticationError');
  assert.equal(caught.statusCode, 401, `${what}: statusCode`);
  assert.equal(raw.status, 401, `${what}: the server answers 401: ${JSON.stringify(raw.body)}`);
  isNonEmptyString(raw.body.message, `${what}: the server's message`);
  assert.equal(caught.message, raw.body.message, `${what}: the error carries the server's message`);
  return caught;
}

// =======================================================================================
// SEED SNIPPET — begin. Integrator code as written from the @wacht/backend docs; kept
// verbatim. Only `gatewayUrl` and the `fetch: withApiKey` option are Latchkey-specific.
current = 'seed snippet';
import { gateway } from "@wacht/backend";
const result = await gateway.checkPrincipalAuthz({ principalType: "oauth_access_token", principalValue: token, method: "POST", resource: "mcp", requiredPermissions: ["read"] }, { gatewayUrl, fetch: withApiKey });
const principal = gateway.resolveGatewayPrincipalContext(result);
const oauthClientId = result.headers["x-wacht-oauth-client-id"];
const granted = principal.metadata.granted_resource;
const audience = principal.metadata.oauth_resource;
const scopes = principal.metadata.scopes;
const expiresAt = principal.metadata.expires_at;
// SEED SNIPPET — end.
// =======================================================================================

assert.equal(result.allowed, true, `allowed: ${JSON.stringify(result)}`);
assert.equal(oauthClientId, clientId, 'headers["x-wacht-oauth-client-id"]');
assert.equal(granted, grantedResource, 'metadata.granted_resource');
assert.equal(audience, oauthResource, 'metadata.oauth_resource');
isStringArray(scopes, 'metadata.scopes');
assert.ok(scopes.includes('read'), `metadata.scopes includes read: ${JSON.stringify(scopes)}`);
isTimestamp(expiresAt, 'metadata.expires_at');
assert.ok(Date.parse(expiresAt) > Date.now(), `metadata.expires_at is in the future: ${expiresAt}`);
checkPrincipal(principal, 'principal');
ok(`allowed; client ${oauthClientId}, granted ${granted}, resource ${audience}, scopes [${scopes.join(' ')}], expires ${expiresAt}`);

await step('response matches AuthzCheckResponse', async () => {
  checkResponse(result, 'result');
  assert.equal(result.identity.key_name, clientId, 'identity.key_name');
  assert.equal(result.identity.owner_user_id, userId, 'identity.owner_user_id');
  assert.ok(result.permissions.includes('read'), `permissions includes read: ${JSON.stringify(result.permissions)}`);
  assert.equal(result.metadata.principal_type, 'oauth_access_token', 'metadata.principal_type');
  assert.equal(result.headers['x-wacht-granted-resource'], grantedResource, 'headers["x-wacht-granted-resource"]');
  assert.equal(result.headers['x-wacht-oauth-resource'], oauthResource, 'headers["x-wacht-oauth-resource"]');
  if (rateLimitRule) {
    assert.ok(
      result.rate_limits.some((r) => r.rule === rateLimitRule),
      `rate_limits reports ${rateLimitRule}: ${JSON.stringify(result.rate_limits)}`,
    );
  }
  const nulls = [...nullsForOptional];
  return (
    `request_id ${result.request_id}, ${result.rate_limits.length} rate-limit state(s), ${Object.keys(result.headers).length} headers` +
    (nulls.length ? `; NOTE null sent for optional (\`?:\`) fields: ${nulls.join(', ')}` : '')
  );
});

await step('checkAuthz with the raw payload', async () => {
  const raw = await gateway.checkAuthz(
    {
      principal: { type: 'oauth_access_token', value: token },
      resource,
      method: 'POST',
      client_ip: '203.0.113.7',
      user_agent: 'latchkey-compat/1.0',
      required_permissions: ['read'],
    },
    { gatewayUrl, fetch: withApiKey },
  );
  checkResponse(raw, 'checkAuthz');
  assert.equal(raw.allowed, true, `allowed: ${JSON.stringify(raw)}`);
  assert.notEqual(raw.request_id, result.request_id, 'each check has its own request_id');
  assert.deepEqual(raw.identity, result.identity, 'the same identity as checkPrincipalAuthz');
  assert.deepEqual(raw.permissions, result.permissions, 'the same permissions');
  assert.deepEqual(raw.headers, result.headers, 'the same headers');
  for (const k of ['principal_type', 'scopes', 'oauth_resource', 'granted_resource', 'expires_at']) {
    assert.deepEqual(raw.metadata[k], result.metadata[k], `the same metadata.${k}`);
  }
  const p = gateway.resolveGatewayPrincipalContext(raw);
  checkPrincipal(p, 'resolveGatewayPrincipalContext(checkAuthz)');
  assert.equal(p.metadata.oauth_resource, oauthResource);
  return `allowed, same identity/permissions/headers/metadata as checkPrincipalAuthz`;
});

await step('permission denied resolves with allowed false', async () => {
  const denied = await gateway.checkPrincipalAuthz(
    { principalType: 'oauth_access_token', principalValue: token, method: 'POST', resource, requiredPermissions: ['admin'] },
    { gatewayUrl, fetch: withApiKey },
  );
  checkResponse(denied, 'denied');
  assert.equal(denied.allowed, false, `allowed: ${JSON.stringify(denied)}`);
  assert.equal(denied.reason, 'permission_denied', 'reason');
  assert.ok(denied.identity, 'identity is present on a denial too');
  const p = gateway.resolveGatewayPrincipalContext(denied);
  checkPrincipal(p, 'resolveGatewayPrincipalContext(denied)');
  return `allowed=false, reason=${denied.reason}, missing ${JSON.stringify(denied.metadata?.missing_permissions)}`;
});

await step('revoked grant throws AuthenticationError', async () => {
  const raw = await rawCheck(revokedToken);
  const err = await expectAuthenticationError(
    gateway.checkPrincipalAuthz(
      { principalType: 'oauth_access_token', principalValue: revokedToken, method: 'POST', resource: 'mcp', requiredPermissions: ['read'] },
      { gatewayUrl, fetch: withApiKey },
    ),
    raw,
    'revoked grant',
  );
  assert.equal(raw.body.reason, 'grant_revoked', `the server's reason: ${JSON.stringify(raw.body)}`);
  return `${err.name} ${err.statusCode} "${err.message}" (server reason ${raw.body.reason})`;
});

await step('unknown token throws AuthenticationError', async () => {
  const unknown = `lk_at_${'x'.repeat(43)}`;
  const raw = await rawCheck(unknown);
  const err = await expectAuthenticationError(
    gateway.checkPrincipalAuthz(
      { principalType: 'oauth_access_token', principalValue: unknown, method: 'POST', resource, requiredPermissions: ['read'] },
      { gatewayUrl, fetch: withApiKey },
    ),
    raw,
    'unknown token',
  );
  const garbage = 'not-a-token';
  const rawGarbage = await rawCheck(garbage);
  const err2 = await expectAuthenticationError(
    gateway.checkAuthz({ principal: { type: 'oauth_access_token', value: garbage }, resource, method: 'POST' }, { gatewayUrl, fetch: withApiKey }),
    rawGarbage,
    'malformed token',
  );
  return `${err.name} ${err.statusCode} "${err.message}" (${raw.body.reason}); malformed: "${err2.message}" (${rawGarbage.body.reason})`;
});

await step('no API key throws AuthenticationError', async () => {
  const raw = await rawCheck(token, { authenticated: false });
  const err = await expectAuthenticationError(
    gateway.checkPrincipalAuthz(
      { principalType: 'oauth_access_token', principalValue: token, method: 'POST', resource: 'mcp', requiredPermissions: ['read'] },
      { gatewayUrl },
    ),
    raw,
    'no API key',
  );
  return `${err.name} ${err.statusCode} "${err.message}"`;
});

current = 'done';
console.log('ok   all gateway checks passed');
