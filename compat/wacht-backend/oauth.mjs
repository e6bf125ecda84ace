// Compatibility check: every `oauth` management call of @wacht/backend 1.0.0-beta.20, used
// exactly as its README shows (`new WachtClient({ apiKey, baseUrl })`), against a running
// Latchkey. Each call's result is checked against the package's own types (dist/index.d.ts)
// and every write is read back through the API.
//
// Environment:
//   LATCHKEY_URL               base URL of the server, e.g. http://127.0.0.1:8080
//   LATCHKEY_API_KEY           a backend API key (lk_api_…)
//   LATCHKEY_GRANT_APP         slug of an app that has a client with one active grant
//   LATCHKEY_GRANT_CLIENT_ID   that client's record id
//   LATCHKEY_GRANT_ID          that grant's id (it is revoked by this script)
//
// Grants come from end-user consent and cannot be created through the management API, so
// the caller seeds one (crates/latchkey-server/tests/it/compat_wacht_backend.rs does).
//
// Prints one line per call; exits 0 only if every check passed.

import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, WachtClient, WachtError } from '@wacht/backend';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL setup: the environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const baseUrl = env('LATCHKEY_URL');
const apiKey = env('LATCHKEY_API_KEY');
const grantApp = env('LATCHKEY_GRANT_APP');
const grantClient = env('LATCHKEY_GRANT_CLIENT_ID');
const grantId = env('LATCHKEY_GRANT_ID');

const wacht = new WachtClient({ apiKey, baseUrl });
const { oauth } = wacht;

// Unique names, so the script can also run against a server that already has data.
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const slug = `sdk-${run}`;
const minSlug = `sdk-min-${run}`;
const fqdn = `auth-${run}.example.invalid`;

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

// ---------------------------------------------------------------------------------------
// Shape checks, field by field as declared in @wacht/backend's dist/index.d.ts.

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isString(v, what) {
  assert.equal(typeof v, 'string', `${what} must be a string, got ${JSON.stringify(v)}`);
}

function isId(v, what) {
  isString(v, what);
  assert.ok(v.length > 0, `${what} must not be empty`);
}

function isTimestamp(v, what) {
  isString(v, what);
  assert.match(v, RFC3339, `${what} must be an RFC 3339 date-time, got ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must parse as a date, got ${v}`);
}

function isBool(v, what) {
  assert.equal(typeof v, 'boolean', `${what} must be a boolean, got ${JSON.stringify(v)}`);
}

function isStringArray(v, what) {
  assert.ok(Array.isArray(v), `${what} must be an array, got ${JSON.stringify(v)}`);
  v.forEach((s, i) => isString(s, `${what}[${i}]`));
}

