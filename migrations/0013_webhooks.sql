-- Tenant webhooks: a URL that receives the tenant's events (platform
-- lifecycle events `quasm.*` and its own), signed like alert webhooks.
-- Publishing fans an event out to matching enabled webhooks in the same
-- statement that fans it out to subscriptions (see events.rs); each
-- delivery is claimed by one node with a lease, like event deliveries, and
-- every attempt is kept for the delivery history.

CREATE TABLE webhooks (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    url          TEXT NOT NULL,
    event_types  TEXT[] NOT NULL,                 -- as given: exact types or globs (`quasm.function.*`)
    type_likes   TEXT[] NOT NULL,                 -- the same as LIKE patterns
    description  TEXT NOT NULL DEFAULT '',
    enabled      BOOLEAN NOT NULL DEFAULT true,
    -- The HMAC key, sealed with the master key; shown once, rotatable.
    secret       BYTEA NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id                    BIGSERIAL PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    webhook_id            BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id              UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    status                TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    -- Attempts started so far (1 while the first one runs).
    attempt               INTEGER NOT NULL DEFAULT 0,
    next_attempt_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The node sending it (status 'running'); see nodes.
    locked_by             UUID,
    crash_requeues        INTEGER NOT NULL DEFAULT 0,
    last_response_status  INTEGER,
    last_error            TEXT,
    -- A redelivery requested through the API names the delivery it repeats.
    redelivery_of         BIGINT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_running ON webhook_deliveries (locked_by) WHERE status = 'running';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- Every attempt of a delivery: what the receiver answered, or why not.
CREATE TABLE webhook_attempts (
    id               BIGSERIAL PRIMARY KEY,
    delivery_id      BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    response_status  INTEGER,
    error            TEXT,
    duration_ms      INTEGER NOT NULL,
    at               TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
