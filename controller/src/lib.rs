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
pub mod error;
pub mod executions;
mod files;
pub mod functions;
pub mod invoke;
pub mod metrics;
pub mod quota;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod store;
pub mod tenants;
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
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            quotas: Default::default(),
            recorder: Default::default(),
            default_retention_days: 30,
            retention_interval: Duration::from_secs(3600),
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
    config: ControllerConfig,
}

impl Controller {
    /// Connects the pieces and starts the background tasks (change
    /// listener, execution recorder, retention purge). `db_url` is the
    /// database the pool uses; the listener needs its own connection.
    pub fn start(
        db: deadpool_postgres::Pool,
        db_url: String,
        blobs: Arc<dyn BlobStore>,
        runtime: Arc<Runtime>,
        secrets: secrets::SecretBox,
        config: ControllerConfig,
    ) -> Arc<Self> {
        let metrics = Arc::new(metrics::Metrics::new());
        let recorder = executions::Recorder::start(db.clone(), blobs.clone(), config.recorder.clone(), metrics.clone());
        let controller = Arc::new(Self {
            quotas: quota::Quotas::new(config.quotas.clone()),
            db,
            blobs,
            runtime,
            secrets,
            cache: cache::Cache::default(),
            recorder,
            services: quasm_runtime::Services::default(),
            metrics,
            config,
        });
        tokio::spawn(changes::listen(Arc::downgrade(&controller), db_url));
        tokio::spawn(retention::run(Arc::downgrade(&controller)));
        controller
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