function isObject(v, what) {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} must be an object, got ${JSON.stringify(v)}`);
}

/** `key?: string` — absent, or a string (never null). */
function optString(obj, key, what) {
  if (key in obj) isString(obj[key], `${what}.${key}`);
}

function optTimestamp(obj, key, what) {
  if (key in obj) isTimestamp(obj[key], `${what}.${key}`);
}

const CATEGORIES = ['', 'personal', 'organization', 'workspace'];

function checkScopeDefinition(d, what) {
  isObject(d, what);
  isString(d.scope, `${what}.scope`);
  isString(d.display_name, `${what}.display_name`);
  isString(d.description, `${what}.description`);
  isBool(d.archived, `${what}.archived`);
  assert.ok(CATEGORIES.includes(d.category), `${what}.category must be one of ${JSON.stringify(CATEGORIES)}, got ${JSON.stringify(d.category)}`);
  optString(d, 'organization_permission', what);
  optString(d, 'workspace_permission', what);
}

function checkApp(a, what = 'OAuthApp') {
  isObject(a, what);
  isId(a.id, `${what}.id`);
  isString(a.slug, `${what}.slug`);
  isString(a.name, `${what}.name`);
  optString(a, 'description', what);
  optString(a, 'logo_url', what);
  isString(a.fqdn, `${what}.fqdn`);
  isStringArray(a.supported_scopes, `${what}.supported_scopes`);
  assert.ok(Array.isArray(a.scope_definitions), `${what}.scope_definitions must be an array`);
  a.scope_definitions.forEach((d, i) => checkScopeDefinition(d, `${what}.scope_definitions[${i}]`));
  assert.deepEqual(
    a.scope_definitions.map((d) => d.scope),
    a.supported_scopes,
    `${what}: scope_definitions must describe exactly supported_scopes, in order`,
  );
  isBool(a.allow_dynamic_client_registration, `${what}.allow_dynamic_client_registration`);
  isBool(a.is_active, `${what}.is_active`);
  isTimestamp(a.created_at, `${what}.created_at`);
  isTimestamp(a.updated_at, `${what}.updated_at`);
  return a;
}

function checkClient(c, { withSecret }, what = 'OAuthClient') {
  isObject(c, what);
  isId(c.id, `${what}.id`);
  isId(c.oauth_app_id, `${what}.oauth_app_id`);
  isId(c.client_id, `${what}.client_id`);
  isString(c.client_auth_method, `${what}.client_auth_method`);
  isStringArray(c.grant_types, `${what}.grant_types`);
  isStringArray(c.redirect_uris, `${what}.redirect_uris`);
  for (const k of [
    'client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'software_id',
    'software_version', 'token_endpoint_auth_signing_alg', 'jwks_uri', 'public_key_pem',
  ]) {
    optString(c, k, what);
  }
  if ('contacts' in c) isStringArray(c.contacts, `${what}.contacts`);
  if ('jwks' in c) {
    isObject(c.jwks, `${what}.jwks`);
    assert.ok(Array.isArray(c.jwks.keys), `${what}.jwks.keys must be an array`);
  }
  isBool(c.is_active, `${what}.is_active`);
  isTimestamp(c.created_at, `${what}.created_at`);
  isTimestamp(c.updated_at, `${what}.updated_at`);
  if (withSecret) {
    isString(c.client_secret, `${what}.client_secret`);
    assert.ok(c.client_secret.length >= 32, `${what}.client_secret looks too short`);
  } else {
    assert.ok(!('client_secret' in c), `${what} must not carry client_secret here`);
  }
  return c;
}

function checkGrant(g, what = 'OAuthGrant') {
  isObject(g, what);
  isId(g.id, `${what}.id`);
  isString(g.api_auth_app_slug, `${what}.api_auth_app_slug`);
  isId(g.oauth_client_id, `${what}.oauth_client_id`);
  isString(g.resource, `${what}.resource`);
  isStringArray(g.scopes, `${what}.scopes`);
  isString(g.status, `${what}.status`);
  isTimestamp(g.granted_at, `${what}.granted_at`);
  optTimestamp(g, 'expires_at', what);
  optTimestamp(g, 'revoked_at', what);
  optString(g, 'granted_by_user_id', what);
  isTimestamp(g.created_at, `${what}.created_at`);
  isTimestamp(g.updated_at, `${what}.updated_at`);
  return g;
}

function checkKey(k, what = 'OAuthAppSigningKey') {
  isObject(k, what);
  isString(k.kid, `${what}.kid`);
  isString(k.algorithm, `${what}.algorithm`);
  isString(k.status, `${what}.status`);
  isString(k.public_key_pem, `${what}.public_key_pem`);
  assert.match(k.public_key_pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/, `${what}.public_key_pem must be a PEM public key`);
  return k;
}

// ---------------------------------------------------------------------------------------
// Read-backs, through the SDK's list calls.

async function readApp(s) {
  const apps = await oauth.listOAuthApps();
  const found = apps.filter((a) => a.slug === s);
  assert.equal(found.length, 1, `listOAuthApps must list app ${s} exactly once`);
  return checkApp(found[0], `listOAuthApps[${s}]`);
}

async function readClient(s, id) {
  const clients = await oauth.listOAuthClients(s);
  const found = clients.filter((c) => c.id === id);
  assert.equal(found.length, 1, `listOAuthClients(${s}) must list client ${id} exactly once`);
  return checkClient(found[0], { withSecret: false }, `listOAuthClients[${id}]`);
}

async function readGrant() {
  const grants = await oauth.listOAuthGrants(grantApp, grantClient);
  const found = grants.filter((g) => g.id === grantId);
  assert.equal(found.length, 1, `listOAuthGrants must list grant ${grantId} exactly once`);
  return checkGrant(found[0], `listOAuthGrants[${grantId}]`);
}

async function readKeys(s) {
  const keys = await oauth.listOAuthAppSigningKeys(s);
  assert.ok(Array.isArray(keys), `listOAuthAppSigningKeys must return an array, got ${JSON.stringify(keys)}`);
  keys.forEach((k, i) => checkKey(k, `listOAuthAppSigningKeys[${i}]`));
  return keys;
}

function scopeOf(app, name) {
  const d = app.scope_definitions.find((x) => x.scope === name);
  assert.ok(d, `app ${app.slug} must define scope ${name}`);
  return d;
}

/** The server's own error body for a request, to compare with what the SDK surfaces. */
async function rawError(method, path, body) {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, body: json };
}

async function expectSdkError(promise, ErrorClass, status, serverMessage, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what} must throw`);
  assert.ok(err instanceof ErrorClass, `${what} must throw ${ErrorClass.name}, got ${err?.name}: ${err?.message}`);
  assert.ok(err instanceof WachtError, `${what}: the error must be a WachtError`);
  assert.equal(err.statusCode, status, `${what}: statusCode`);
  assert.equal(err.message, serverMessage, `${what}: the SDK must surface the server's message`);
  return err;
}

