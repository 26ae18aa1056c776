-- The platform's runtime state: execution records, HTTP routes, API keys,
-- and per-function recording settings.

-- Share of successful executions recorded (1 = all, 0 = none). Errors are
-- always recorded and every execution is always counted in metrics.
ALTER TABLE functions
    ADD COLUMN success_sample_rate REAL NOT NULL DEFAULT 1
        CHECK (success_sample_rate >= 0 AND success_sample_rate <= 1);

CREATE TABLE executions (
    id                 UUID PRIMARY KEY,             -- v7: ordered by creation time
    tenant_id          TEXT NOT NULL,
    function_id        BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    function_name      TEXT NOT NULL,
    version            INTEGER,
    trigger            TEXT NOT NULL CHECK (trigger IN ('http', 'invoke', 'cron', 'event', 'manual')),
    trigger_ref        TEXT,                         -- route id, schedule slot, event id...
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ok', 'error', 'timeout',
                                                       'out_of_memory', 'limit_exceeded', 'cancelled')),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at         TIMESTAMPTZ,
    finished_at        TIMESTAMPTZ,
    duration_us        BIGINT,
    cpu_time_us        BIGINT,
    peak_memory_bytes  BIGINT,
    -- Capped inline; the whole value goes to the blob store when larger.
    input              JSONB,
    input_key          TEXT,
    output             JSONB,
    output_key         TEXT,
    logs               JSONB NOT NULL DEFAULT '[]'::jsonb,
    logs_truncated     BOOLEAN NOT NULL DEFAULT false,
    error              JSONB
);
CREATE INDEX executions_tenant_recent ON executions (tenant_id, id DESC);
CREATE INDEX executions_function_recent ON executions (function_id, id DESC);
-- Retention purges by age across tenants.
CREATE INDEX executions_created ON executions (created_at);

CREATE TABLE routes (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    method       TEXT,                               -- NULL: any method
    path         TEXT NOT NULL,                      -- /orders/:id, /files/*
    function_id  BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    auth         TEXT NOT NULL CHECK (auth IN ('public', 'jwt', 'api_key')),
    -- Overrides the function's success_sample_rate for this route.
    success_sample_rate REAL CHECK (success_sample_rate >= 0 AND success_sample_rate <= 1),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX routes_unique ON routes (tenant_id, coalesce(method, '*'), path);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,                   -- public part of the key
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    name         TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,                     -- sha256 of the secret part
    roles        TEXT[] NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
