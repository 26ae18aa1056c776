//! The admin API's one route table: every endpoint's method, path below
//! `/api/v1`, the least role it needs and its handler. The dispatcher
//! checks the role before the handler runs, so handlers only check the
//! stronger roles that depend on the body (secrets need admin, deploying
//! needs operator). The RBAC and OpenAPI tests read this table through
//! [`endpoints`], so an endpoint cannot exist without their rows.

use std::future::Future;
use std::pin::Pin;

use hyper::Method;

use super::{
    alerts, api_keys, check, dead_letters, events, executions, functions, routes, runs, schedules, stats,
    subscriptions, tenant, types, webhooks, Ctx,
};
use crate::auth::Role;
use crate::problem::{Problem, Resp};

type Reply<'c> = Pin<Box<dyn Future<Output = Result<Resp, Problem>> + Send + 'c>>;
type Handler = for<'c> fn(&'c mut Ctx, Params) -> Reply<'c>;

/// One endpoint of the table.
pub(crate) struct Endpoint {
    pub method: Method,
    /// Segments below `/api/v1`, `{name}` capturing one segment.
    pub path: &'static str,
    /// The least role allowed; `None`: any valid credential.
    pub role: Option<Role>,
    handler: Handler,
}

/// The path segments an endpoint's `{...}` captured, in order.
pub(crate) struct Params(Vec<String>);

impl Params {
    fn at(&self, i: usize) -> &str {
        &self.0[i]
    }
}

impl Endpoint {
    /// The captures when `segments` match the path (whatever the method).
    pub fn matches(&self, segments: &[&str]) -> Option<Params> {
        let mut captured = Vec::new();
        let mut pattern = self.path.split('/');
        for segment in segments {
            let p = pattern.next()?;
            if p.starts_with('{') {
                captured.push((*segment).to_owned());
            } else if p != *segment {
                return None;
            }
        }
        pattern.next().is_none().then_some(Params(captured))
    }

    pub fn call<'c>(&self, ctx: &'c mut Ctx, params: Params) -> Reply<'c> {
        (self.handler)(ctx, params)
    }
}

/// A handler from an expression over `ctx` (`&mut Ctx`) and the captures:
/// `to!(|ctx, p| functions::get(ctx, p.at(0)))`.
macro_rules! to {
    (|$ctx:ident, $p:ident| $call:expr) => {{
        #[allow(unused_variables)]
        fn handler<'c>($ctx: &'c mut Ctx, $p: Params) -> Reply<'c> {
            Box::pin(async move { $call.await })
        }
        handler as Handler
    }};
}

const fn ep(method: Method, path: &'static str, role: Role, handler: Handler) -> Endpoint {
    Endpoint { method, path, role: Some(role), handler }
}

use Role::{Admin, Developer, Operator, Viewer};
const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