// ---------------------------------------------------------------------------------------

let passed = 0;
async function step(name, fn) {
  try {
    const summary = await fn();
    passed += 1;
    console.log(`ok   ${name}${summary ? ` — ${summary}` : ''}`);
  } catch (e) {
    console.log(`FAIL ${name}`);
    console.error(`FAIL ${name}:`);
    console.error(e?.stack ?? String(e));
    if (e instanceof WachtError) {
      console.error(`(${e.name}: statusCode ${e.statusCode}, details ${JSON.stringify(e.details)})`);
    }
    process.exit(1);
  }
}

let app; // the full app, created through the multipart form
let minApp; // an app created with slug and name only
let client; // the confidential client, with its one-time secret
let rotatedSecret;
let firstKid;
let secondKid;

await step('listOAuthApps', async () => {
  const apps = await oauth.listOAuthApps();
  assert.ok(Array.isArray(apps), `must return an array, got ${JSON.stringify(apps)}`);
  apps.forEach((a, i) => checkApp(a, `apps[${i}]`));
  assert.ok(apps.some((a) => a.slug === grantApp), `must list the seeded app ${grantApp}`);
  assert.ok(!apps.some((a) => a.slug === slug), `must not yet list ${slug}`);
  return `${apps.length} app(s), including ${grantApp}`;
});

await step('createOAuthApp', async () => {
  const scopeDefinitions = [
    { scope: 'read', display_name: 'Read', description: 'Read your data', archived: false, category: 'personal' },
    {
      scope: 'write', display_name: 'Write', description: 'Change data of your organization',
      archived: false, category: 'organization', organization_permission: 'org:write',
    },
    {
      scope: 'mcp:invoke', display_name: 'Invoke tools', description: 'Call MCP tools',
      archived: false, category: 'workspace', workspace_permission: 'tools:invoke',
    },
    { scope: 'legacy', display_name: 'Legacy', description: 'Kept for old clients', archived: true, category: '' },
  ];
  app = checkApp(
    await oauth.createOAuthApp({
      slug,
      name: 'SDK compat app',
      description: 'Created by @wacht/backend',
      fqdn,
      logo_file: new Blob([PNG], { type: 'image/png' }),
      supported_scopes: ['read', 'write', 'mcp:invoke', 'legacy'],
      scope_definitions: scopeDefinitions,
      allow_dynamic_client_registration: true,
    }),
  );
  assert.equal(app.slug, slug);
  assert.equal(app.name, 'SDK compat app');
  assert.equal(app.description, 'Created by @wacht/backend');
  assert.equal(app.fqdn, fqdn);
  assert.deepEqual(app.supported_scopes, ['read', 'write', 'mcp:invoke', 'legacy']);
  assert.deepEqual(app.scope_definitions, scopeDefinitions);
  assert.equal(app.allow_dynamic_client_registration, true);
  assert.equal(app.is_active, true);

  // The uploaded logo is served back byte for byte.
  isString(app.logo_url, 'OAuthApp.logo_url');
  const logo = await fetch(app.logo_url);
  assert.equal(logo.status, 200, `GET ${app.logo_url}`);
  assert.equal(logo.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await logo.arrayBuffer()), PNG, 'the logo must be served back unchanged');

  assert.deepEqual(await readApp(slug), app, 'listOAuthApps must return the app as created');

  // Only slug and name: the optional form fields are simply not sent.
  minApp = checkApp(await oauth.createOAuthApp({ slug: minSlug, name: 'Minimal app' }));
  assert.equal(minApp.slug, minSlug);
  assert.equal(minApp.fqdn, '');
  assert.ok(!('description' in minApp) && !('logo_url' in minApp), 'unset optional fields are absent');
  assert.deepEqual(minApp.supported_scopes, []);
  assert.equal(minApp.allow_dynamic_client_registration, false);
  assert.deepEqual(await readApp(minSlug), minApp, 'listOAuthApps must return the minimal app as created');

  // A taken slug: the SDK's ConflictError with the server's message.
  const raw = await rawError('POST', '/oauth/apps', { slug, name: 'Again' });
  assert.equal(raw.status, 409);
  await expectSdkError(oauth.createOAuthApp({ slug, name: 'Again' }), ConflictError, 409, raw.body.message, 'createOAuthApp(taken slug)');
  return `multipart form with logo (${PNG.length}-byte PNG, served back), 4 scopes with categories, fqdn ${fqdn}; minimal app; taken slug → ConflictError`;
});

