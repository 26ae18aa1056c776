//! Committing a change to a tenant's configuration. Every change goes
//! through [`Core::commit_change`], so each one writes its audit entry
//! in its own transaction, tells the nodes that must hear of it, and drops
//! this node's cached view in the same way.

use deadpool_postgres::Transaction;

use crate::changes::{self, channel};
use crate::core::Core;
use crate::error::Result;
use crate::{audit, Actor};

/// Who must hear of a change once it is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Nobody: what changed is read from the database when needed
    /// (subscriptions, tenant settings, schedule deletions, dead letters).
    Nobody,
    /// Every node drops its cached view of the tenant (functions, versions,
    /// routes, alert rules, API keys).
    Caches,
    /// Every node's cron scheduler re-reads the next slots.
    Schedulers,
    /// Every node's event delivery claimer looks for ready deliveries.
    EventClaimers,
}

impl Core {
    /// Records `action` on `target` in the audit log, sends `notice` and
    /// commits `tx`: the entry and the notifications take effect with the
    /// change or not at all (Postgres delivers NOTIFY on commit).
    pub(crate) async fn commit_change(
        &self,
        tx: Transaction<'_>,
        actor: &Actor,
        action: &str,
        target: &str,
        details: serde_json::Value,
        notice: Notice,
    ) -> Result<()> {
        // Lifecycle events (quasm.function.*, quasm.version.*) commit with the change.
        crate::lifecycle::on_change(&tx, actor, action, target, &details).await?;
        audit::record(&tx, &actor.tenant, &actor.subject, action, target, details).await?;
        match notice {
            Notice::Nobody => {}
            Notice::Caches => changes::notify(&tx, channel::CONFIG, &actor.tenant).await?,
            Notice::Schedulers => changes::notify(&tx, channel::SCHEDULES, "").await?,
            Notice::EventClaimers => changes::notify(&tx, channel::EVENTS, &actor.tenant).await?,
        }
        tx.commit().await?;
        if notice == Notice::Caches {
            // Other nodes hear of it through NOTIFY; this one at once.
            self.cache.invalidate(&actor.tenant);
        }
        Ok(())
    }
}
