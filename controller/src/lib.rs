//! Quasm's control plane: functions and their immutable versions, routes,
//! API keys, execution history, and the one invoke path every trigger uses
//! ([`Invoker::invoke`]).
//!
//! [`Controller`] composes one service per domain (functions, versions,
//! routes, API keys, tenants, schedules, events, alerts, executions, the
//! invoker); each holds the shared [`core`] (database, blob store, runtime,
//! cache, this node) and the services it calls.
//!
//! Triggers, everything that starts a function besides a direct call, end
//! in the same invoke path:
//! - HTTP routes: `gateway/src/public.rs` matches a route ([`routes`]) and
//!   invokes the function's `fetch` handler.
//! - Cron: the scheduler ([`schedules::scheduler`]) claims schedule slots
//!   and runs the `scheduled` handler.
//! - Events: [`events::delivery`] delivers published events to subscribed
//!   functions' `event` handlers, at least once.
//!
//! Triggers that claim work through Postgres (so each slot or delivery runs
//! once across nodes) record the claiming node ([`nodes`]); work of a dead
//! node is taken over by the others.
//!
//! Postgres is the source of truth (`store/`); bundles live in the blob
//! store (`blob/`). What the invoke path reads on every call is cached per
//! tenant and dropped when any node changes that tenant (`changes.rs`).

pub mod alerts;
pub mod api_keys;
pub mod audit;
mod bindings;
pub mod blob;
pub mod bundle;
pub mod cache;
pub mod call;
pub mod changes;
pub mod check;
mod commit;
mod compat;
mod core;
pub mod deployed;
pub mod error;
pub mod events;
pub mod executions;
mod files;
pub mod functions;
pub mod invoke;
mod kv;
pub mod lifecycle;
pub mod live;
pub mod metrics;
pub mod nodes;
mod page;
pub mod quota;
pub mod retention;
pub mod routes;
pub mod schedules;
pub mod secrets;
pub mod serde_strict;
pub mod stats;
pub mod store;
pub mod tenants;
mod validate;
pub mod versions;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

pub use alerts::Alerts;
pub use api_keys::ApiKeys;
pub use call::{Call, HttpRoute, Record, Trigger, TriggerContext};
pub use error::{ControllerError, Result};
pub use events::Events;
pub use executions::Executions;
pub use files::write_new_private;
pub use functions::Functions;
pub use invoke::{Invoker, Outcome};
pub use routes::Routes;
pub use schedules::Schedules;
pub use tenants::Tenants;
pub use versions::Versions;
pub use webhooks::Webhooks;

use blob::BlobStore;
use quasm_runtime::Runtime;

use crate::core::Core;

/// Who is making a change or a call: from the credential, never the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub tenant: String,
    /// The credential's subject (a user, a service, `api-key:<id>`).
    pub subject: String,
}

impl Actor {
    pub fn new(tenant: impl Into<String>, subject: impl Into<String>) -> Self {
        Self { tenant: tenant.into(), subject: subject.into() }
    }
}

#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub quotas: quota::QuotaConfig,
    pub recorder: executions::RecorderConfig,
    /// Executions older than this are purged, unless a tenant sets its own.
    pub default_retention_days: u32,
    /// Dead letters older than this are purged with their event (0: kept
    /// until replayed or deleted).
    pub dead_letter_retention_days: u32,
    /// How often the retention purge runs.
    pub retention_interval: Duration,
    /// A node that has not renewed its lease for this long is presumed
    /// dead and its unfinished work is taken over.
    pub node_lease: Duration,
    /// A cron slot found more than this late was missed (no node was up).
    pub cron_grace: Duration,
    /// SMTP server for email alerts; without it, email channels are refused.
    pub smtp: Option<alerts::SmtpConfig>,
    /// Tenant webhook delivery: attempts and backoff.
    pub webhooks: webhooks::WebhookConfig,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            quotas: Default::default(),
            recorder: Default::default(),
            default_retention_days: 30,
            dead_letter_retention_days: 0,
            retention_interval: Duration::from_secs(3600),
            node_lease: Duration::from_secs(15),
            cron_grace: Duration::from_secs(60),
            smtp: None,
            webhooks: Default::default(),
        }
    }
}