await step('updateOAuthApp', async () => {
  const before = app;
  const updated = checkApp(
    await oauth.updateOAuthApp(slug, {
      name: 'SDK compat app (renamed)',
      description: 'Updated by @wacht/backend',
      // Only `read` is mentioned: the others must keep archive flag and mapping.
      scope_definitions: [
        { scope: 'read', display_name: 'Read everything', description: 'Read all of your data', archived: false, category: 'personal' },
      ],
      allow_dynamic_client_registration: false,
    }),
  );
  assert.equal(updated.id, before.id);
  assert.equal(updated.name, 'SDK compat app (renamed)');
  assert.equal(updated.description, 'Updated by @wacht/backend');
  assert.equal(updated.allow_dynamic_client_registration, false);
  assert.equal(updated.fqdn, fqdn);
  assert.equal(updated.logo_url, before.logo_url);
  assert.deepEqual(updated.supported_scopes, before.supported_scopes);
  assert.deepEqual(scopeOf(updated, 'read'), {
    scope: 'read', display_name: 'Read everything', description: 'Read all of your data', archived: false, category: 'personal',
  });
  for (const name of ['write', 'mcp:invoke', 'legacy']) {
    assert.deepEqual(scopeOf(updated, name), scopeOf(before, name), `scope ${name} was not mentioned and must be unchanged`);
  }
  assert.equal(scopeOf(updated, 'legacy').archived, true, 'archive flag survives');
  assert.equal(scopeOf(updated, 'mcp:invoke').workspace_permission, 'tools:invoke', 'mapping survives');
  assert.deepEqual(await readApp(slug), updated, 'listOAuthApps must return the updated app');
  app = updated;

  // is_active and supported_scopes on the minimal app.
  const disabled = checkApp(await oauth.updateOAuthApp(minSlug, { is_active: false }));
  assert.equal(disabled.is_active, false);
  assert.deepEqual(await readApp(minSlug), disabled);
  const enabled = checkApp(await oauth.updateOAuthApp(minSlug, { is_active: true, supported_scopes: ['alpha', 'beta'] }));
  assert.equal(enabled.is_active, true);
  assert.deepEqual(enabled.supported_scopes, ['alpha', 'beta']);
  assert.deepEqual(enabled.scope_definitions.map((d) => [d.display_name, d.archived, d.category]), [['alpha', false, ''], ['beta', false, '']]);
  assert.equal(enabled.name, 'Minimal app');
  assert.deepEqual(await readApp(minSlug), enabled);
  minApp = enabled;
  return 'partial scope_definitions kept the archive flag of "legacy" and the mapping of "mcp:invoke"; is_active off/on; supported_scopes';
});

