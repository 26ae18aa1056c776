-- Nodes: every `quasm` process sharing this database registers itself and
-- renews a lease. Work a node claimed (schedule slots, event deliveries,
-- async runs) is taken over by others once its lease has expired.

CREATE TABLE nodes (
    id            UUID PRIMARY KEY,
    hostname      TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The node is presumed dead after this instant.
    expires_at    TIMESTAMPTZ NOT NULL
);

-- Which node runs an unfinished durable execution (queued/running).
ALTER TABLE executions ADD COLUMN node_id UUID;
CREATE INDEX executions_unfinished ON executions (node_id) WHERE status IN ('queued', 'running');
