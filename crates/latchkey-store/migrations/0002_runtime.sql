-- The OAuth runtime: end-user sessions, consent transactions, authorization codes, tokens,
-- and client assertion ids (replay protection). Every bearer value is stored as an HMAC.

CREATE TABLE user_sessions (
    id BIGINT PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    user_id BIGINT NOT NULL,
    session_hash TEXT NOT NULL UNIQUE,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- A consent transaction: the checked authorization request, waiting for sign-in and the
-- user's decision. Single use; bound to the browser that started it.
CREATE TABLE consent_requests (
    id BIGINT PRIMARY KEY,
    handoff_hash TEXT NOT NULL UNIQUE,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id),
    client_id BIGINT NOT NULL REFERENCES oauth_clients (id),
    request TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    user_id BIGINT,
    session_id BIGINT,
    granted_resource TEXT,
    granted_scopes TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    completed_at BIGINT
);

CREATE TABLE authorization_codes (
    id BIGINT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id),
    client_id BIGINT NOT NULL REFERENCES oauth_clients (id),
    grant_id BIGINT NOT NULL REFERENCES oauth_grants (id),
    user_id BIGINT NOT NULL,
    session_id BIGINT,
    redirect_uri TEXT NOT NULL,
    redirect_uri_sent SMALLINT NOT NULL,
    code_challenge TEXT NOT NULL,
    scopes TEXT NOT NULL,
    resources TEXT NOT NULL,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT
);

-- Access and refresh tokens. A family is every token descending from one authorization
-- code; replaying a rotated refresh token or a redeemed code revokes the whole family.
CREATE TABLE oauth_tokens (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id),
    client_id BIGINT NOT NULL REFERENCES oauth_clients (id),
    grant_id BIGINT NOT NULL REFERENCES oauth_grants (id),
    user_id BIGINT NOT NULL,
    session_id BIGINT,
    family_id BIGINT NOT NULL,
    parent_id BIGINT,
    scopes TEXT NOT NULL,
    resources TEXT NOT NULL,
    granted_resource TEXT NOT NULL,
    auth_time BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoke_reason TEXT,
    rotated_at BIGINT,
    successor_id BIGINT,
    sealed_successor TEXT
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_session ON oauth_tokens (session_id);

CREATE TABLE client_assertion_jtis (
    client_id BIGINT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