await step('verifyOAuthAppDomain', async () => {
  const res = await oauth.verifyOAuthAppDomain(slug);
  isObject(res, 'OAuthDomainVerificationResponse');
  isString(res.domain, 'domain');
  isString(res.cname_target, 'cname_target');
  isBool(res.verified, 'verified');
  assert.equal(res.domain, fqdn);
  assert.ok(res.cname_target.length > 0, 'cname_target must not be empty');
  assert.equal(res.verified, false, `${fqdn} cannot resolve, so it is not verified`);
  const after = await readApp(slug);
  assert.equal(after.fqdn, fqdn);
  if ('domain_verified' in after) assert.equal(after.domain_verified, false);
  return `${res.domain} → ${res.cname_target}: verified=${res.verified}`;
});

await step('updateOAuthScope', async () => {
  const before = app;
  const updated = checkApp(
    await oauth.updateOAuthScope(slug, 'mcp:invoke', { display_name: 'Run tools', description: 'Run MCP tools for you' }),
  );
  assert.deepEqual(scopeOf(updated, 'mcp:invoke'), {
    ...scopeOf(before, 'mcp:invoke'),
    display_name: 'Run tools',
    description: 'Run MCP tools for you',
  });
  for (const name of ['read', 'write', 'legacy']) assert.deepEqual(scopeOf(updated, name), scopeOf(before, name));
  assert.deepEqual(await readApp(slug), updated);
  app = updated;
  return 'mcp:invoke (sent as mcp%3Ainvoke) renamed, its mapping kept';
});

await step('archiveOAuthScope', async () => {
  const before = app;
  const updated = checkApp(await oauth.archiveOAuthScope(slug, 'mcp:invoke'));
  assert.deepEqual(scopeOf(updated, 'mcp:invoke'), { ...scopeOf(before, 'mcp:invoke'), archived: true });
  for (const name of ['read', 'write', 'legacy']) assert.deepEqual(scopeOf(updated, name), scopeOf(before, name));
  assert.deepEqual(await readApp(slug), updated);
  app = updated;
  return 'mcp:invoke archived';
});

await step('unarchiveOAuthScope', async () => {
  const before = app;
  const updated = checkApp(await oauth.unarchiveOAuthScope(slug, 'mcp:invoke'));
  assert.deepEqual(scopeOf(updated, 'mcp:invoke'), { ...scopeOf(before, 'mcp:invoke'), archived: false });
  assert.equal(scopeOf(updated, 'legacy').archived, true, 'the other archived scope stays archived');
  assert.deepEqual(await readApp(slug), updated);
  app = updated;
  return 'mcp:invoke unarchived; legacy still archived';
});

await step('setOAuthScopeMapping', async () => {
  const before = app;
  const updated = checkApp(
    await oauth.setOAuthScopeMapping(slug, 'mcp:invoke', {
      category: 'workspace',
      organization_permission: 'org:member',
      workspace_permission: 'mcp:invoke',
    }),
  );
  assert.deepEqual(scopeOf(updated, 'mcp:invoke'), {
    scope: 'mcp:invoke',
    display_name: 'Run tools',
    description: 'Run MCP tools for you',
    archived: false,
    category: 'workspace',
    organization_permission: 'org:member',
    workspace_permission: 'mcp:invoke',
  });
  for (const name of ['read', 'write', 'legacy']) assert.deepEqual(scopeOf(updated, name), scopeOf(before, name));
  assert.deepEqual(await readApp(slug), updated);
  app = updated;

  // A different category replaces the permissions.
  const org = checkApp(await oauth.setOAuthScopeMapping(slug, 'mcp:invoke', { category: 'organization', organization_permission: 'org:tools' }));
  const d = scopeOf(org, 'mcp:invoke');
  assert.equal(d.category, 'organization');
  assert.equal(d.organization_permission, 'org:tools');
  assert.ok(!('workspace_permission' in d), 'an organization scope has no workspace permission');
  assert.deepEqual(await readApp(slug), org);
  app = org;
  return 'mcp:invoke → workspace (org:member, mcp:invoke), then organization (org:tools)';
});

await step('listOAuthClients', async () => {
  const clients = await oauth.listOAuthClients(slug);
  assert.ok(Array.isArray(clients), `must return an array, got ${JSON.stringify(clients)}`);
  assert.deepEqual(clients, []);
  const seeded = await oauth.listOAuthClients(grantApp);
  assert.ok(seeded.length >= 1, `the seeded app ${grantApp} has a client`);
  seeded.forEach((c, i) => checkClient(c, { withSecret: false }, `clients[${i}]`));
  assert.ok(seeded.some((c) => c.id === grantClient), `lists the seeded client ${grantClient}`);
  return `none on ${slug}; ${seeded.length} on ${grantApp}, without secrets`;
});

