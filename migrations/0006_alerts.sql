-- Alerts on failures: rules (per function, or every function of a tenant
-- when function_id is NULL), the state of each (rule, function) pair, and
-- the history of notifications sent.

CREATE TABLE alert_rules (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    function_id          BIGINT REFERENCES functions(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    on_failure           BOOLEAN NOT NULL DEFAULT false,
    consecutive_failures INTEGER CHECK (consecutive_failures >= 1),
    on_recovery          BOOLEAN NOT NULL DEFAULT false,
    channel_kind         TEXT NOT NULL CHECK (channel_kind IN ('slack', 'webhook', 'email')),
    -- A URL (slack, webhook) or comma-separated email addresses.
    channel_target       TEXT NOT NULL,
    -- The webhook's HMAC key, sealed with the master key.
    webhook_secret       BYTEA,
    min_interval_secs    INTEGER NOT NULL DEFAULT 300 CHECK (min_interval_secs >= 0),
    enabled              BOOLEAN NOT NULL DEFAULT true,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE INDEX alert_rules_function ON alert_rules (function_id);

CREATE TABLE alert_state (
    rule_id              BIGINT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    function_id          BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- Whether the current failing streak has been notified at all, and
    -- whether its "N consecutive failures" notification went out.
    alerted              BOOLEAN NOT NULL DEFAULT false,
    streak_notified      BOOLEAN NOT NULL DEFAULT false,
    last_notified_at     TIMESTAMPTZ,
    -- Failures not notified because of the rate limit since the last message.
    suppressed           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rule_id, function_id)
);
CREATE INDEX alert_state_function ON alert_state (function_id);

CREATE TABLE alert_notifications (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    rule_id              BIGINT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    -- Kept as a name: the history outlives a deleted function.
    function_name        TEXT,
    kind                 TEXT NOT NULL CHECK (kind IN ('failure', 'consecutive', 'recovery', 'test')),
    execution_id         UUID,
    message              TEXT NOT NULL,
    delivered            BOOLEAN NOT NULL,
    error                TEXT,
    at                   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alert_notifications_rule ON alert_notifications (rule_id, id DESC);
