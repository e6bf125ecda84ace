#!/usr/bin/env python3
"""The whole OAuth 2.1 / OpenID Connect flow against a Latchkey issuer, done by an unmodified
Authlib (``authlib.integrations.requests_client.OAuth2Session``, ``authlib.jose``,
``authlib.oidc``) as a confidential client (client_secret_basic, PKCE S256).

The hosted sign-in and consent pages are driven by a small headless agent built on
``requests``: it follows redirects only while they stay on the server's origin, and submits
the first ``<form method="post">`` of each page (sign-in: email + password; consent: the
``decision=approve`` button with the checked ``resource`` radio). It stops at the redirect
that leaves the origin: the client's redirect URI with ``code``, ``state`` and ``iss``.

Reads LATCHKEY_ISSUER, LATCHKEY_CLIENT_ID, LATCHKEY_CLIENT_SECRET, LATCHKEY_EMAIL,
LATCHKEY_PASSWORD, LATCHKEY_REDIRECT_URI and LATCHKEY_POST_LOGOUT_REDIRECT_URI. Prints one
line per step; exits 0 only if every check passed. On a failure it prints the failing step,
the error and the last HTTP exchange, and exits 1.
"""

import os

# The test issuer is plain http on loopback; Authlib refuses non-https URLs without this.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import sys
import traceback
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import rfc8414, rfc9207
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken, UserInfo
from authlib.oidc.core.util import create_half_hash
from authlib.oidc.discovery import OpenIDProviderMetadata

# `authlib.jose` is deprecated in recent Authlib 1.x releases in favour of joserfc (still shipped);
# keep its import-time warning off the output. The step after the authlib.jose one also
# validates the ID token the way Authlib 1.9's own OpenID client does (joserfc + CodeIDToken).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, jwt

TIMEOUT = 30
SCOPE = "openid profile email read"


class CheckFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


def env(name):
    value = os.environ.get(name)
    if not value:
        raise CheckFailed(f"environment variable {name} is not set")
    return value


# --- the last HTTP exchange, shown when a step fails -----------------------------------------

LAST = {"response": None}


def remember(resp, *args, **kwargs):
    LAST["response"] = resp
    return resp


def describe_last():
    resp = LAST["response"]
    if resp is None:
        return "(no HTTP exchange yet)"
    req = resp.request
    headers = {
        k: ("<redacted>" if k.lower() in ("authorization", "cookie") else v)
        for k, v in req.headers.items()
    }
    body = req.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    lines = [
        f"request:  {req.method} {req.url}",
        f"          headers {headers}",
        f"          body {body!r}",
        f"response: {resp.status_code} {resp.reason}",
        f"          headers {dict(resp.headers)}",
        f"          body {resp.text[:4000]!r}",
    ]
    return "\n".join(lines)


# --- the headless agent -----------------------------------------------------------------------


class Form:
    def __init__(self, method, action):
        self.method = method
        self.action = action
        self.fields = []  # (name, value) pairs that would be submitted
        self.buttons = []  # (name, value) of named submit buttons

    def names(self):
        return {n for n, _ in self.fields}

    def set(self, name, value):
        self.fields = [(n, v) for n, v in self.fields if n != name]
        self.fields.append((name, value))


