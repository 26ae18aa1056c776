-- Cron schedules and the record of every slot.

CREATE TABLE schedules (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    function_id   BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    cron          TEXT NOT NULL,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    input         JSONB,
    enabled       BOOLEAN NOT NULL DEFAULT true,
    -- What a slot does while the previous run of this schedule still runs.
    overlap       TEXT NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'queue', 'allow')),
    -- What happens to slots missed while no node was up.
    catch_up      TEXT NOT NULL DEFAULT 'skip' CHECK (catch_up IN ('skip', 'once')),
    -- The earliest slot not yet claimed by a node (NULL: never fires again).
    next_slot_at  TIMESTAMPTZ,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX schedules_function ON schedules (function_id);
CREATE INDEX schedules_due ON schedules (next_slot_at) WHERE enabled;

-- One row per slot, claimed by exactly one node (the unique key).
CREATE TABLE schedule_runs (
    id                BIGSERIAL PRIMARY KEY,
    schedule_id       BIGINT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    tenant_id         TEXT NOT NULL,
    slot_at           TIMESTAMPTZ NOT NULL,
    -- queued/running: in progress; ran: the function was run (its outcome
    -- is execution_status); skipped: not run (overlap, disabled function,
    -- quota); missed: no node was up in time.
    status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ran', 'skipped', 'missed')),
    reason            TEXT,
    node_id           UUID,
    execution_id      UUID,
    execution_status  TEXT,
    fired_at          TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    UNIQUE (schedule_id, slot_at)
);
CREATE INDEX schedule_runs_recent ON schedule_runs (schedule_id, slot_at DESC);
CREATE INDEX schedule_runs_active ON schedule_runs (schedule_id) WHERE status IN ('queued', 'running');
