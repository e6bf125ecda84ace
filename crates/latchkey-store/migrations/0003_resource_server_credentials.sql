-- Resource servers may get credentials of their own to call the introspection endpoint
-- (tokens whose audience they are). The secret is stored as an HMAC.
ALTER TABLE resource_servers ADD COLUMN credential_id TEXT;
ALTER TABLE resource_servers ADD COLUMN secret_hash TEXT;
CREATE UNIQUE INDEX resource_servers_credential ON resource_servers (credential_id);
