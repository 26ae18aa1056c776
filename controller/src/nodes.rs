//! Node membership. Every `quasm` process sharing a database registers a
//! row in `nodes` and renews its lease (`expires_at`) every third of the
//! lease. Work claimed by a node (schedule slots, event deliveries, async
//! runs) names the node; once that node's lease has expired, the others
//! take the work over. A process that stops cleanly deletes its row, so its
//! unfinished work is taken over at once.
//!
//! Every query that asks "is the owner alive?" uses [`ALIVE`], so there is
//! one definition of a live node.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Weak;
use std::time::Duration;

use uuid::Uuid;

use crate::core::Core;
use crate::error::{ControllerError, Result};

/// SQL condition true when the node `$node` (substitute a column or a
/// parameter with `alive(...)`) holds an unexpired lease.
const ALIVE: &str = "EXISTS (SELECT 1 FROM nodes n WHERE n.id = $node AND n.expires_at > now())";

/// [`ALIVE`] for the node id in `expr` (a column such as `d.locked_by`).
pub fn alive(expr: &str) -> String {
    ALIVE.replace("$node", expr)
}

/// This process as a cluster member.
#[derive(Debug)]
pub struct Node {
    pub id: Uuid,
    /// How long a node counts as alive after its last heartbeat.
    pub lease: Duration,
    /// Where this node keeps bundles ([`crate::blob::BlobStore::location`]),
    /// registered with the lease so nodes can check they share one store.
    pub blob_store: String,
    pub hostname: String,
    /// Live nodes sharing the database (this one included), as of the last
    /// heartbeat: quotas and rate limits are split among them.
    live: AtomicUsize,
}

impl Node {
    pub fn new(lease: Duration, blob_store: String) -> Self {
        Self { id: Uuid::now_v7(), lease, blob_store, hostname: hostname(), live: AtomicUsize::new(1) }
    }
}

/// Rows of nodes dead for longer than this are deleted.
const FORGET_AFTER: &str = "1 hour";

/// Renews this node's lease until the controller is dropped; after each
/// renewal fails the unfinished executions of dead nodes.
pub(crate) async fn heartbeat(core: Weak<Core>) {
    loop {
        let Some(c) = core.upgrade() else { return };
        let every = c.node.lease / 3;
        if let Err(e) = c.node.renew_lease(&c).await {
            tracing::warn!("node heartbeat failed: {e}");
        } else if let Err(e) = c.node.fail_orphaned_executions(&c).await {
            tracing::warn!("failing executions of dead nodes: {e}");
        }
        drop(c);
        tokio::time::sleep(every).await;
    }
}

impl Node {
    /// Live nodes sharing this database (at least 1: this one), as of the
    /// last heartbeat; each node enforces its share of the cluster-wide
    /// quotas and rate limits.
    pub fn live_nodes(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Refuses to join a cluster whose live nodes keep their bundles
    /// elsewhere: a version created through one node must run on every
    /// node, so all must share one blob store (one S3 bucket, or one local
    /// directory of one host).
    pub(crate) async fn check_shared_blob_store(&self, core: &Core) -> Result<()> {
        let mine = self.blob_store.clone();
        let db = core.db().await?;
        let other = db
            .query_opt(
                "SELECT hostname, pid, blob_store FROM nodes
                 WHERE id <> $1 AND expires_at > now() AND blob_store IS DISTINCT FROM $2 LIMIT 1",
                &[&self.id, &mine],
            )
            .await?;
        if let Some(row) = other {
            let (host, pid, theirs): (String, i32, Option<String>) = (row.get(0), row.get(1), row.get(2));
            return Err(ControllerError::Invalid {
                field: "blob store".into(),
                message: format!(
                    "another quasm node (pid {pid} on host {host}) uses this database with its bundles in {}, \
                     but this node would keep them in {mine}: nodes sharing a database must share one blob \
                     store, or versions created through one cannot run on another. Configure the same S3 \
                     bucket (s3_endpoint, s3_bucket) on every node; see README, Scaling out.",
                    theirs.as_deref().unwrap_or("an unknown store (an older quasm)")
                ),
            });
        }
        Ok(())
    }

    pub(crate) async fn renew_lease(&self, core: &Core) -> Result<()> {
        let lease = self.lease.as_secs_f64();
        let pid = std::process::id() as i32;
        let db = core.db().await?;
        db.execute(
            "INSERT INTO nodes (id, hostname, pid, expires_at, blob_store)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), expires_at = EXCLUDED.expires_at",
            &[&self.id, &self.hostname, &pid, &lease, &self.blob_store],
        )
        .await?;
        db.execute(&format!("DELETE FROM nodes WHERE expires_at < now() - interval '{FORGET_AFTER}'"), &[]).await?;
        let live: i64 = db.query_one("SELECT count(*) FROM nodes WHERE expires_at > now()", &[]).await?.get(0);
        self.live.store((live as usize).max(1), Ordering::Relaxed);
        Ok(())
    }

    /// Leaves the cluster: others take over this node's unfinished work at
    /// once instead of waiting for the lease to expire.
    pub(crate) async fn leave(&self, core: &Core) -> Result<()> {
        core.db().await?.execute("DELETE FROM nodes WHERE id = $1", &[&self.id]).await?;
        Ok(())
    }

    /// Async and manual runs whose node died can never finish: they are
    /// marked as failed so nobody waits on them forever. (Schedule slots
    /// and event deliveries are retried by their own triggers instead.)
    pub(crate) async fn fail_orphaned_executions(&self, core: &Core) -> Result<u64> {
        let db = core.db().await?;
        let sql = format!(
            "UPDATE executions SET status = 'error', finished_at = now(),
                    error = jsonb_build_object('name', 'NodeLost', 'stack', '',
                        'message', 'the node running this execution stopped before it finished')
             WHERE status IN ('queued', 'running') AND node_id IS NOT NULL AND node_id <> $1
               AND NOT {}",
            alive("executions.node_id")
        );
        let n = db.execute(&sql, &[&self.id]).await?;
        if n > 0 {
            tracing::warn!("{n} executions of dead nodes marked failed");
        }
        Ok(n)
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}
