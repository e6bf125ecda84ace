-- Gateway rate limit rules: per app (all its tokens together) or per client (each client
-- separately, or one given client), a maximum number of admitted checks in a sliding window.
CREATE TABLE rate_limit_rules (
    id BIGINT PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    client_id BIGINT,
    window_seconds BIGINT NOT NULL,
    max_requests BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app_id, name)
);
