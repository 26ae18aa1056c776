//! Quasm's control plane: functions and their immutable versions, routes,
//! API keys, execution history, and the one invoke path every trigger uses
//! ([`Controller::invoke`]).
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
pub mod dead_letters;
pub mod deployed;
pub mod error;
pub mod events;
pub mod executions;
mod files;
pub mod functions;
pub mod invoke;
mod kv;
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
pub mod subscriptions;
pub mod tenants;
pub mod triggers;
mod validate;
pub mod versions;

use std::sync::Arc;
use std::time::Duration;

pub use call::{Call, HttpRoute, Record, Trigger, TriggerContext};
pub use error::{ControllerError, Result};
pub use files::write_new_private;
pub use invoke::Outcome;

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
        }
    }
}

pub struct Controller {
    db: deadpool_postgres::Pool,
    blobs: Arc<dyn BlobStore>,
    runtime: Arc<Runtime>,
    secrets: secrets::SecretBox,
    pub(crate) cache: cache::Cache,
    recorder: executions::Recorder,
    quotas: quota::Quotas,
    services: quasm_runtime::Services,
    metrics: Arc<metrics::Metrics>,
    node: nodes::Node,
    pub(crate) alerts: alerts::Alerts,
    /// Cancelled when the process stops: triggers stop claiming work.
    stopping: tokio_util::sync::CancellationToken,
    /// Live nodes sharing the database (this one included), as of the last
    /// heartbeat: quotas and rate limits are split among them.
    live_nodes: std::sync::atomic::AtomicUsize,
    /// Trigger runs in flight (cron slots, event deliveries, manual runs),
    /// awaited on shutdown.
    runs: tokio_util::task::TaskTracker,
    /// Where background runs execute: their own worker threads, so a run
    /// that computes for seconds never stalls the threads serving requests.
    run_threads: tokio::runtime::Handle,
    scheduler: triggers::cron::Scheduler,
    /// Wakes this node's event delivery claimer.
    event_wake: Arc<tokio::sync::Notify>,
    live: live::LiveRuns,
    config: ControllerConfig,
}

/// The runtime background runs execute on. It lives as long as the
/// process: a tokio runtime may not be dropped from async code.
fn background_threads() -> Result<tokio::runtime::Handle> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("quasm-run")
        .enable_all()
        .build()
        .map_err(|e| ControllerError::Internal(format!("starting the background run threads: {e}")))?;
    Ok(Box::leak(Box::new(rt)).handle().clone())
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
        let alerts = alerts::Alerts::new(config.smtp.as_ref(), &metrics)?;
        let run_threads = background_threads()?;
        let kv_store = Arc::new(kv::PostgresKv { db: db.clone() });
        let node = nodes::Node::new(config.node_lease, blobs.location());
        let controller = Arc::new_cyclic(|this| Self {
            quotas: quota::Quotas::new(config.quotas.clone()),
            db,
            blobs,
            runtime,
            secrets,
            cache: cache::Cache::default(),
            recorder,
            // env.EVENTS publishes through this controller (held weakly: it owns them).
            services: quasm_runtime::Services {
                events: Arc::new(events::ControllerEvents(this.clone())),
                kv: kv_store,
            },
            metrics,
            node,
            alerts,
            stopping: Default::default(),
            live_nodes: std::sync::atomic::AtomicUsize::new(1),
            runs: Default::default(),
            run_threads,
            scheduler: Default::default(),
            event_wake: Default::default(),
            live: Default::default(),
            config,
        });
        controller.check_shared_blob_store().await?;
        // Registered before any work is claimed in this node's name.
        controller.renew_lease().await?;
        tokio::spawn(nodes::heartbeat(Arc::downgrade(&controller)));
        tokio::spawn(changes::listen(Arc::downgrade(&controller), db_url));
        tokio::spawn(retention::run(Arc::downgrade(&controller)));
        alerts::start(&controller);
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
            tracing::warn!(
                "shutdown: {} trigger runs still going after {grace:?}; other nodes will retry them",
                self.runs.len()
            );
        }
        self.flush().await;
        // Outcomes of the runs above may still be raising alerts.
        self.drain_alerts(grace.max(Duration::from_secs(5))).await;
        if let Err(e) = self.leave().await {
            tracing::warn!("leaving the cluster: {e}");
        }
    }

    /// Runs `run` (a cron slot, an event delivery, an async or manual run)
    /// on the background threads; shutdown waits for it.
    pub(crate) fn spawn_run<F>(&self, run: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runs.spawn_on(run, &self.run_threads);
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
}
