//! Request-rate limits (governor's GCRA): per tenant, per function and per
//! client (API key, else IP address). Each is a steady rate with a burst;
//! 0 turns a limit off. A refused request gets 429 with `Retry-After`.
//!
//! The configured rates hold across the cluster: with N live nodes each
//! node allows ⌈rate / N⌉ per second (and that share of the burst), so a
//! load balancer spreading requests evenly sees the configured rate, within
//! N − 1 requests per second of rounding. A client pinned to one node gets
//! that node's share. The gateway rebuilds its limiters when the node count
//! changes (seen at each heartbeat, a third of the node lease).

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
    /// The live node count these limiters were sized for.
    pub nodes: usize,
    tenant: Option<Limiter>,
    function: Option<Limiter>,
    client: Option<Limiter>,
    /// Code checks per tenant (`POST /api/v1/check` compiles on every
    /// keystroke pause): always on, whatever the configuration.
    check: Option<Limiter>,
}

/// Code checks a tenant may run per second, with a burst of twice that.
pub const CHECK_RPS: u32 = 20;

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
    /// Limiters for one of `nodes` live nodes.
    pub fn new(c: &RateLimitConfig, nodes: usize) -> Arc<Self> {
        let burst = c.burst_seconds.unwrap_or(1);
        let share = |rps: u32| if rps == 0 { 0 } else { rps.div_ceil(nodes.max(1) as u32).max(1) };
        let limits = Arc::new(Self {
            nodes,
            tenant: limiter(share(c.tenant_rps), burst),
            function: limiter(share(c.function_rps), burst),
            client: limiter(share(c.client_rps), burst),
            check: limiter(CHECK_RPS, 2),
        });
        // Keyed limiters remember every key; forget idle ones.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let Some(l) = weak.upgrade() else { return };
                for x in [&l.tenant, &l.function, &l.client, &l.check].into_iter().flatten() {
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

    /// Checks the tenant's budget of code checks.
    pub fn check_code_checks(&self, tenant: &str) -> Result<(), Refused> {
        check(&self.check, tenant, "code check")
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
        let l = RateLimits::new(&RateLimitConfig { tenant_rps: 2, ..Default::default() }, 1);
        assert!(l.check_scoped("a", None).is_ok());
        assert!(l.check_scoped("a", None).is_ok());
        let refused = l.check_scoped("a", None).expect_err("third call within a second is refused");
        assert_eq!(refused.scope, "tenant");
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(1));
        assert!(l.check_scoped("b", None).is_ok(), "another tenant has its own budget");
        let c = RateLimits::new(&RateLimitConfig { client_rps: 1, ..Default::default() }, 1);
        assert!(c.check_client(|| "ip1".into()).is_ok());
        assert_eq!(c.check_client(|| "ip1".into()).err().map(|r| r.scope), Some("client"));
        assert!(c.check_client(|| "ip2".into()).is_ok());
        let off = RateLimits::new(&RateLimitConfig::default(), 1);
        assert!((0..1000).all(|_| off.check_scoped("a", Some("f")).and(off.check_client(|| "ip".into())).is_ok()));
    }

    #[tokio::test]
    async fn each_node_allows_its_share() {
        let l = RateLimits::new(&RateLimitConfig { tenant_rps: 10, ..Default::default() }, 3);
        let allowed = (0..10).filter(|_| l.check_scoped("a", None).is_ok()).count();
        assert_eq!(allowed, 4, "ceil(10 / 3) of the burst on one of three nodes");
        let l = RateLimits::new(&RateLimitConfig { tenant_rps: 1, ..Default::default() }, 5);
        assert!(l.check_scoped("a", None).is_ok(), "a share is never 0 (which would mean unlimited)");
        assert!(l.check_scoped("a", None).is_err());
    }
}
