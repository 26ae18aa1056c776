//! Prometheus metrics of the invoke path: invocations by trigger and
//! status (every invocation, recorded or not), latency, throttling, pool
//! sizes and the execution-record queue. Rendered at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InvocationLabels {
    pub trigger: &'static str,
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TriggerLabels {
    pub trigger: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

type HistogramFamily = Family<TriggerLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: parking_lot::Mutex<Registry>,
    pub invocations: Family<InvocationLabels, Counter>,
    pub duration: HistogramFamily,
    pub throttled: Family<ReasonLabels, Counter>,
    pub pool_versions: Gauge,
    pub pool_idle_instances: Gauge,
    pub pool_flat_versions: Gauge,
    pub record_queue_depth: Gauge,
    pub records_written: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let invocations = Family::<InvocationLabels, Counter>::default();
        // 50 us .. ~52 s.
        let duration: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.00005, 2.0, 21)));
        let throttled = Family::<ReasonLabels, Counter>::default();
        let pool_versions = Gauge::default();
        let pool_idle_instances = Gauge::default();
        let pool_flat_versions = Gauge::default();
        let record_queue_depth = Gauge::default();
        let records_written = Counter::default();
        let mut r = Registry::with_prefix("quasm");
        r.register("invocations", "Invocations by trigger and final status", invocations.clone());
        r.register("invocation_duration_seconds", "Invocation wall-clock duration", duration.clone());
        r.register("throttled", "Calls refused by a rate limit or concurrency quota", throttled.clone());
        r.register("pool_versions", "Function versions with sandboxes in the pool", pool_versions.clone());
        r.register("pool_idle_instances", "Idle sandboxes kept in the pool", pool_idle_instances.clone());
        r.register("pool_flat_versions", "Busy function versions running on a flat image", pool_flat_versions.clone());
        r.register(
            "execution_record_queue_depth",
            "Execution records waiting to be written",
            record_queue_depth.clone(),
        );
        r.register("execution_records_written", "Execution records written to Postgres", records_written.clone());
        Self {
            registry: parking_lot::Mutex::new(r),
            invocations,
            duration,
            throttled,
            pool_versions,
            pool_idle_instances,
            pool_flat_versions,
            record_queue_depth,
            records_written,
        }
    }

    /// Lets other parts of the process (the gateway) add their metrics.
    pub fn register(&self, name: &str, help: &str, metric: impl prometheus_client::registry::Metric) {
        self.registry.lock().register(name, help, metric);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self, pool: quasm_runtime::PoolStats) -> String {
        self.pool_versions.set(pool.versions as i64);
        self.pool_idle_instances.set(pool.idle_instances as i64);
        self.pool_flat_versions.set(pool.flat_versions as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry.lock()).expect("writing to a String");
        out
    }
}