/// The control plane: one service per domain, composed here. Background
/// tasks (heartbeat, change listener, retention, alerts, cron, event
/// deliveries) are started by [`Controller::start`] and hold their service
/// weakly, so they end when the controller is dropped.
pub struct Controller {
    core: Arc<Core>,
    pub functions: Arc<Functions>,
    pub versions: Arc<Versions>,
    pub routes: Arc<Routes>,
    pub api_keys: Arc<ApiKeys>,
    pub tenants: Arc<Tenants>,
    pub schedules: Arc<Schedules>,
    pub events: Arc<Events>,
    pub alerts: Arc<Alerts>,
    pub executions: Arc<Executions>,
    pub invoker: Arc<Invoker>,
    pub webhooks: Arc<Webhooks>,
    lifecycle: Arc<lifecycle::Lifecycle>,
}

impl Controller {
    /// Connects the pieces, joins the cluster (registers this node) and
    /// starts the background tasks (node heartbeat, change listener,
    /// execution recorder, retention purge). `db_url` is the database the
    /// pool uses; the listener needs its own connection.
    pub async fn start(
        db: deadpool_postgres::Pool,
        db_url: String,
        blobs: Arc<dyn BlobStore>,
        runtime: Arc<Runtime>,
        secrets: secrets::SecretBox,
        config: ControllerConfig,
    ) -> Result<Arc<Self>> {
        let smtp = config.smtp.clone();
        let core = Arc::new(Core::new(db, blobs, runtime, secrets, config)?);
        let versions = Arc::new(Versions { core: core.clone() });
        let executions = Arc::new(Executions::new(core.clone()));
        let alerts = Arc::new(Alerts::new(core.clone(), smtp.as_ref())?);
        let lifecycle = Arc::new(lifecycle::Lifecycle::new(core.clone()));
        let invoker = Arc::new(Invoker::new(core.clone(), executions.clone(), alerts.clone(), lifecycle.clone()));
        let controller = Arc::new(Self {
            functions: Arc::new(Functions { core: core.clone(), versions: versions.clone() }),
            versions,
            routes: Arc::new(Routes { core: core.clone() }),
            api_keys: Arc::new(ApiKeys { core: core.clone() }),
            tenants: Arc::new(Tenants { core: core.clone() }),
            schedules: Arc::new(Schedules {
                core: core.clone(),
                invoker: invoker.clone(),
                scheduler: Default::default(),
            }),
            events: Arc::new(Events { core: core.clone(), invoker: invoker.clone(), wake: Default::default() }),
            alerts,
            executions,
            invoker,
            webhooks: Arc::new(Webhooks::new(core.clone())),
            lifecycle,
            core,
        });
        let core = &controller.core;
        core.node.check_shared_blob_store(core).await?;
        // Registered before any work is claimed in this node's name.
        core.node.renew_lease(core).await?;
        tokio::spawn(nodes::heartbeat(Arc::downgrade(core)));
        tokio::spawn(changes::listen(Arc::downgrade(&controller), db_url));
        tokio::spawn(retention::run(Arc::downgrade(core)));
        alerts::start(&controller.alerts);
        tokio::spawn(schedules::scheduler::run(Arc::downgrade(&controller.schedules)));
        events::delivery::start(&controller.events);
        lifecycle::start(&controller.lifecycle);
        webhooks::start(&controller.webhooks);
        Ok(controller)
    }

    /// Stops claiming trigger work, waits (up to `grace`) for trigger runs
    /// in flight, flushes execution records and leaves the cluster, so
    /// other nodes take over what is left at once.
    pub async fn shutdown(&self, grace: Duration) {
        let core = &self.core;
        core.stopping.cancel();
        core.runs.close();
        if tokio::time::timeout(grace, core.runs.wait()).await.is_err() {
            tracing::warn!(
                "shutdown: {} trigger runs still going after {grace:?}; other nodes will retry them",
                core.runs.len()
            );
        }
        self.executions.flush().await;
        // Outcomes of the runs above may still be raising alerts.
        self.alerts.drain(grace.max(Duration::from_secs(5))).await;
        self.lifecycle.drain(grace.max(Duration::from_secs(5))).await;
        if let Err(e) = core.node.leave(core).await {
            tracing::warn!("leaving the cluster: {e}");
        }
    }

    /// Cancelled when the process is stopping.
    pub fn stopping(&self) -> &tokio_util::sync::CancellationToken {
        &self.core.stopping
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.core.runtime
    }

    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.core.metrics
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.core.config
    }

    /// Live nodes sharing the database (at least 1: this one), as of the
    /// last heartbeat; each node enforces its share of the cluster-wide
    /// quotas and rate limits.
    pub fn live_nodes(&self) -> usize {
        self.core.live_nodes()
    }

    /// This process's node id.
    pub fn node_id(&self) -> uuid::Uuid {
        self.core.node.id
    }

    /// Whether Postgres answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.core.db().await?.simple_query("SELECT 1").await?;
        Ok(())
    }
}
