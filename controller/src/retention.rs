//! Retention: a background task deletes history older than its tenant's
//! retention (30 days by default) — executions, events whose deliveries
//! all ended (with those deliveries), schedule slot records and alert
//! notifications — in batches so a large purge never holds long locks.
//! Dead letters stay until replayed or deleted unless the operator sets
//! `dead_letter_retention_days`. Safe to run on every node at once.

use std::sync::Weak;

use crate::core::Core;
use crate::error::Result;

/// Rows deleted per statement.
const BATCH: i64 = 5000;

pub(crate) async fn run(core: Weak<Core>) {
    loop {
        let Some(c) = core.upgrade() else { return };
        let interval = c.config.retention_interval;
        match c.purge_expired().await {
            Ok(purged) => {
                for (what, n) in purged.into_iter().filter(|(_, n)| *n > 0) {
                    tracing::info!("retention: purged {n} {}", what.label());
                }
            }
            Err(e) => tracing::warn!("retention purge failed: {e}"),
        }
        drop(c);
        tokio::time::sleep(interval).await;
    }
}

/// The tenant's retention in days for the row aliased `x` (column
/// `tenant_id`), else the operator's default (`$1`).
const RETENTION: &str = "make_interval(days => coalesce(
    (SELECT (t.settings->>'retention_days')::int FROM tenants t WHERE t.id = x.tenant_id), $1))";

/// What is purged, each by one `DELETE` statement with `$1` the default
/// retention in days, `$2` the batch size and (events only) `$3` the
/// dead-letter retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum History {
    Executions,
    /// An event goes once no delivery of it is waiting, running, or a dead
    /// letter still kept, and no webhook delivery of it is still being
    /// tried; its deliveries and webhook deliveries go with it (cascade).
    Events,
    ScheduleSlots,
    AlertNotifications,
}

impl History {
    const ALL: [History; 4] =
        [History::Executions, History::Events, History::ScheduleSlots, History::AlertNotifications];

    pub fn label(self) -> &'static str {
        match self {
            History::Executions => "executions",
            History::Events => "events",
            History::ScheduleSlots => "schedule slot records",
            History::AlertNotifications => "alert notifications",
        }
    }

    fn sql(self) -> String {
        match self {
            History::Executions => format!(
                "DELETE FROM executions WHERE id IN (
                     SELECT x.id FROM executions x WHERE x.created_at < now() - {RETENTION} LIMIT $2)"
            ),
            History::Events => format!(
                "DELETE FROM events WHERE id IN (
                     SELECT x.id FROM events x WHERE x.created_at < now() - {RETENTION}
                       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = x.id AND d.status <> 'done'
                           AND NOT (d.status = 'dead' AND $3 > 0 AND d.updated_at < now() - make_interval(days => $3)))
                       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.event_id = x.id
                           AND w.status IN ('pending', 'running'))
                     LIMIT $2)"
            ),
            History::ScheduleSlots => format!(
                "DELETE FROM schedule_runs WHERE id IN (
                     SELECT x.id FROM schedule_runs x WHERE x.slot_at < now() - {RETENTION}
                       AND x.status NOT IN ('queued', 'running') LIMIT $2)"
            ),
            History::AlertNotifications => format!(
                "DELETE FROM alert_notifications WHERE id IN (
                     SELECT x.id FROM alert_notifications x WHERE x.at < now() - {RETENTION} LIMIT $2)"
            ),
        }
    }
}

impl Core {
    /// Deletes every expired execution, event, slot record and
    /// notification (and expired `env.KV` entries); returns how many rows
    /// of each history went.
    pub async fn purge_expired(&self) -> Result<Vec<(History, u64)>> {
        let default_days = i32::try_from(self.config.default_retention_days).unwrap_or(i32::MAX);
        let dead_days = i32::try_from(self.config.dead_letter_retention_days).unwrap_or(i32::MAX);
        let mut purged = Vec::new();
        for what in History::ALL {
            let sql = what.sql();
            let mut total = 0;
            loop {
                let db = self.db().await?;
                let n = if what == History::Events {
                    db.execute(&sql, &[&default_days, &BATCH, &dead_days]).await?
                } else {
                    db.execute(&sql, &[&default_days, &BATCH]).await?
                };
                total += n;
                if n < BATCH as u64 {
                    break;
                }
            }
            purged.push((what, total));
        }
        // Expired env.KV entries (already invisible to functions).
        self.db().await?.execute("DELETE FROM kv WHERE expires_at < now()", &[]).await?;
        Ok(purged)
    }
}
