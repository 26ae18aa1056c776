-- Each function's compatibility date: the gated behaviour changes of the
-- in-function API it sees (runtime/src/compat.rs). New functions get the day
-- they were created; existing ones the day they were created too, so they
-- keep the behaviour they were written against.

ALTER TABLE functions ADD COLUMN compatibility_date DATE;
UPDATE functions SET compatibility_date = (created_at AT TIME ZONE 'UTC')::date;
ALTER TABLE functions ALTER COLUMN compatibility_date SET DEFAULT (now() AT TIME ZONE 'UTC')::date,
                      ALTER COLUMN compatibility_date SET NOT NULL;
