//! Execution retention: a background task deletes executions older than
//! their tenant's retention (30 days by default), in batches so a large
//! purge never holds long locks. Safe to run on every node at once.

use std::sync::Weak;

use crate::error::Result;
use crate::Controller;

/// Rows deleted per statement.
const BATCH: i64 = 5000;

pub(crate) async fn run(controller: Weak<Controller>) {
    loop {
        let Some(c) = controller.upgrade() else { return };
        let interval = c.config.retention_interval;
        match c.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!("retention: purged {n} executions"),
            Err(e) => tracing::warn!("retention purge failed: {e}"),
        }
        drop(c);
        tokio::time::sleep(interval).await;
    }
}

impl Controller {
    /// Deletes every expired execution; returns how many.
    pub async fn purge_expired(&self) -> Result<u64> {
        let default_days = i32::try_from(self.config.default_retention_days).unwrap_or(i32::MAX);
        let mut total = 0;
        loop {
            let db = self.db().await?;
            let n = db
                .execute(
                    "DELETE FROM executions WHERE id IN (
                         SELECT e.id FROM executions e LEFT JOIN tenants t ON t.id = e.tenant_id
                         WHERE e.created_at < now() - make_interval(days =>
                               coalesce((t.settings->>'retention_days')::int, $1))
                         LIMIT $2)",
                    &[&default_days, &BATCH],
                )
                .await?;
            total += n;
            if n < BATCH as u64 {
                // Expired env.KV entries (already invisible to functions).
                db.execute("DELETE FROM kv WHERE expires_at < now()", &[]).await?;
                return Ok(total);
            }
        }
    }
}
