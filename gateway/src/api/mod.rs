//! The admin API, `/api/v1`: authenticate, rate-limit, dispatch on method
//! and path, check the role the endpoint needs, call the controller. Every
//! handler runs with the caller's tenant; nothing in the request names it.

mod alerts;
mod api_keys;
mod check;
mod dead_letters;
mod events;
mod executions;
mod functions;
mod routes;
mod runs;
mod schedules;
mod stats;
mod subscriptions;
mod table;
mod tenant;
mod types;
mod webhooks;

pub use table::endpoints;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use quasm_controller::Actor;

use crate::auth::{Principal, Role};
use crate::problem::{Problem, Resp};
use crate::Gateway;

/// One authenticated API request.
pub(crate) struct Ctx {
    pub gw: Arc<Gateway>,
    pub principal: Principal,
    pub query: Option<String>,
    /// The request's headers (read by the event stream for `Last-Event-ID`).
    pub headers: hyper::HeaderMap,
    body: Option<Incoming>,
}

impl Ctx {
    pub fn need(&self, role: Role) -> Result<(), Problem> {
        if self.principal.has(role) {
            Ok(())
        } else {
            Err(Problem::forbidden(role))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::new(self.principal.tenant.clone(), self.principal.subject.clone())
    }

    pub fn tenant(&self) -> &str {
        &self.principal.tenant
    }

    pub async fn body(&mut self) -> Result<Bytes, Problem> {
        let body = self.body.take().expect("the body is read once");
        crate::body::read(body, self.gw.config.max_body_bytes).await
    }

    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, Problem> {
        let bytes = self.body().await?;
        crate::body::json(&bytes)
    }

    /// A JSON body whose `user_data` subtrees are stored as sent (see
    /// [`crate::body::json_with_user_data`]).
    pub async fn json_with_user_data<T: serde::de::DeserializeOwned>(
        &mut self,
        user_data: &[&str],
    ) -> Result<T, Problem> {
        let bytes = self.body().await?;
        crate::body::json_with_user_data(&bytes, user_data)
    }
}

pub(crate) async fn handle(gw: &Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr) -> Resp {
    match dispatch(gw, req, peer).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn dispatch(gw: &Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr) -> Result<Resp, Problem> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let rest = path.strip_prefix("/api/v1").unwrap_or(path).trim_matches('/');
    if rest == "openapi.json" && parts.method == Method::GET {
        return Ok(hyper::Response::builder()
            .header("content-type", "application/json")
            .body(crate::problem::full(Bytes::from_static(crate::OPENAPI.as_bytes())))
            .expect("valid response"));
    }
    gw.rate_limit_client(&parts.headers, peer)?;
    let (principal, _) = gw.authenticate(&parts.headers).await?;
    gw.rate_limit(&principal.tenant, None)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let mut ctx = Ctx {
        gw: gw.clone(),
        principal,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: Some(body),
    };
    let mut allowed: Vec<&str> = Vec::new();
    for endpoint in table::ENDPOINTS {
        let Some(params) = endpoint.matches(&segments) else { continue };
        if endpoint.method != parts.method {
            allowed.push(endpoint.method.as_str());
            continue;
        }
        if let Some(role) = endpoint.role {
            ctx.need(role)?;
        }
        return endpoint.call(&mut ctx, params).await;
    }
    if allowed.is_empty() {
        Err(Problem::not_found(format!("no API endpoint {} {}", parts.method, parts.uri.path())))
    } else {
        Err(not_allowed(&allowed.join(", ")))
    }
}

fn not_allowed(allowed: &str) -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("this endpoint allows {allowed}"))
        .with_details(serde_json::json!({"allowed": allowed}))
}

/// Parses a numeric path segment.
fn number<T: std::str::FromStr>(field: &str, s: &str) -> Result<T, Problem> {
    s.parse().map_err(|_| Problem::invalid(field, format!("{field}: {s:?} is not a number")))
}
