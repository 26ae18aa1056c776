//! The HTTP edge of Quasm: TLS, authentication (JWT and API keys), RBAC,
//! rate limits, the admin API (`/api/v1`), public function routes
//! (`/fn/{tenant}/{path}`), health and metrics. Every invocation it
//! receives goes to the controller's one invoke path.

mod api;
pub mod auth;
mod body;
mod console;
mod problem;
mod public;
pub mod ratelimit;
mod response_stream;
mod server;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::HeaderMap;
use quasm_controller::Controller;

pub use api::endpoints;
pub use problem::Problem;
pub use server::{serve, ServerHandle};

use auth::{JwtVerifier, Principal, Role};

/// The OpenAPI 3 description of the admin API, served at
/// `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub tls: Option<tls::TlsSource>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    pub rate_limits: ratelimit::RateLimitConfig,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Threads that each accept, parse and run requests on their own
    /// single-threaded runtime (one listener each, `SO_REUSEPORT`), so a
    /// request stays on one core from accept to response; 0 serves on the
    /// process's shared runtime.
    pub http_threads: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            tls: None,
            max_body_bytes: 10 * 1024 * 1024,
            rate_limits: Default::default(),
            shutdown_grace: Duration::from_secs(30),
            http_threads: 0,
        }
    }
}

pub struct Gateway {
    controller: Arc<Controller>,
    jwt: JwtVerifier,
    /// Rebuilt when the live node count changes (see [`Gateway::limits`]).
    limits: arc_swap::ArcSwap<ratelimit::RateLimits>,
    config: GatewayConfig,
}

/// Where the dev TLS certificate is written, for clients to trust.
pub fn dev_cert_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("tls").join("dev-cert.pem")
}

impl Gateway {
    pub fn new(controller: Arc<Controller>, jwt: JwtVerifier, config: GatewayConfig) -> Arc<Self> {
        let limits = arc_swap::ArcSwap::new(ratelimit::RateLimits::new(&config.rate_limits, controller.live_nodes()));
        Arc::new(Self { limits, controller, jwt, config })
    }

    pub fn controller(&self) -> &Arc<Controller> {
        &self.controller
    }

    /// The credential of a request: `Authorization: Bearer <JWT or API
    /// key>`, or `X-API-Key: <API key>`. The tenant comes from it, never
    /// from the request.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(Principal, Credential), Problem> {
        let (token, header_is_key) = match (headers.get("x-api-key"), headers.get(hyper::header::AUTHORIZATION)) {
            (Some(k), _) => (k.to_str().map_err(|_| Problem::unauthenticated("X-API-Key is not valid text"))?, true),
            (None, Some(h)) => {
                let h = h.to_str().map_err(|_| Problem::unauthenticated("Authorization is not valid text"))?;
                (auth::bearer(h)?, false)
            }
            (None, None) => return Err(auth::AuthError::MissingCredentials.into()),
        };
        if quasm_controller::api_keys::looks_like_api_key(token) {
            let grant = self
                .controller
                .api_keys
                .verify(token)
                .await?
                .ok_or_else(|| Problem::unauthenticated("unknown, revoked or expired API key"))?;
            let roles = grant.roles.iter().filter_map(|r| r.parse::<Role>().ok()).collect();
            let subject = format!("api-key:{}", grant.id);
            let principal = Principal { tenant: grant.tenant, subject, roles, permissions: Vec::new() };
            return Ok((principal, Credential::ApiKey));
        }
        if header_is_key {
            return Err(Problem::unauthenticated("X-API-Key does not hold an API key (qk_...)"));
        }
        Ok((self.jwt.verify(token)?, Credential::Jwt))
    }

    /// The client's rate limit, before anything else is done for it.
    fn rate_limit_client(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<(), Problem> {
        self.limits().check_client(|| client_key(headers, peer)).map_err(|r| self.refused(r))
    }

    /// The rate limiters for the current node count: each node enforces
    /// its share of the cluster-wide rates.
    fn limits(&self) -> arc_swap::Guard<Arc<ratelimit::RateLimits>> {
        let nodes = self.controller.live_nodes();
        let current = self.limits.load();
        if current.nodes == nodes {
            return current;
        }
        // Two requests racing here build the same limiters; either wins.
        self.limits.store(ratelimit::RateLimits::new(&self.config.rate_limits, nodes));
        self.limits.load()
    }

    /// The tenant's and function's rate limits.
    fn rate_limit(&self, tenant: &str, function: Option<&str>) -> Result<(), Problem> {
        self.limits().check_scoped(tenant, function).map_err(|r| self.refused(r))
    }

    /// The tenant's budget of code checks.
    fn rate_limit_checks(&self, tenant: &str) -> Result<(), Problem> {
        self.limits().check_code_checks(tenant).map_err(|r| self.refused(r))
    }

    /// Counts a refusal and makes it a 429.
    fn refused(&self, r: ratelimit::Refused) -> Problem {
        let reason = quasm_controller::metrics::ReasonLabels { reason: r.scope };
        self.controller.metrics().throttled.get_or_create(&reason).inc();
        let secs = r.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        Problem::too_many(format!("{} rate limit reached", r.scope), secs)
    }
}

/// What kind of credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Jwt,
    ApiKey,
}

/// The client a rate limit counts against: the API key when one is sent,
/// else the peer address.
fn client_key(headers: &HeaderMap, peer: SocketAddr) -> String {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return k.get(..19).unwrap_or(k).to_owned();
    }
    if let Some(k) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some(key) = k.strip_prefix("Bearer qk_") {
            return key.get(..16).unwrap_or(key).to_owned();
        }
    }
    peer.ip().to_string()
}
