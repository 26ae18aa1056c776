-- env.KV: tenant-scoped key-value storage shared by every node.

CREATE TABLE kv (
    tenant_id   TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BYTEA NOT NULL,
    expires_at  TIMESTAMPTZ,                 -- NULL: kept until deleted
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
-- Expired entries are invisible at once and purged in the background.
CREATE INDEX kv_expiring ON kv (expires_at) WHERE expires_at IS NOT NULL;
