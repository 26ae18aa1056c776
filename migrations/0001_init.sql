-- Quasm's core model: tenants, functions, immutable versions, the live
-- deployment pointer and the audit log. Executions, API keys, routes and
-- triggers arrive in later migrations with the features that use them.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,            -- as carried by credentials
    settings    JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE functions (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    tags          TEXT[] NOT NULL DEFAULT '{}',
    enabled       BOOLEAN NOT NULL DEFAULT true,
    limits        JSONB NOT NULL DEFAULT '{}'::jsonb,
    env           JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- Secrets encrypted with the operator's master key; never returned.
    secrets       BYTEA,
    isolation     TEXT NOT NULL DEFAULT 'fresh' CHECK (isolation IN ('fresh', 'warm')),
    -- The deployment: which version is live. Moved only by deploy/rollback.
    live_version  INTEGER,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT function_name_valid CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    UNIQUE (tenant_id, name)
);

-- Versions are immutable: no UPDATE path exists for them in the code. A
-- version row is inserted only after its bundle is in the blob store, in the
-- same transaction that may move live_version, so a crash never leaves a
-- visible half-version.
CREATE TABLE versions (
    function_id   BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number > 0),
    content_hash  TEXT NOT NULL,             -- sha256 of the source
    bundle_key    TEXT NOT NULL,             -- blob store key of source + bytecode
    guest_hash    TEXT NOT NULL,             -- which guest compiled the bytecode
    author        TEXT NOT NULL,
    message       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (function_id, number)
);

ALTER TABLE functions
    ADD CONSTRAINT live_version_exists
    FOREIGN KEY (id, live_version) REFERENCES versions (function_id, number)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,               -- subject of the credential
    action      TEXT NOT NULL,               -- e.g. function.create, version.deploy
    target      TEXT NOT NULL,
    details     JSONB NOT NULL DEFAULT '{}'::jsonb,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC);