pub(crate) static ENDPOINTS: &[Endpoint] = &[
    ep(GET, "functions", Viewer, to!(|c, p| functions::list(c))),
    ep(POST, "functions", Developer, to!(|c, p| functions::create(c))),
    ep(GET, "functions/{name}", Viewer, to!(|c, p| functions::get(c, p.at(0)))),
    ep(PATCH, "functions/{name}", Developer, to!(|c, p| functions::update(c, p.at(0)))),
    ep(DELETE, "functions/{name}", Operator, to!(|c, p| functions::delete(c, p.at(0)))),
    ep(GET, "functions/{name}/versions", Viewer, to!(|c, p| functions::list_versions(c, p.at(0)))),
    ep(POST, "functions/{name}/versions", Developer, to!(|c, p| functions::create_version(c, p.at(0)))),
    ep(GET, "functions/{name}/versions/{version}", Viewer, to!(|c, p| functions::get_version(c, p.at(0), p.at(1)))),
    ep(POST, "functions/{name}/deploy", Operator, to!(|c, p| functions::deploy(c, p.at(0), "version.deploy"))),
    ep(POST, "functions/{name}/rollback", Operator, to!(|c, p| functions::deploy(c, p.at(0), "version.rollback"))),
    ep(POST, "functions/{name}/invoke", Developer, to!(|c, p| functions::invoke(c, p.at(0)))),
    ep(POST, "functions/{name}/runs", Developer, to!(|c, p| runs::start(c, p.at(0)))),
    ep(GET, "functions/{name}/schedules", Viewer, to!(|c, p| schedules::list(c, p.at(0)))),
    ep(POST, "functions/{name}/schedules", Operator, to!(|c, p| schedules::create(c, p.at(0)))),
    ep(GET, "functions/{name}/schedules/{id}", Viewer, to!(|c, p| schedules::get(c, p.at(0), p.at(1)))),
    ep(PATCH, "functions/{name}/schedules/{id}", Operator, to!(|c, p| schedules::update(c, p.at(0), p.at(1)))),
    ep(DELETE, "functions/{name}/schedules/{id}", Operator, to!(|c, p| schedules::delete(c, p.at(0), p.at(1)))),
    ep(GET, "functions/{name}/schedules/{id}/runs", Viewer, to!(|c, p| schedules::runs(c, p.at(0), p.at(1)))),
    ep(GET, "functions/{name}/schedules/{id}/preview", Viewer, to!(|c, p| schedules::preview(c, p.at(0), p.at(1)))),
    ep(GET, "executions", Viewer, to!(|c, p| executions::list(c))),
    ep(GET, "executions/{id}", Viewer, to!(|c, p| executions::get(c, p.at(0)))),
    ep(GET, "executions/{id}/stream", Viewer, to!(|c, p| runs::stream(c, p.at(0)))),
    ep(POST, "executions/{id}/cancel", Developer, to!(|c, p| runs::cancel(c, p.at(0)))),
    ep(GET, "routes", Viewer, to!(|c, p| routes::list(c))),
    ep(POST, "routes", Operator, to!(|c, p| routes::create(c))),
    ep(DELETE, "routes/{id}", Operator, to!(|c, p| routes::delete(c, p.at(0)))),
    ep(GET, "alerts", Viewer, to!(|c, p| alerts::list(c))),
    ep(POST, "alerts", Operator, to!(|c, p| alerts::create(c))),
    ep(GET, "alerts/{id}", Viewer, to!(|c, p| alerts::get(c, p.at(0)))),
    ep(PATCH, "alerts/{id}", Operator, to!(|c, p| alerts::update(c, p.at(0)))),
    ep(DELETE, "alerts/{id}", Operator, to!(|c, p| alerts::delete(c, p.at(0)))),
    ep(POST, "alerts/{id}/test", Operator, to!(|c, p| alerts::test(c, p.at(0)))),
    ep(GET, "alerts/{id}/notifications", Viewer, to!(|c, p| alerts::notifications(c, p.at(0)))),
    ep(POST, "events", Developer, to!(|c, p| events::publish(c))),
    ep(POST, "events/batch", Developer, to!(|c, p| events::publish_batch(c))),
    ep(GET, "subscriptions", Viewer, to!(|c, p| subscriptions::list(c))),
    ep(POST, "subscriptions", Operator, to!(|c, p| subscriptions::create(c))),
    ep(GET, "subscriptions/{id}", Viewer, to!(|c, p| subscriptions::get(c, p.at(0)))),
    ep(DELETE, "subscriptions/{id}", Operator, to!(|c, p| subscriptions::delete(c, p.at(0)))),
    ep(GET, "dead-letters", Viewer, to!(|c, p| dead_letters::list(c))),
    ep(GET, "dead-letters/{id}", Viewer, to!(|c, p| dead_letters::get(c, p.at(0)))),
    ep(DELETE, "dead-letters/{id}", Operator, to!(|c, p| dead_letters::delete(c, p.at(0)))),
    ep(POST, "dead-letters/{id}/replay", Operator, to!(|c, p| dead_letters::replay(c, p.at(0)))),
    ep(GET, "webhooks", Viewer, to!(|c, p| webhooks::list(c))),
    ep(POST, "webhooks", Operator, to!(|c, p| webhooks::create(c))),
    ep(GET, "webhooks/{id}", Viewer, to!(|c, p| webhooks::get(c, p.at(0)))),
    ep(PATCH, "webhooks/{id}", Operator, to!(|c, p| webhooks::update(c, p.at(0)))),
    ep(DELETE, "webhooks/{id}", Operator, to!(|c, p| webhooks::delete(c, p.at(0)))),
    ep(POST, "webhooks/{id}/rotate-secret", Operator, to!(|c, p| webhooks::rotate_secret(c, p.at(0)))),
    ep(GET, "webhooks/{id}/deliveries", Viewer, to!(|c, p| webhooks::deliveries(c, p.at(0)))),
    ep(GET, "webhooks/{id}/deliveries/{delivery_id}", Viewer, to!(|c, p| webhooks::delivery(c, p.at(0), p.at(1)))),
    ep(
        POST,
        "webhooks/{id}/deliveries/{delivery_id}/redeliver",
        Operator,
        to!(|c, p| webhooks::redeliver(c, p.at(0), p.at(1))),
    ),
    ep(GET, "api-keys", Admin, to!(|c, p| api_keys::list(c))),
    ep(POST, "api-keys", Admin, to!(|c, p| api_keys::create(c))),
    ep(DELETE, "api-keys/{id}", Admin, to!(|c, p| api_keys::delete(c, p.at(0)))),
    ep(POST, "check", Developer, to!(|c, p| check::check(c))),
    ep(GET, "tenant", Viewer, to!(|c, p| tenant::get(c))),
    ep(PATCH, "tenant", Admin, to!(|c, p| tenant::update(c))),
    ep(GET, "audit", Admin, to!(|c, p| tenant::audit(c))),
    ep(GET, "stats", Viewer, to!(|c, p| stats::get(c))),
    ep(GET, "types", Viewer, to!(|c, p| types::get(c))),
    // Any valid credential may ask who it is, whatever its roles.
    Endpoint { method: GET, path: "whoami", role: None, handler: to!(|c, p| stats::whoami(c)) },
];

/// `(method, path below /api/v1, least role or "any")` of every endpoint,
/// for the RBAC and OpenAPI tests and for documentation.
pub fn endpoints() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    ENDPOINTS.iter().map(|e| (e.method.as_str(), e.path, e.role.map_or("any", Role::as_str)))
}
