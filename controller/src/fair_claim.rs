//! Claiming due deliveries fairly between tenants.
//!
//! A queue claimed oldest first lets one tenant's backlog (a burst of events
//! to a slow function, a webhook receiver that takes its full timeout) hold
//! every slot of every node while the other tenants' deliveries wait behind
//! it. A claim here first gives each tenant with due work an equal share of
//! the free slots (its own oldest deliveries), then fills what is left oldest
//! first, so no slot idles while anything is due. With one tenant waiting it
//! is the plain oldest-first claim.

use tokio_postgres::Transaction;

/// The queues claimed this way: both have `tenant_id`, `status` (`pending`
/// while waiting) and `next_attempt_at`, indexed by tenant for pending rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Queue {
    /// Event deliveries to functions (`events/delivery.rs`).
    Events,
    /// Tenant webhook deliveries (`webhooks/delivery.rs`).
    Webhooks,
}

impl Queue {
    fn table(self) -> &'static str {
        match self {
            Queue::Events => "deliveries",
            Queue::Webhooks => "webhook_deliveries",
        }
    }
}

/// Locks up to `n` due deliveries of `queue` in `tx` (`FOR UPDATE SKIP
/// LOCKED`: rows another node is claiming are passed over) and returns their
/// ids; the caller marks them running in the same transaction.
pub(crate) async fn lock_due(tx: &Transaction<'_>, queue: Queue, n: usize) -> Result<Vec<i64>, tokio_postgres::Error> {
    let table = queue.table();
    let mut tenants = ready_tenants(tx, table).await?;
    let mut ids: Vec<i64> = Vec::with_capacity(n);
    if tenants.len() > 1 {
        // At most `n` tenants get a share this time, starting at a random
        // one so that none is always last in line.
        let start = getrandom::u64().unwrap_or(0) as usize % tenants.len();
        tenants.rotate_left(start);
        tenants.truncate(n);
        let share = n.div_ceil(tenants.len()) as i64;
        let rows = tx
            .query(
                &format!(
                    "SELECT p.id FROM unnest($1::text[]) AS r(tenant_id) CROSS JOIN LATERAL (
                         SELECT d.id FROM {table} d
                         WHERE d.tenant_id = r.tenant_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                         ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
                     ) p"
                ),
                &[&tenants, &share],
            )
            .await?;
        ids.extend(rows.iter().map(|r| r.get::<_, i64>(0)).take(n));
    }
    if ids.len() < n {
        // Rows this transaction locked already are not skipped by SKIP
        // LOCKED, hence the exclusion.
        let rows = tx
            .query(
                &format!(
                    "SELECT id FROM {table} WHERE status = 'pending' AND next_attempt_at <= now() AND id <> ALL($1)
                     ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED"
                ),
                &[&ids, &((n - ids.len()) as i64)],
            )
            .await?;
        ids.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    Ok(ids)
}

/// Tenants with at least one due delivery in `table`: one probe of the
/// pending-by-tenant index per tenant with pending deliveries (a loose
/// index scan), whatever the size of their backlogs.
async fn ready_tenants(tx: &Transaction<'_>, table: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = tx
        .query(
            &format!(
                "WITH RECURSIVE waiting(tenant_id) AS (
                     SELECT min(tenant_id) FROM {table} WHERE status = 'pending'
                   UNION ALL
                     SELECT (SELECT min(d.tenant_id) FROM {table} d WHERE d.status = 'pending' AND d.tenant_id > w.tenant_id)
                     FROM waiting w WHERE w.tenant_id IS NOT NULL
                 )
                 SELECT w.tenant_id FROM waiting w
                 WHERE w.tenant_id IS NOT NULL AND EXISTS (
                     SELECT 1 FROM {table} d
                     WHERE d.tenant_id = w.tenant_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                 )"
            ),
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
