//! Node membership. Every `quasm` process sharing a database registers a
//! row in `nodes` and renews its lease (`expires_at`) every third of the
//! lease. Work claimed by a node (schedule slots, event deliveries, async
//! runs) names the node; once that node's lease has expired, the others
//! take the work over. A process that stops cleanly deletes its row, so its
//! unfinished work is taken over at once.
//!
//! Every query that asks "is the owner alive?" uses [`ALIVE`], so there is
//! one definition of a live node.

use std::sync::Weak;
use std::time::Duration;

use uuid::Uuid;

use crate::error::Result;
use crate::Controller;

/// SQL condition true when the node `$node` (substitute a column or a
/// parameter with `alive(...)`) holds an unexpired lease.
const ALIVE: &str = "EXISTS (SELECT 1 FROM nodes n WHERE n.id = $node AND n.expires_at > now())";

/// [`ALIVE`] for the node id in `expr` (a column such as `d.locked_by`).
pub fn alive(expr: &str) -> String {
    ALIVE.replace("$node", expr)
}

/// This process as a cluster member.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: Uuid,
    /// How long a node counts as alive after its last heartbeat.
    pub lease: Duration,
}

impl Node {
    pub fn new(lease: Duration) -> Self {
        Self { id: Uuid::now_v7(), lease }
    }
}

/// Rows of nodes dead for longer than this are deleted.
const FORGET_AFTER: &str = "1 hour";

/// Renews this node's lease until the controller is dropped; after each
/// renewal fails the unfinished executions of dead nodes.
pub(crate) async fn heartbeat(controller: Weak<Controller>) {
    loop {
        let Some(c) = controller.upgrade() else { return };
        let every = c.node.lease / 3;
        if let Err(e) = c.renew_lease().await {
            tracing::warn!("node heartbeat failed: {e}");
        } else if let Err(e) = c.fail_orphaned_executions().await {
            tracing::warn!("failing executions of dead nodes: {e}");
        }
        drop(c);
        tokio::time::sleep(every).await;
    }
}

impl Controller {
    /// This process's node id.
    pub fn node_id(&self) -> Uuid {
        self.node.id
    }

    pub(crate) async fn renew_lease(&self) -> Result<()> {
        let lease = self.node.lease.as_secs_f64();
        let host = hostname();
        let pid = std::process::id() as i32;
        let db = self.db().await?;
        db.execute(
            "INSERT INTO nodes (id, hostname, pid, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), expires_at = EXCLUDED.expires_at",
            &[&self.node.id, &host, &pid, &lease],
        )
        .await?;
        db.execute(&format!("DELETE FROM nodes WHERE expires_at < now() - interval '{FORGET_AFTER}'"), &[]).await?;
        Ok(())
    }

    /// Leaves the cluster: others take over this node's unfinished work at
    /// once instead of waiting for the lease to expire.
    pub async fn leave(&self) -> Result<()> {
        self.db().await?.execute("DELETE FROM nodes WHERE id = $1", &[&self.node.id]).await?;
        Ok(())
    }

    /// Async and manual runs whose node died can never finish: they are
    /// marked as failed so nobody waits on them forever. (Schedule slots
    /// and event deliveries are retried by their own triggers instead.)
    pub(crate) async fn fail_orphaned_executions(&self) -> Result<u64> {
        let db = self.db().await?;
        let sql = format!(
            "UPDATE executions SET status = 'error', finished_at = now(),
                    error = jsonb_build_object('name', 'NodeLost', 'stack', '',
                        'message', 'the node running this execution stopped before it finished')
             WHERE status IN ('queued', 'running') AND node_id IS NOT NULL AND node_id <> $1
               AND NOT {}",
            alive("executions.node_id")
        );
        let n = db.execute(&sql, &[&self.node.id]).await?;
        if n > 0 {
            tracing::warn!("{n} executions of dead nodes marked failed");
        }
        Ok(n)
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}
