//! What every domain service shares: the database, the blob store, the
//! runtime, the secret box, the per-tenant cache, metrics, this node's
//! identity and the threads background runs execute on. Services hold an
//! `Arc<Core>`; the controller (`lib.rs`) composes them.

use std::sync::Arc;

use quasm_runtime::Runtime;

use crate::blob::BlobStore;
use crate::error::{ControllerError, Result};
use crate::{cache, metrics, nodes, secrets, store, ControllerConfig};

pub(crate) struct Core {
    pub(crate) db: deadpool_postgres::Pool,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) secrets: secrets::SecretBox,
    pub(crate) cache: cache::Cache,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) node: nodes::Node,
    /// Cancelled when the process stops: triggers stop claiming work.
    pub(crate) stopping: tokio_util::sync::CancellationToken,
    /// Trigger runs in flight (cron slots, event deliveries, manual runs),
    /// awaited on shutdown.
    pub(crate) runs: tokio_util::task::TaskTracker,
    /// Where background runs execute: their own worker threads, so a run
    /// that computes for seconds never stalls the threads serving requests.
    run_threads: tokio::runtime::Handle,
    pub(crate) config: ControllerConfig,
}

impl Core {
    pub(crate) fn new(
        db: deadpool_postgres::Pool,
        blobs: Arc<dyn BlobStore>,
        runtime: Arc<Runtime>,
        secrets: secrets::SecretBox,
        config: ControllerConfig,
    ) -> Result<Self> {
        let node = nodes::Node::new(config.node_lease, blobs.location());
        Ok(Self {
            db,
            blobs,
            runtime,
            secrets,
            cache: cache::Cache::default(),
            metrics: Arc::new(metrics::Metrics::new()),
            node,
            stopping: Default::default(),
            runs: Default::default(),
            run_threads: background_threads()?,
            config,
        })
    }

    pub(crate) async fn db(&self) -> Result<deadpool_postgres::Object> {
        Ok(store::connect(&self.db).await?)
    }

    /// Runs `run` (a cron slot, an event delivery, an async or manual run)
    /// on the background threads; shutdown waits for it.
    pub(crate) fn spawn_run<F>(&self, run: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runs.spawn_on(run, &self.run_threads);
    }

    /// Live nodes sharing the database (this one included), as of the last
    /// heartbeat: quotas and rate limits are split among them.
    pub(crate) fn live_nodes(&self) -> usize {
        self.node.live_nodes()
    }
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