await step('createOAuthClient', async () => {
  client = checkClient(
    await oauth.createOAuthClient(slug, {
      client_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://app.example.com/callback'],
      client_name: 'SDK client',
      client_uri: 'https://app.example.com',
      contacts: ['ops@example.com'],
    }),
    { withSecret: true },
  );
  assert.equal(client.oauth_app_id, app.id);
  assert.equal(client.client_auth_method, 'client_secret_basic');
  assert.deepEqual(client.grant_types, ['authorization_code', 'refresh_token']);
  assert.deepEqual(client.redirect_uris, ['https://app.example.com/callback']);
  assert.equal(client.client_name, 'SDK client');
  assert.equal(client.client_uri, 'https://app.example.com');
  assert.deepEqual(client.contacts, ['ops@example.com']);
  assert.equal(client.is_active, true);
  const { client_secret: _secret, ...withoutSecret } = client;
  assert.deepEqual(await readClient(slug, client.id), withoutSecret, 'listOAuthClients returns the client as created, without the secret');
  return `client ${client.client_id} (id ${client.id}) with a one-time secret`;
});

await step('updateOAuthClient', async () => {
  const { client_secret: _secret, ...before } = client;
  const updated = checkClient(
    await oauth.updateOAuthClient(slug, client.id, {
      client_name: 'SDK client (renamed)',
      redirect_uris: ['https://app.example.com/callback', 'https://app.example.com/callback2'],
      policy_uri: 'https://app.example.com/privacy',
    }),
    { withSecret: false },
  );
  assert.equal(updated.id, before.id);
  assert.equal(updated.client_id, before.client_id);
  assert.equal(updated.client_name, 'SDK client (renamed)');
  assert.deepEqual(updated.redirect_uris, ['https://app.example.com/callback', 'https://app.example.com/callback2']);
  assert.equal(updated.policy_uri, 'https://app.example.com/privacy');
  // Fields not sent keep their values.
  assert.equal(updated.client_auth_method, before.client_auth_method);
  assert.deepEqual(updated.grant_types, before.grant_types);
  assert.equal(updated.client_uri, before.client_uri);
  assert.deepEqual(updated.contacts, before.contacts);
  assert.deepEqual(await readClient(slug, client.id), updated);
  client = { ...updated, client_secret: client.client_secret };
  return 'name, redirect_uris, policy_uri changed; the rest kept';
});

await step('rotateOAuthClientSecret', async () => {
  const res = await oauth.rotateOAuthClientSecret(slug, client.id);
  isObject(res, 'RotateOAuthClientSecretResponse');
  isString(res.client_secret, 'client_secret');
  assert.ok(res.client_secret.length >= 32, 'client_secret looks too short');
  assert.notEqual(res.client_secret, client.client_secret, 'a new secret');
  rotatedSecret = res.client_secret;
  // Read back with the SDK's generic GET: the newest stored secret is the one just issued.
  const { secrets } = await wacht.get(`/oauth/apps/${slug}/clients/${client.id}/secrets`);
  assert.ok(Array.isArray(secrets) && secrets.length >= 1, 'the client has secrets');
  assert.equal(secrets[0].hint, `…${rotatedSecret.slice(-4)}`, 'the newest secret is the rotated one');
  const after = await readClient(slug, client.id);
  assert.ok(!('client_secret' in after));
  assert.equal(after.is_active, true);
  return 'new secret issued; newest stored secret matches it';
});

await step('listOAuthGrants', async () => {
  const grants = await oauth.listOAuthGrants(grantApp, grantClient);
  assert.ok(Array.isArray(grants), `must return an array, got ${JSON.stringify(grants)}`);
  grants.forEach((g, i) => checkGrant(g, `grants[${i}]`));
  const g = await readGrant();
  assert.equal(g.status, 'active');
  assert.equal(g.api_auth_app_slug, grantApp);
  assert.equal(g.oauth_client_id, grantClient);
  assert.deepEqual(g.scopes, ['read']);
  assert.ok(!('revoked_at' in g), 'an active grant has no revoked_at');
  isString(g.granted_by_user_id, 'granted_by_user_id');
  assert.deepEqual(await oauth.listOAuthGrants(slug, client.id), [], 'the new client has no grants');
  return `grant ${g.id} on ${g.resource}: ${g.status}, scopes ${g.scopes.join(' ')}`;
});

