-- Events, subscriptions and the delivery queue. Publishing inserts the event
-- and one delivery per matching subscription in one statement; workers on
-- every node claim due deliveries with FOR UPDATE SKIP LOCKED. A delivery
-- that exhausted its attempts stays as a dead letter (status 'dead').

CREATE TABLE events (
    id               UUID PRIMARY KEY,                -- v7: ordered by time
    -- No foreign key: publishing must not need a tenant row first.
    tenant_id        TEXT NOT NULL,
    type             TEXT NOT NULL,
    payload          JSONB NOT NULL,
    key              TEXT,
    idempotency_key  TEXT,
    published_by     TEXT NOT NULL,                   -- credential subject, or 'function' (env.EVENTS.publish)
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A duplicate idempotency key is accepted once per tenant.
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_created ON events (created_at);

CREATE TABLE subscriptions (
    id                  BIGSERIAL PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    function_id         BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    event_type          TEXT NOT NULL,                -- as given: exact or a glob (`payment.*`)
    type_like           TEXT NOT NULL,                -- the glob as a LIKE pattern
    filter              JSONB NOT NULL DEFAULT '{}'::jsonb,   -- payload @> filter
    max_attempts        INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    backoff_initial_ms  INTEGER NOT NULL CHECK (backoff_initial_ms > 0),
    backoff_max_ms      INTEGER NOT NULL CHECK (backoff_max_ms >= backoff_initial_ms),
    enabled             BOOLEAN NOT NULL DEFAULT true,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id) WHERE enabled;

CREATE TABLE deliveries (
    id                 BIGSERIAL PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    event_id           UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    subscription_id    BIGINT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    function_id        BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
    -- Attempts started so far (1 while the first one runs).
    attempt            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The node running it (status 'running'); see nodes.
    locked_by          UUID,
    last_error         JSONB,
    last_execution_id  UUID,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The claim query: due pending deliveries, oldest first.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
-- Take-over of deliveries whose node died.
CREATE INDEX deliveries_running ON deliveries (locked_by) WHERE status = 'running';
-- Dead letters of a tenant, newest first.
CREATE INDEX deliveries_dead ON deliveries (tenant_id, id DESC) WHERE status = 'dead';
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id);
CREATE INDEX deliveries_function ON deliveries (function_id);
