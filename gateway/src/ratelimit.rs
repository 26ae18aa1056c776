//! Request-rate limits (governor's GCRA): per tenant, per function and per
//! client (API key, else IP address). Each is a steady rate with a burst;
//! 0 turns a limit off. A refused request gets 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per second per tenant (0 = unlimited).
    pub tenant_rps: u32,
    /// Requests per second per function (0 = unlimited).
    pub function_rps: u32,
    /// Requests per second per API key or client IP (0 = unlimited).
    pub client_rps: u32,
    /// Burst allowance, as seconds' worth of the rate (default 1).
    pub burst_seconds: Option<u32>,
}

type Limiter = DefaultKeyedRateLimiter<String>;

pub struct RateLimits {
    tenant: Option<Limiter>,
    function: Option<Limiter>,
    client: Option<Limiter>,
}

/// Which limit refused a request and when to retry.
pub struct Refused {
    pub scope: &'static str,
    pub retry_after: Duration,
}

fn limiter(rps: u32, burst_seconds: u32) -> Option<Limiter> {
    let rate = NonZeroU32::new(rps)?;
    let burst = NonZeroU32::new(rps.saturating_mul(burst_seconds.max(1))).unwrap_or(rate);
    Some(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
}

fn check(l: &Option<Limiter>, key: &str, scope: &'static str) -> Result<(), Refused> {
    let Some(l) = l else { return Ok(()) };
    l.check_key(&key.to_owned())
        .map_err(|not_until| Refused { scope, retry_after: not_until.wait_time_from(DefaultClock::default().now()) })
}

impl RateLimits {
    pub fn new(c: &RateLimitConfig) -> Arc<Self> {
        let burst = c.burst_seconds.unwrap_or(1);
        let limits = Arc::new(Self {
            tenant: limiter(c.tenant_rps, burst),
            function: limiter(c.function_rps, burst),
            client: limiter(c.client_rps, burst),
        });
        // Keyed limiters remember every key; forget idle ones.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let Some(l) = weak.upgrade() else { return };
                for x in [&l.tenant, &l.function, &l.client].into_iter().flatten() {
                    x.retain_recent();
                    x.shrink_to_fit();
                }
            }
        });
        limits
    }

    /// Checks the client's limit (before authentication, so guessing
    /// credentials is limited too). `client` is computed only when set.
    pub fn check_client(&self, client: impl FnOnce() -> String) -> Result<(), Refused> {
        match &self.client {
            Some(_) => check(&self.client, &client(), "client"),
            None => Ok(()),
        }
    }

    /// Checks the tenant's and (if known) the function's limit.
    pub fn check_scoped(&self, tenant: &str, function: Option<&str>) -> Result<(), Refused> {
        check(&self.tenant, tenant, "tenant")?;
        if let (Some(f), Some(_)) = (function, &self.function) {
            check(&self.function, &format!("{tenant}/{f}"), "function")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_apply_per_key_with_retry_after() {
        let l = RateLimits::new(&RateLimitConfig { tenant_rps: 2, ..Default::default() });
        assert!(l.check_scoped("a", None).is_ok());
        assert!(l.check_scoped("a", None).is_ok());
        let refused = l.check_scoped("a", None).err().expect("third call within a second is refused");
        assert_eq!(refused.scope, "tenant");
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(1));
        assert!(l.check_scoped("b", None).is_ok(), "another tenant has its own budget");
        let c = RateLimits::new(&RateLimitConfig { client_rps: 1, ..Default::default() });
        assert!(c.check_client(|| "ip1".into()).is_ok());
        assert_eq!(c.check_client(|| "ip1".into()).err().map(|r| r.scope), Some("client"));
        assert!(c.check_client(|| "ip2".into()).is_ok());
        let off = RateLimits::new(&RateLimitConfig::default());
        assert!((0..1000).all(|_| off.check_scoped("a", Some("f")).and(off.check_client(|| "ip".into())).is_ok()));
    }
}