await step('revokeOAuthGrant', async () => {
  await oauth.revokeOAuthGrant(grantApp, grantClient, grantId);
  const g = await readGrant();
  assert.equal(g.status, 'revoked');
  isTimestamp(g.revoked_at, 'revoked_at');
  assert.deepEqual(g.scopes, ['read']);
  return `grant ${g.id}: ${g.status} at ${g.revoked_at}`;
});

await step('deactivateOAuthClient', async () => {
  const before = await readClient(slug, client.id);
  await oauth.deactivateOAuthClient(slug, client.id);
  const after = await readClient(slug, client.id);
  assert.equal(after.is_active, false);
  const { is_active: _a, updated_at: _u, ...keptAfter } = after;
  const { is_active: _b, updated_at: _v, ...keptBefore } = before;
  assert.deepEqual(keptAfter, keptBefore, 'deactivation changes nothing else');
  return `client ${client.client_id}: is_active=${after.is_active}`;
});

await step('listOAuthAppSigningKeys', async () => {
  const keys = await readKeys(slug);
  assert.equal(keys.length, 1, 'a new app has one signing key');
  assert.equal(keys[0].status, 'active');
  assert.equal(keys[0].algorithm, 'RS256');
  firstKid = keys[0].kid;
  return `1 key: ${firstKid} (${keys[0].algorithm}, ${keys[0].status})`;
});

await step('rotateOAuthAppSigningKey', async () => {
  const res = await oauth.rotateOAuthAppSigningKey(slug);
  isObject(res, 'OAuthAppSigningKeyRotatedResponse');
  checkKey(res.new, 'new');
  assert.equal(res.new.status, 'active');
  assert.notEqual(res.new.kid, firstKid);
  secondKid = res.new.kid;
  const keys = await readKeys(slug);
  const byKid = Object.fromEntries(keys.map((k) => [k.kid, k]));
  assert.equal(byKid[secondKid]?.status, 'active');
  assert.equal(byKid[firstKid]?.status, 'retired');
  assert.equal(byKid[secondKid].public_key_pem, res.new.public_key_pem);
  assert.equal(keys.filter((k) => k.status === 'active').length, 1);
  return `${secondKid} active, ${firstKid} retired`;
});

await step('compromiseOAuthAppSigningKey', async () => {
  // A retired key: withdrawn, nothing else changes.
  await oauth.compromiseOAuthAppSigningKey(slug, firstKid);
  let keys = await readKeys(slug);
  let byKid = Object.fromEntries(keys.map((k) => [k.kid, k]));
  assert.equal(byKid[firstKid]?.status, 'compromised');
  assert.equal(byKid[secondKid]?.status, 'active');
  // The active key: withdrawn and replaced.
  await oauth.compromiseOAuthAppSigningKey(slug, secondKid);
  keys = await readKeys(slug);
  byKid = Object.fromEntries(keys.map((k) => [k.kid, k]));
  assert.equal(byKid[secondKid]?.status, 'compromised');
  const active = keys.filter((k) => k.status === 'active');
  assert.equal(active.length, 1, 'a replacement key is active');
  assert.ok(![firstKid, secondKid].includes(active[0].kid));
  return `retired ${firstKid} and active ${secondKid} compromised; ${active[0].kid} now active`;
});

await step('errors', async () => {
  const missing = `no-such-app-${run}`;
  const raw = await rawError('PATCH', `/oauth/apps/${missing}`, { name: 'x' });
  assert.equal(raw.status, 404);
  isString(raw.body.message, 'server error message');
  const err = await expectSdkError(
    oauth.updateOAuthApp(missing, { name: 'x' }),
    NotFoundError,
    404,
    raw.body.message,
    'updateOAuthApp(unknown slug)',
  );
  assert.notEqual(err.message, 'Resource not found', "the server's message, not the SDK's default");
  return `updateOAuthApp(${missing}) → NotFoundError "${err.message}"`;
});

console.log(`all ${passed} steps passed`);
process.exit(0);
