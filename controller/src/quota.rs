//! Concurrency quotas: how many invocations may run at once per tenant and
//! per function. A call over the quota waits a bounded time for a slot,
//! then is refused with "too many requests".

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
    tenants: DashMap<String, Arc<Semaphore>>,
    functions: DashMap<i64, Arc<Semaphore>>,
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

    pub async fn acquire(&self, tenant: &str, function_id: i64) -> Result<Permit> {
        let t = match self.tenants.get(tenant) {
            Some(s) => s.clone(),
            None => self
                .tenants
                .entry(tenant.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.tenant_concurrency)))
                .clone(),
        };
        let f = match self.functions.get(&function_id) {
            Some(s) => s.clone(),
            None => self
                .functions
                .entry(function_id)
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.function_concurrency)))
                .clone(),
        };
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
        let held = q.acquire("acme", 1).await.unwrap();
        let started = std::time::Instant::now();
        let e = q.acquire("acme", 1).await.err().expect("second call is over the function quota");
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(e.status(), 429);
        assert!(e.to_string().contains("function concurrency"), "{e}");
        // Another function of the tenant is unaffected; a freed slot is reused.
        let _other = q.acquire("acme", 2).await.unwrap();
        drop(held);
        q.acquire("acme", 1).await.unwrap();
    }
}