class FormParser(HTMLParser):
    """Collects the forms of a page. html.parser hands attribute values over with character
    references already decoded (it applies html.unescape to them), so they are used as is."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): ("" if v is None else v) for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            return
        f = self._form
        if f is None:
            return
        if tag == "input":
            name = a.get("name")
            if not name or "disabled" in a:
                return
            kind = a.get("type", "text").lower()
            value = a.get("value", "")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    f.fields.append((name, value or "on"))
            elif kind in ("submit", "image"):
                f.buttons.append((name, value))
            elif kind not in ("button", "reset", "file"):
                f.fields.append((name, value))
        elif tag == "button" and a.get("name") and a.get("type", "submit").lower() == "submit":
            f.buttons.append((a["name"], a.get("value", "")))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def close(self):
        super().close()
        if self._form is not None:
            self.forms.append(self._form)
            self._form = None


def first_post_form(html_text):
    p = FormParser()
    p.feed(html_text)
    p.close()
    return next((f for f in p.forms if f.method == "post"), None)


def origin(url):
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def drive_hosted_pages(agent, start_url, email, password):
    """Returns the URL of the redirect that left the server's origin, the pages seen, and
    whether a consent page was shown (a remembered consent skips it)."""
    home = origin(start_url)
    trail = []
    saw_sign_in = saw_consent = False
    resp = agent.get(start_url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(25):
        trail.append(f"{resp.request.method} {urlsplit(resp.url).path} {resp.status_code}")
        if resp.status_code in (301, 302, 303, 307, 308):
            location = resp.headers.get("Location")
            check(location, f"redirect {resp.status_code} without Location from {resp.url}")
            target = urljoin(resp.url, location)
            if origin(target) != home:
                check(saw_sign_in, "the sign-in page was never shown to a new browser")
                return target, trail, saw_consent
            resp = agent.get(target, allow_redirects=False, timeout=TIMEOUT)
            continue
        check(resp.status_code == 200, f"hosted page {resp.url} answered {resp.status_code}")
        form = first_post_form(resp.text)
        check(form is not None, f"no <form method=post> on {resp.url}")
        action = urljoin(resp.url, form.action or resp.url)
        check(origin(action) == home, f"form posts off the server's origin: {action}")
        if "password" in form.names():
            check("email" in form.names(), f"sign-in form without email: {form.fields}")
            form.set("email", email)
            form.set("password", password)
            data = list(form.fields)
            saw_sign_in = True
        else:
            approve = [(n, v) for n, v in form.buttons if n == "decision" and v == "approve"]
            check(approve, f"consent form without a decision=approve button: {form.buttons}")
            check(
                "resource" in form.names(),
                f"consent form has no checked resource radio: {form.fields}",
            )
            data = list(form.fields) + approve[:1]
            saw_consent = True
        resp = agent.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)
    raise CheckFailed(f"no redirect off the server after 25 hops: {trail}")


# --- the flow ---------------------------------------------------------------------------------


class Ctx:
    pass


def step_discovery(c):
    url = c.issuer.rstrip("/") + "/.well-known/openid-configuration"
    resp = c.client.get(url, withhold_token=True, timeout=TIMEOUT)
    check(resp.status_code == 200, f"GET {url} answered {resp.status_code}")
    meta = resp.json()
    check(meta.get("issuer") == c.issuer, f"issuer {meta.get('issuer')!r} != {c.issuer!r}")
    # Authlib's own validators: OIDC Discovery + RFC 8414 (revocation, introspection, PKCE) +
    # RFC 9207 + RP-Initiated Logout.
    OpenIDProviderMetadata(meta).validate(
        metadata_classes=[rfc9207.AuthorizationServerMetadata, rpinitiated.OpenIDProviderMetadata]
    )
    rfc8414.AuthorizationServerMetadata(meta).validate()
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
    ):
        check(meta.get(key), f"metadata has no {key}")
    check("code" in meta["response_types_supported"], "response type code not supported")
    check("S256" in meta.get("code_challenge_methods_supported", []), "PKCE S256 not advertised")
    check(
        "client_secret_basic"
        in meta.get("token_endpoint_auth_methods_supported", ["client_secret_basic"]),
        "client_secret_basic not advertised",
    )
    check(
        meta.get("authorization_response_iss_parameter_supported") is True,
        "authorization_response_iss_parameter_supported is not true",
    )
    for s in SCOPE.split():
        check(s in meta.get("scopes_supported", []), f"scope {s} not in scopes_supported")
    c.meta = meta
    return f"{url}: metadata valid for Authlib (OIDC Discovery, RFC 8414, RFC 9207, RP-Initiated Logout)"


def step_authorization_url(c):
    c.code_verifier = generate_token(48)
    c.nonce = generate_token(20)
    c.state = generate_token(20)
    url, state = c.client.create_authorization_url(
        c.meta["authorization_endpoint"],
        state=c.state,
        code_verifier=c.code_verifier,
        nonce=c.nonce,
    )
    check(state == c.state, "Authlib changed the state")
    q = parse_qs(urlsplit(url).query)
    check(q.get("code_challenge_method") == ["S256"], f"no S256 challenge in {url}")
    c.authorization_url = url
    return "PKCE S256, state, nonce, scope " + repr(SCOPE)


def step_hosted_pages(c):
    c.agent = requests.Session()
    c.agent.hooks["response"].append(remember)
    c.callback, trail, consented = drive_hosted_pages(
        c.agent, c.authorization_url, c.email, c.password
    )
    check(
        c.callback.split("?")[0] == c.redirect_uri,
        f"left the server for {c.callback}, not the redirect URI {c.redirect_uri}",
    )
    what = "approved consent" if consented else "consent already on record"
    return f"signed in, {what} ({' -> '.join(trail)})"


def step_authorization_response(c):
    q = parse_qs(urlsplit(c.callback).query)
    check("error" not in q, f"authorization error: {c.callback}")
    check(len(q.get("code", [])) == 1, f"no code in {c.callback}")
    check(q.get("state") == [c.state], f"state {q.get('state')} != {c.state!r}")
    check(q.get("iss") == [c.issuer], f"RFC 9207 iss {q.get('iss')} != {c.issuer!r}")
    c.code = q["code"][0]
    return "code, state matches, iss equals the issuer (RFC 9207)"


def step_token(c):
    token = c.client.fetch_token(
        c.meta["token_endpoint"],
        authorization_response=c.callback,
        state=c.state,
        code_verifier=c.code_verifier,
    )
    resp = LAST["response"]
    check(
        resp.headers.get("Cache-Control", "").lower() == "no-store",
        "token response not Cache-Control: no-store",
    )
    check(
        token.get("token_type", "").lower() == "bearer", f"token_type {token.get('token_type')!r}"
    )
    for k in ("access_token", "refresh_token", "id_token", "expires_in"):
        check(k in token, f"token response has no {k}: {sorted(token)}")
    check(
        set(token.get("scope", "").split()) == set(SCOPE.split()), f"scope {token.get('scope')!r}"
    )
    c.token = dict(token)
    return f"authorization_code exchanged (client_secret_basic + code_verifier), expires_in {token['expires_in']}"


def id_token_options(c):
    return {
        "iss": {"essential": True, "value": c.issuer},
        "aud": {"essential": True, "value": c.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True, "value": c.nonce},
        "at_hash": {"essential": True},
    }


def step_id_token(c):
    jwks_resp = c.client.get(c.meta["jwks_uri"], withhold_token=True, timeout=TIMEOUT)
    check(jwks_resp.status_code == 200, f"GET jwks_uri answered {jwks_resp.status_code}")
    c.jwks = jwks_resp.json()
    key_set = JsonWebKey.import_key_set(c.jwks)
    claims = jwt.decode(
        c.token["id_token"],
        key_set,
        claims_cls=CodeIDToken,
        claims_options=id_token_options(c),
        claims_params={
            "nonce": c.nonce,
            "client_id": c.client_id,
            "access_token": c.token["access_token"],
        },
    )
    claims.validate(leeway=120)
    alg = claims.header.get("alg")
    check(alg in c.meta["id_token_signing_alg_values_supported"], f"alg {alg} not advertised")
    check(claims.header.get("kid"), "ID token header has no kid")
    check(
        claims["at_hash"] == create_half_hash(c.token["access_token"], alg).decode(),
        "at_hash does not match the access token",
    )
    check(claims.get("email") == c.email, f"email claim {claims.get('email')!r}")
    c.sub = claims["sub"]
    return f"authlib.jose: {alg} signature (kid {claims.header['kid']}), iss, aud, exp, iat, nonce, at_hash; sub {c.sub}"


def step_id_token_joserfc(c):
    # The path Authlib 1.9's own OpenID client takes (OpenIDMixin.parse_id_token).
    from joserfc import jwt as jrfc_jwt
    from joserfc.jwk import KeySet
    from joserfc.jws import JWSRegistry

    decoded = jrfc_jwt.decode(
        c.token["id_token"],
        key=KeySet.import_key_set(c.jwks),
        registry=JWSRegistry(
            algorithms=c.meta.get("id_token_signing_alg_values_supported"),
            strict_check_header=False,
        ),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        id_token_options(c),
        {"nonce": c.nonce, "client_id": c.client_id, "access_token": c.token["access_token"]},
    )
    claims.validate(leeway=120)
    return "joserfc + CodeIDToken (as Authlib's OpenID client does): valid"


def step_userinfo(c):
    resp = c.client.get(c.meta["userinfo_endpoint"], timeout=TIMEOUT)
    check(resp.status_code == 200, f"userinfo answered {resp.status_code}")
    check(
        resp.headers.get("Content-Type", "").startswith("application/json"),
        f"userinfo Content-Type {resp.headers.get('Content-Type')!r}",
    )
    info = UserInfo(resp.json())
    check(info.sub == c.sub, f"userinfo sub {info.sub!r} != ID token sub {c.sub!r}")
    check(info.email == c.email, f"userinfo email {info.email!r}")
    return f"sub {info.sub}, email {info.email}, name {info.name!r}"


def introspect(c, token, hint="access_token"):
    resp = c.client.introspect_token(
        c.meta["introspection_endpoint"], token=token, token_type_hint=hint, timeout=TIMEOUT
    )
    check(resp.status_code == 200, f"introspection answered {resp.status_code}: {resp.text}")
    check(
        resp.headers.get("Content-Type", "").startswith("application/json"),
        f"introspection Content-Type {resp.headers.get('Content-Type')!r}",
    )
    body = resp.json()
    check(isinstance(body.get("active"), bool), f"introspection has no boolean active: {body}")
    return body


def step_introspect(c):
    body = introspect(c, c.token["access_token"])
    check(body["active"] is True, f"access token not active: {body}")
    check(body.get("client_id") == c.client_id, f"client_id {body.get('client_id')!r}")
    check(body.get("sub") == c.sub, f"sub {body.get('sub')!r}")
    check("read" in body.get("scope", "").split(), f"scope {body.get('scope')!r}")
    return f"RFC 7662 (client_secret_basic): active true, scope {body.get('scope')!r}"


def step_refresh(c):
    old = c.token
    new = c.client.refresh_token(c.meta["token_endpoint"], refresh_token=old["refresh_token"])
    check(
        new.get("access_token") and new["access_token"] != old["access_token"],
        "no new access token",
    )
    check(new.get("refresh_token"), "the refresh response has no refresh_token")
    check(new["refresh_token"] != old["refresh_token"], "refresh token not rotated")
    detail = "new access token, refresh token rotated"
    if "id_token" in new:
        claims = jwt.decode(
            new["id_token"],
            JsonWebKey.import_key_set(c.jwks),
            claims_cls=CodeIDToken,
            claims_options={
                "iss": {"essential": True, "value": c.issuer},
                "aud": {"essential": True, "value": c.client_id},
            },
            claims_params={"client_id": c.client_id, "access_token": new["access_token"]},
        )
        claims.validate(leeway=120)
        check(claims["sub"] == c.sub, "refreshed ID token has another sub")
        detail += ", refreshed ID token valid"
    c.refreshed = dict(new)
    body = introspect(c, c.refreshed["access_token"])
    check(body["active"] is True, f"refreshed access token not active: {body}")
    return detail + ", refreshed access token active"


def step_revoke(c):
    target = c.token["access_token"]
    resp = c.client.revoke_token(
        c.meta["revocation_endpoint"], token=target, token_type_hint="access_token", timeout=TIMEOUT
    )
    check(resp.status_code == 200, f"revocation answered {resp.status_code}: {resp.text}")
    body = introspect(c, target)
    check(body["active"] is False, f"revoked access token still active: {body}")
    check(set(body) == {"active"}, f"inactive introspection says more than active: {body}")
    still = introspect(c, c.refreshed["access_token"])
    check(still["active"] is True, "revoking one access token deactivated the refreshed one")
    return "RFC 7009 revoke_token of the first access token -> introspection active false"


def step_logout(c):
    state = generate_token(20)
    url = add_params_to_uri(
        c.meta["end_session_endpoint"],
        {
            "id_token_hint": c.token["id_token"],
            "post_logout_redirect_uri": c.post_logout_redirect_uri,
            "state": state,
        },
    )
    resp = c.agent.get(url, allow_redirects=False, timeout=TIMEOUT)
    check(resp.status_code == 302, f"end_session answered {resp.status_code}, expected 302")
    location = urljoin(resp.url, resp.headers.get("Location", ""))
    check(
        location.split("?")[0] == c.post_logout_redirect_uri,
        f"logout redirected to {location}",
    )
    check(
        parse_qs(urlsplit(location).query).get("state") == [state],
        f"logout lost the state: {location}",
    )
    body = introspect(c, c.refreshed["access_token"])
    check(body["active"] is False, f"refreshed access token still active after logout: {body}")
    return f"302 to {c.post_logout_redirect_uri} with state; refreshed access token now inactive"


def step_after_logout(c):
    c.client.token = c.refreshed
    resp = c.client.get(c.meta["userinfo_endpoint"], timeout=TIMEOUT)
    check(resp.status_code == 401, f"userinfo with a logged-out token answered {resp.status_code}")
    www = resp.headers.get("WWW-Authenticate", "")
    check("invalid_token" in www, f"WWW-Authenticate {www!r}")
    try:
        c.client.refresh_token(c.meta["token_endpoint"], refresh_token=c.refreshed["refresh_token"])
    except OAuthError as e:
        check(e.error == "invalid_grant", f"refresh after logout: {e.error} ({e.description})")
        return f"userinfo 401 invalid_token; refresh -> OAuthError invalid_grant ({e.description})"
    raise CheckFailed("the refresh token still works after logout")


def step_code_replay(c):
    try:
        c.client.fetch_token(
            c.meta["token_endpoint"],
            authorization_response=c.callback,
            state=c.state,
            code_verifier=c.code_verifier,
        )
    except OAuthError as e:
        check(e.error == "invalid_grant", f"code replay: {e.error} ({e.description})")
        check(
            LAST["response"].status_code == 400,
            f"code replay status {LAST['response'].status_code}",
        )
        return f"OAuthError invalid_grant (400): {e.description}"
    raise CheckFailed("the authorization code was accepted twice")


def step_wrong_secret(c):
    bad = OAuth2Session(
        c.client_id,
        c.client_secret + "x",
        token_endpoint_auth_method="client_secret_basic",
        scope=SCOPE,
        redirect_uri=c.redirect_uri,
        code_challenge_method="S256",
    )
    bad.hooks["response"].append(remember)
    try:
        bad.refresh_token(c.meta["token_endpoint"], refresh_token=c.refreshed["refresh_token"])
    except OAuthError as e:
        resp = LAST["response"]
        check(e.error == "invalid_client", f"wrong secret: {e.error} ({e.description})")
        check(resp.status_code == 401, f"wrong secret status {resp.status_code}")
        check(
            resp.headers.get("WWW-Authenticate", "").lower().startswith("basic"),
            f"401 without WWW-Authenticate: Basic ({resp.headers.get('WWW-Authenticate')!r})",
        )
        return "OAuthError invalid_client (401, WWW-Authenticate: Basic)"
    finally:
        bad.close()
    raise CheckFailed("a wrong client secret was accepted")


STEPS = [
    ("discovery", step_discovery),
    ("authorization url", step_authorization_url),
    ("hosted pages", step_hosted_pages),
    ("authorization response", step_authorization_response),
    ("token", step_token),
    ("id token", step_id_token),
    ("id token (joserfc)", step_id_token_joserfc),
    ("userinfo", step_userinfo),
    ("introspection", step_introspect),
    ("refresh", step_refresh),
    ("revocation", step_revoke),
    ("logout", step_logout),
    ("after logout", step_after_logout),
    ("negative: code replay", step_code_replay),
    ("negative: wrong client secret", step_wrong_secret),
]


def main():
    import authlib

    c = Ctx()
    try:
        c.issuer = env("LATCHKEY_ISSUER")
        c.client_id = env("LATCHKEY_CLIENT_ID")
        c.client_secret = env("LATCHKEY_CLIENT_SECRET")
        c.email = env("LATCHKEY_EMAIL")
        c.password = env("LATCHKEY_PASSWORD")
        c.redirect_uri = env("LATCHKEY_REDIRECT_URI")
        c.post_logout_redirect_uri = env("LATCHKEY_POST_LOGOUT_REDIRECT_URI")
    except CheckFailed as e:
        print(f"FAIL setup: {e}", flush=True)
        return 1
    print(
        f"authlib {authlib.__version__}, requests {requests.__version__}, issuer {c.issuer}",
        flush=True,
    )
    c.client = OAuth2Session(
        c.client_id,
        c.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope=SCOPE,
        redirect_uri=c.redirect_uri,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )
    c.client.hooks["response"].append(remember)
    for name, fn in STEPS:
        try:
            detail = fn(c)
        except OAuthError as e:
            print(f"FAIL {name}: Authlib OAuthError {e.error!r}: {e.description}", flush=True)
            print(describe_last(), flush=True)
            return 1
        except CheckFailed as e:
            print(f"FAIL {name}: {e}", flush=True)
            print(describe_last(), flush=True)
            return 1
        except Exception as e:  # noqa: BLE001 - any failure is reported with its context
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            print(describe_last(), flush=True)
            traceback.print_exc()
            return 1
        print(f"ok   {name}: {detail}", flush=True)
    print(f"all {len(STEPS)} steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
