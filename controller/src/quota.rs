//! Concurrency quotas: how many invocations may run at once per tenant and
//! per function. A call over the quota waits a bounded time for a slot,
//! then is refused with "too many requests".
//!
//! The quotas hold across the cluster: with N live nodes each node allows
//! its share, ⌈quota / N⌉, so N nodes together allow the quota (plus at
//! most N − 1 for rounding) when load is spread evenly. When the node count
//! changes, each tenant's and function's semaphore is replaced by one of
//! the new share at its next call; calls already running keep their slot
//! in the old one, so the change is exact once they end.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ControllerError, Result};

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Invocations running at once per tenant.
    pub tenant_concurrency: usize,
    /// Invocations running at once per function.
    pub function_concurrency: usize,
    /// How long a call waits for a slot before it is refused.
    pub max_wait_ms: u64,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self { tenant_concurrency: 1000, function_concurrency: 500, max_wait_ms: 1000 }
    }
}

pub struct Quotas {
    config: QuotaConfig,
    /// Each semaphore with the node count its size was computed for.
    tenants: DashMap<String, (usize, Arc<Semaphore>)>,
    functions: DashMap<i64, (usize, Arc<Semaphore>)>,
}

/// This node's share of a cluster-wide `limit` among `nodes` live nodes.
pub fn share(limit: usize, nodes: usize) -> usize {
    limit.div_ceil(nodes.max(1)).max(1)
}

/// The semaphore of `key` sized for `nodes`, replaced if sized for another count.
fn semaphore<K, Q>(map: &DashMap<K, (usize, Arc<Semaphore>)>, key: &Q, limit: usize, nodes: usize) -> Arc<Semaphore>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
{
    if let Some(e) = map.get(key) {
        if e.0 == nodes {
            return e.1.clone();
        }
    }
    let mut e = map.entry(key.to_owned()).or_insert_with(|| (nodes, Arc::new(Semaphore::new(share(limit, nodes)))));
    if e.0 != nodes {
        *e = (nodes, Arc::new(Semaphore::new(share(limit, nodes))));
    }
    e.1.clone()
}

/// Held while an invocation runs; dropping it frees the slots.
pub struct Permit {
    _tenant: OwnedSemaphorePermit,
    _function: OwnedSemaphorePermit,
}

impl Quotas {
    pub fn new(config: QuotaConfig) -> Self {
        Self { config, tenants: DashMap::new(), functions: DashMap::new() }
    }

    /// A slot for one invocation, on a node that is one of `nodes`.
    pub async fn acquire(&self, tenant: &str, function_id: i64, nodes: usize) -> Result<Permit> {
        let t = semaphore(&self.tenants, tenant, self.config.tenant_concurrency, nodes);
        let f = semaphore(&self.functions, &function_id, self.config.function_concurrency, nodes);
        let wait = Duration::from_millis(self.config.max_wait_ms);
        let tenant_permit = take(t, wait, "tenant").await?;
        let function_permit = take(f, wait, "function").await?;
        Ok(Permit { _tenant: tenant_permit, _function: function_permit })
    }
}

async fn take(s: Arc<Semaphore>, wait: Duration, scope: &str) -> Result<OwnedSemaphorePermit> {
    let limit = || ControllerError::Throttled {
        message: format!("{scope} concurrency quota reached; retry later"),
        retry_after: Duration::from_secs(1),
    };
    if let Ok(p) = s.clone().try_acquire_owned() {
        return Ok(p);
    }
    match tokio::time::timeout(wait, s.acquire_owned()).await {
        Ok(Ok(p)) => Ok(p),
        _ => Err(limit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn over_quota_waits_then_refuses() {
        let q = Quotas::new(QuotaConfig { tenant_concurrency: 10, function_concurrency: 1, max_wait_ms: 50 });
        let held = q.acquire("acme", 1, 1).await.unwrap();
        let started = std::time::Instant::now();
        let e = q.acquire("acme", 1, 1).await.err().expect("second call is over the function quota");
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(e.status(), 429);
        assert!(e.to_string().contains("function concurrency"), "{e}");
        // Another function of the tenant is unaffected; a freed slot is reused.
        let _other = q.acquire("acme", 2, 1).await.unwrap();
        drop(held);
        q.acquire("acme", 1, 1).await.unwrap();
    }

    #[tokio::test]
    async fn each_node_takes_its_share() {
        assert_eq!((share(10, 3), share(10, 1), share(1, 5), share(10, 0)), (4, 10, 1, 10));
        let q = Quotas::new(QuotaConfig { tenant_concurrency: 4, function_concurrency: 100, max_wait_ms: 10 });
        let held: Vec<_> = futures::future::join_all((0..2).map(|_| q.acquire("acme", 1, 2))).await;
        assert!(held.iter().all(|p| p.is_ok()));
        assert!(q.acquire("acme", 1, 2).await.is_err(), "two of four on one of two nodes");
        // A node leaves: this one's share grows to the whole quota.
        let more: Vec<_> = futures::future::join_all((0..4).map(|_| q.acquire("acme", 1, 1))).await;
        assert!(more.iter().all(|p| p.is_ok()));
    }
}
