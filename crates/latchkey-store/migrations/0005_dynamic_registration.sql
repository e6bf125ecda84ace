-- RFC 7591/7592: a registered client's registration access token (HMAC), the app's policy of
-- requiring an initial access token, and those tokens.
ALTER TABLE oauth_clients ADD COLUMN registration_token_hash TEXT;
CREATE UNIQUE INDEX oauth_clients_registration_token ON oauth_clients (registration_token_hash);
ALTER TABLE oauth_apps ADD COLUMN dcr_require_initial_token SMALLINT NOT NULL DEFAULT 0;
CREATE TABLE initial_access_tokens (
    id BIGINT PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT,
    expires_at BIGINT,
    revoked_at BIGINT,
    uses BIGINT NOT NULL
);
