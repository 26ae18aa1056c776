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
mod tenant;
mod types;

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
pub(crate) struct Ctx<'a> {
    pub gw: &'a Arc<Gateway>,
    pub principal: Principal,
    pub query: Option<String>,
    /// The request's headers (read by the event stream for `Last-Event-ID`).
    pub headers: hyper::HeaderMap,
    body: Option<Incoming>,
}

impl Ctx<'_> {
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
    let mut ctx =
        Ctx { gw, principal, query: parts.uri.query().map(str::to_owned), headers: parts.headers, body: Some(body) };
    let m = &parts.method;
    match segments.as_slice() {
        ["functions"] => match *m {
            Method::GET => functions::list(&ctx).await,
            Method::POST => functions::create(&mut ctx).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["functions", name] => match *m {
            Method::GET => functions::get(&ctx, name).await,
            Method::PATCH => functions::update(&mut ctx, name).await,
            Method::DELETE => functions::delete(&ctx, name).await,
            _ => Err(not_allowed("GET, PATCH, DELETE")),
        },
        ["functions", name, "versions"] => match *m {
            Method::GET => functions::list_versions(&ctx, name).await,
            Method::POST => functions::create_version(&mut ctx, name).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["functions", name, "versions", n] => match *m {
            Method::GET => functions::get_version(&ctx, name, n).await,
            _ => Err(not_allowed("GET")),
        },
        ["functions", name, action @ ("rollback" | "deploy")] => match *m {
            Method::POST => functions::deploy(&mut ctx, name, action).await,
            _ => Err(not_allowed("POST")),
        },
        ["functions", name, "invoke"] => match *m {
            Method::POST => functions::invoke(&mut ctx, name).await,
            _ => Err(not_allowed("POST")),
        },
        ["functions", name, "runs"] => match *m {
            Method::POST => runs::start(&mut ctx, name).await,
            _ => Err(not_allowed("POST")),
        },
        ["functions", name, "schedules"] => match *m {
            Method::GET => schedules::list(&ctx, name).await,
            Method::POST => schedules::create(&mut ctx, name).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["functions", name, "schedules", id] => match *m {
            Method::GET => schedules::get(&ctx, name, id).await,
            Method::PATCH => schedules::update(&mut ctx, name, id).await,
            Method::DELETE => schedules::delete(&ctx, name, id).await,
            _ => Err(not_allowed("GET, PATCH, DELETE")),
        },
        ["functions", name, "schedules", id, "runs"] => match *m {
            Method::GET => schedules::runs(&ctx, name, id).await,
            _ => Err(not_allowed("GET")),
        },
        ["functions", name, "schedules", id, "preview"] => match *m {
            Method::GET => schedules::preview(&ctx, name, id).await,
            _ => Err(not_allowed("GET")),
        },
        ["executions"] => match *m {
            Method::GET => executions::list(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        ["executions", id] => match *m {
            Method::GET => executions::get(&ctx, id).await,
            _ => Err(not_allowed("GET")),
        },
        ["executions", id, "stream"] => match *m {
            Method::GET => runs::stream(&ctx, id).await,
            _ => Err(not_allowed("GET")),
        },
        ["executions", id, "cancel"] => match *m {
            Method::POST => runs::cancel(&ctx, id).await,
            _ => Err(not_allowed("POST")),
        },
        ["routes"] => match *m {
            Method::GET => routes::list(&ctx).await,
            Method::POST => routes::create(&mut ctx).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["routes", id] => match *m {
            Method::DELETE => routes::delete(&ctx, id).await,
            _ => Err(not_allowed("DELETE")),
        },
        ["alerts"] => match *m {
            Method::GET => alerts::list(&ctx).await,
            Method::POST => alerts::create(&mut ctx).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["alerts", id] => match *m {
            Method::GET => alerts::get(&ctx, id).await,
            Method::PATCH => alerts::update(&mut ctx, id).await,
            Method::DELETE => alerts::delete(&ctx, id).await,
            _ => Err(not_allowed("GET, PATCH, DELETE")),
        },
        ["alerts", id, "test"] => match *m {
            Method::POST => alerts::test(&ctx, id).await,
            _ => Err(not_allowed("POST")),
        },
        ["alerts", id, "notifications"] => match *m {
            Method::GET => alerts::notifications(&ctx, id).await,
            _ => Err(not_allowed("GET")),
        },
        ["events"] => match *m {
            Method::POST => events::publish(&mut ctx).await,
            _ => Err(not_allowed("POST")),
        },
        ["events", "batch"] => match *m {
            Method::POST => events::publish_batch(&mut ctx).await,
            _ => Err(not_allowed("POST")),
        },
        ["subscriptions"] => match *m {
            Method::GET => subscriptions::list(&ctx).await,
            Method::POST => subscriptions::create(&mut ctx).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["subscriptions", id] => match *m {
            Method::GET => subscriptions::get(&ctx, id).await,
            Method::DELETE => subscriptions::delete(&ctx, id).await,
            _ => Err(not_allowed("GET, DELETE")),
        },
        ["dead-letters"] => match *m {
            Method::GET => dead_letters::list(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        ["dead-letters", id] => match *m {
            Method::GET => dead_letters::get(&ctx, id).await,
            Method::DELETE => dead_letters::delete(&ctx, id).await,
            _ => Err(not_allowed("GET, DELETE")),
        },
        ["dead-letters", id, "replay"] => match *m {
            Method::POST => dead_letters::replay(&ctx, id).await,
            _ => Err(not_allowed("POST")),
        },
        ["api-keys"] => match *m {
            Method::GET => api_keys::list(&ctx).await,
            Method::POST => api_keys::create(&mut ctx).await,
            _ => Err(not_allowed("GET, POST")),
        },
        ["api-keys", id] => match *m {
            Method::DELETE => api_keys::delete(&ctx, id).await,
            _ => Err(not_allowed("DELETE")),
        },
        ["check"] => match *m {
            Method::POST => check::check(&mut ctx).await,
            _ => Err(not_allowed("POST")),
        },
        ["tenant"] => match *m {
            Method::GET => tenant::get(&ctx).await,
            Method::PATCH => tenant::update(&mut ctx).await,
            _ => Err(not_allowed("GET, PATCH")),
        },
        ["stats"] => match *m {
            Method::GET => stats::get(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        ["types"] => match *m {
            Method::GET => types::get(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        ["whoami"] => match *m {
            Method::GET => stats::whoami(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        ["audit"] => match *m {
            Method::GET => tenant::audit(&ctx).await,
            _ => Err(not_allowed("GET")),
        },
        _ => Err(Problem::not_found(format!("no API endpoint {} {}", m, parts.uri.path()))),
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
