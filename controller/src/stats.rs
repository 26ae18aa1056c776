//! The tenant at a glance, for the console's home page: the last 24 hours
//! of executions by status, the functions that failed, the next scheduled
//! runs and the dead letters waiting. Read-only and tenant-scoped; every
//! figure comes from one indexed query on the tables the triggers write.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;

/// How many failing functions and upcoming runs are listed.
const TOP: i64 = 10;

#[derive(Debug, Serialize)]
pub struct Stats {
    /// Start of the window (now - 24 h).
    pub since: DateTime<Utc>,
    /// Executions created in the window, by status (every status present,
    /// zero included).
    pub runs_by_status: serde_json::Map<String, serde_json::Value>,
    /// Functions with at least one failed execution in the window, most
    /// failures first.
    pub failing_functions: Vec<FailingFunction>,
    /// The next enabled schedule slots, soonest first.
    pub next_scheduled_runs: Vec<NextRun>,
    /// Dead letters waiting for a replay or a delete.
    pub dead_letters_waiting: i64,
}

#[derive(Debug, Serialize)]
pub struct FailingFunction {
    pub function: String,
    pub failures: i64,
    pub runs: i64,
    pub last_failure_at: DateTime<Utc>,
    pub last_execution_id: Uuid,
}

#[derive(Debug, Serialize)]
pub struct NextRun {
    pub function: String,
    pub schedule_id: i64,
    pub cron: String,
    pub timezone: String,
    pub at: DateTime<Utc>,
}

/// Every status an execution can have, in the order the console shows them.
const STATUSES: [&str; 8] =
    ["ok", "error", "timeout", "out_of_memory", "limit_exceeded", "cancelled", "running", "queued"];

/// Statuses counted as failures.
const FAILED: &str = "('error', 'timeout', 'out_of_memory', 'limit_exceeded')";

impl crate::tenants::Tenants {
    pub async fn stats(&self, tenant: &str) -> Result<Stats> {
        let db = self.core.db().await?;
        let since = Utc::now() - chrono::Duration::hours(24);
        // executions_tenant_recent (tenant_id, id DESC) with v7 ids: the
        // window is an id range, so no scan of older history.
        let floor = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            since.timestamp() as u64,
            since.timestamp_subsec_nanos(),
        ));
        let mut runs_by_status = serde_json::Map::new();
        for s in STATUSES {
            runs_by_status.insert(s.to_owned(), 0.into());
        }
        for r in db
            .query(
                "SELECT status, count(*) FROM executions WHERE tenant_id = $1 AND id >= $2 GROUP BY status",
                &[&tenant, &floor],
            )
            .await?
        {
            runs_by_status.insert(r.get(0), r.get::<_, i64>(1).into());
        }
        let failing_functions = db
            .query(
                &format!(
                    "SELECT function_name,
                            count(*) FILTER (WHERE status IN {FAILED}),
                            count(*),
                            max(created_at) FILTER (WHERE status IN {FAILED}),
                            (array_agg(id ORDER BY id DESC) FILTER (WHERE status IN {FAILED}))[1]
                     FROM executions WHERE tenant_id = $1 AND id >= $2
                     GROUP BY function_name
                     HAVING count(*) FILTER (WHERE status IN {FAILED}) > 0
                     ORDER BY 2 DESC, 4 DESC LIMIT $3"
                ),
                &[&tenant, &floor, &TOP],
            )
            .await?
            .iter()
            .map(|r| FailingFunction {
                function: r.get(0),
                failures: r.get(1),
                runs: r.get(2),
                last_failure_at: r.get(3),
                last_execution_id: r.get(4),
            })
            .collect();
        let next_scheduled_runs = db
            .query(
                "SELECT f.name, s.id, s.cron, s.timezone, s.next_slot_at
                 FROM schedules s JOIN functions f ON f.id = s.function_id
                 WHERE s.tenant_id = $1 AND s.enabled AND f.enabled AND s.next_slot_at IS NOT NULL
                 ORDER BY s.next_slot_at LIMIT $2",
                &[&tenant, &TOP],
            )
            .await?
            .iter()
            .map(|r| NextRun {
                function: r.get(0),
                schedule_id: r.get(1),
                cron: r.get(2),
                timezone: r.get(3),
                at: r.get(4),
            })
            .collect();
        let dead_letters_waiting: i64 = db
            .query_one("SELECT count(*) FROM deliveries WHERE tenant_id = $1 AND status = 'dead'", &[&tenant])
            .await?
            .get(0);
        Ok(Stats { since, runs_by_status, failing_functions, next_scheduled_runs, dead_letters_waiting })
    }
}
