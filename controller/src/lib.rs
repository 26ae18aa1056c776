//! Quasm's control plane: functions and their immutable versions, routes,
//! API keys, execution history, and the one invoke path every trigger uses
//! ([`Controller::invoke`]).
//!
//! Postgres is the source of truth (`store/`); bundles live in the blob
//! store (`blob/`). What the invoke path reads on every call is cached per
//! tenant and dropped when any node changes that tenant (`changes.rs`).

pub mod api_keys;
pub mod audit;
pub mod blob;
pub mod bundle;
pub mod cache;
pub mod changes;
pub mod dead_letters;
pub mod error;
pub mod events;
pub mod executions;
mod files;
pub mod functions;
pub mod invoke;
pub mod metrics;
pub mod nodes;
pub mod quota;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod store;
pub mod subscriptions;
pub mod tenants;
pub mod triggers;
mod validate;
pub mod versions;

use std::sync::Arc;
use std::time::Duration;

pub use error::{ControllerError, Result};
pub use files::write_new_private;
pub use invoke::{Call, Outcome, Trigger};

use blob::BlobStore;
use quasm_runtime::Runtime;

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
    /// How often the retention purge runs.
    pub retention_interval: Duration,
    /// A node that has not renewed its lease for this long is presumed
    /// dead and its unfinished work is taken over.
    pub node_lease: Duration,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            quotas: Default::default(),
            recorder: Default::default(),
            default_retention_days: 30,
            retention_interval: Duration::from_secs(3600),
            node_lease: Duration::from_secs(15),
        }
    }
}

pub struct Controller {
    db: deadpool_postgres::Pool,
    /// For the LISTEN connections, which stay outside the pool.
    db_url: String,
    blobs: Arc<dyn BlobStore>,
    runtime: Arc<Runtime>,
    secrets: secrets::SecretBox,
    pub(crate) cache: cache::Cache,
    recorder: executions::Recorder,
    quotas: quota::Quotas,
    services: quasm_runtime::Services,
    metrics: Arc<metrics::Metrics>,
    node: nodes::Node,
    /// Cancelled when the process stops: triggers stop claiming work.
    stopping: tokio_util::sync::CancellationToken,
    /// Trigger runs in flight (cron slots, event deliveries, manual runs),
    /// awaited on shutdown.
    runs: tokio_util::task::TaskTracker,
    config: ControllerConfig,
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
        let metrics = Arc::new(metrics::Metrics::new());
        let recorder = executions::Recorder::start(db.clone(), blobs.clone(), config.recorder.clone(), metrics.clone());
        let controller = Arc::new_cyclic(|this| Self {
            quotas: quota::Quotas::new(config.quotas.clone()),
            db,
            db_url: db_url.clone(),
            blobs,
            runtime,
            secrets,
            cache: cache::Cache::default(),
            recorder,
            // env.EVENTS publishes through this controller (held weakly: it owns them).
            services: quasm_runtime::Services {
                events: Arc::new(events::ControllerEvents(this.clone())),
                ..Default::default()
            },
            metrics,
            node: nodes::Node::new(config.node_lease),
            stopping: Default::default(),
            runs: Default::default(),
            config,
        });
        // Registered before any work is claimed in this node's name.
        controller.renew_lease().await?;
        tokio::spawn(nodes::heartbeat(Arc::downgrade(&controller)));
        tokio::spawn(changes::listen(Arc::downgrade(&controller), db_url));
        tokio::spawn(retention::run(Arc::downgrade(&controller)));
        triggers::start(&controller);
        Ok(controller)
    }

    /// Stops claiming trigger work, waits (up to `grace`) for trigger runs
    /// in flight, flushes execution records and leaves the cluster, so
    /// other nodes take over what is left at once.
    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.cancel();
        self.runs.close();
        if tokio::time::timeout(grace, self.runs.wait()).await.is_err() {
            tracing::warn!("shutdown: {} trigger runs still going after {grace:?}; other nodes will retry them", self.runs.len());
        }
        self.flush().await;
        if let Err(e) = self.leave().await {
            tracing::warn!("leaving the cluster: {e}");
        }
    }

    /// Cancelled when the process is stopping.
    pub fn stopping(&self) -> &tokio_util::sync::CancellationToken {
        &self.stopping
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.metrics
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// Waits until every execution record handed to the recorder so far is
    /// written (graceful shutdown).
    pub async fn flush(&self) {
        self.recorder.flush().await;
    }

    /// Whether Postgres answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.db().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn db(&self) -> Result<deadpool_postgres::Object> {
        Ok(store::connect(&self.db).await?)
    }

    /// Drops this node's cached view of `tenant` after a local change (other
    /// nodes hear of it through NOTIFY).
    fn changed(&self, tenant: &str) {
        self.cache.invalidate(tenant);
    }
}
