//! Public traffic: `ANY /fn/{tenant}/{path}` runs the `fetch` handler of
//! the function the tenant routed `path` to, and returns its Response as is
//! (status, headers, binary body). Route auth: public, a JWT of the tenant,
//! or an API key of the tenant.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use quasm_controller::routes::RouteAuth;
use quasm_controller::{Call, HttpRoute};
use quasm_runtime::{HttpRequest, Status};

use crate::problem::{Problem, Resp};
use crate::response_stream::Answer;
use crate::{Credential, Gateway};

pub(crate) async fn handle(gw: &Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr, scheme: &str) -> Resp {
    match run(gw, req, peer, scheme).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

/// Headers that describe the connection, not the message: never copied
/// from a function's Response.
pub(crate) fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-connection"
            | "content-length"
    )
}

async fn run(gw: &Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr, scheme: &str) -> Result<Resp, Problem> {
    let (parts, body) = req.into_parts();
    let rest = parts.uri.path().strip_prefix("/fn/").unwrap_or_default();
    let (tenant, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let method = parts.method.as_str();
    gw.rate_limit_client(&parts.headers, peer)?;
    let found = gw
        .controller
        .routes
        .find(tenant, method, path)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no route for {method} {path}")))?;
    let route = found.route;
    let caller = match route.auth {
        RouteAuth::Public => None,
        RouteAuth::Jwt | RouteAuth::ApiKey => {
            let (p, kind) = gw.authenticate(&parts.headers).await?;
            let wanted = if route.auth == RouteAuth::ApiKey { Credential::ApiKey } else { Credential::Jwt };
            if kind != wanted {
                let want = if wanted == Credential::ApiKey { "an API key" } else { "a JWT" };
                return Err(Problem::unauthenticated(format!("this route needs {want}")));
            }
            // A credential of another tenant is no credential here.
            if p.tenant != tenant {
                return Err(Problem::unauthenticated("the credential belongs to another tenant"));
            }
            Some(p)
        }
    };
    gw.rate_limit(tenant, Some(&route.function))?;
    let body = crate::body::read(body, gw.config.max_body_bytes).await?;
    // HTTP/1.1 sends Host; HTTP/2 puts the authority in the URI instead.
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let received = format!("{scheme}://{host}{path_and_query}");
    // A route that strips the prefix shows the function the URL a client of
    // its own domain would send; the URL as received goes to ctx.
    let (url, original_url) = if route.strip_prefix {
        let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        (format!("{scheme}://{host}{path}{query}"), Some(received))
    } else {
        (received, None)
    };
    let request = HttpRequest {
        method: method.to_owned(),
        url,
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    let matched = HttpRoute {
        route_id: route.id,
        params: found.params.into_iter().collect(),
        user: caller.map(|p| p.user()),
        original_url,
        sample_rate: route.success_sample_rate,
    };
    let call = Call::http(tenant, route.function.clone(), matched, request);
    let out = match crate::response_stream::invoke(&gw.controller, call).await? {
        Answer::Whole(out) => out,
        Answer::Streaming(resp) => return Ok(resp),
    };
    let r = out.result;
    match (r.status, r.response) {
        (Status::Ok, Some(resp)) => {
            let mut b = Response::builder().status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK));
            for (k, v) in &resp.headers {
                if !hop_by_hop(&k.to_ascii_lowercase()) {
                    b = b.header(k, v);
                }
            }
            b.body(crate::problem::full(resp.body)).map_err(|e| {
                Problem::new(
                    StatusCode::BAD_GATEWAY,
                    "invalid_response",
                    format!("the function's response is invalid: {e}"),
                )
            })
        }
        (status, _) => {
            // The caller may be anyone: say what happened, not the stack.
            let (http, code, message) = match status {
                Status::Timeout => (StatusCode::GATEWAY_TIMEOUT, "function_timeout", "the function timed out"),
                Status::Ok => (StatusCode::BAD_GATEWAY, "invalid_response", "the function returned no Response"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "function_error", "the function failed"),
            };
            Err(Problem::new(http, code, message)
                .with_details(serde_json::json!({"execution_id": out.execution_id, "status": status})))
        }
    }
}
