-- Who started an execution (`ctx.user.id`: a user's `sub`, or
-- `api-key:<id>`); NULL for cron slots, event deliveries and public routes.
-- The executions API filters by it (`?user=`).

ALTER TABLE executions ADD COLUMN started_by TEXT;
CREATE INDEX executions_started_by ON executions (tenant_id, started_by, id DESC) WHERE started_by IS NOT NULL;
