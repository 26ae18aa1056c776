//! HTTP routes: `ANY /fn/{tenant}/{path}` calls the `fetch` handler of the
//! function a route names. Paths use `:name` parameters and a trailing `*`
//! wildcard (`/orders/:id`, `/files/*`); matching is done by `matchit`
//! on a per-tenant table cached until the tenant changes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::functions::ensure_tenant;
use crate::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteAuth {
    /// Anyone may call it.
    Public,
    /// A valid JWT of the route's tenant.
    Jwt,
    /// A valid API key of the route's tenant.
    ApiKey,
}

impl RouteAuth {
    fn as_str(self) -> &'static str {
        match self {
            RouteAuth::Public => "public",
            RouteAuth::Jwt => "jwt",
            RouteAuth::ApiKey => "api_key",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "jwt" => RouteAuth::Jwt,
            "api_key" => RouteAuth::ApiKey,
            _ => RouteAuth::Public,
        }
    }
}

/// `POST /api/v1/routes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoute {
    /// GET, POST...; absent means any method.
    pub method: Option<String>,
    pub path: String,
    pub function: String,
    pub auth: RouteAuth,
    pub success_sample_rate: Option<f32>,
    /// `request.url` without `/fn/{tenant}` (see [`Route::strip_prefix`]).
    #[serde(default)]
    pub strip_prefix: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub id: i64,
    pub method: Option<String>,
    pub path: String,
    pub function: String,
    pub auth: RouteAuth,
    pub success_sample_rate: Option<f32>,
    /// The function's `request.url` omits `/fn/{tenant}`, as a client of
    /// the function's own domain would send it (`https://host/orders/42`);
    /// the URL as received is then `ctx.originalUrl`.
    pub strip_prefix: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A tenant's routes, ready to match.
pub struct RouteTable {
    router: matchit::Router<Vec<Arc<Route>>>,
    len: usize,
}

/// A matched route and its path parameters.
pub struct RouteMatch {
    pub route: Arc<Route>,
    pub params: Vec<(String, String)>,
}

/// `/orders/:id/*` -> `/orders/{id}/{*wildcard}` (matchit's syntax).
fn to_matchit(path: &str) -> Result<String> {
    let bad = |m: &str| ControllerError::invalid("path", format!("{path:?}: {m}"));
    if !path.starts_with('/') {
        return Err(bad("must start with '/'"));
    }
    if path.len() > 512 {
        return Err(bad("at most 512 characters"));
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    let mut out = String::with_capacity(path.len() + 8);
    for (i, seg) in segments.iter().enumerate() {
        out.push('/');
        if let Some(name) = seg.strip_prefix(':') {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(bad("parameters are ':' followed by letters, digits or '_'"));
            }
            out.push_str(&format!("{{{name}}}"));
        } else if let Some(name) = seg.strip_prefix('*') {
            if i + 1 != segments.len() {
                return Err(bad("'*' may only end the path"));
            }
            let name = if name.is_empty() { "wildcard" } else { name };
            out.push_str(&format!("{{*{name}}}"));
        } else {
            if seg.contains(['{', '}', ':', '*', '?', '#']) {
                return Err(bad("literal segments may not contain { } : * ? #"));
            }
            out.push_str(seg);
        }
    }
    Ok(out)
}

impl RouteTable {
    fn build(routes: Vec<Route>) -> std::result::Result<Self, String> {
        let len = routes.len();
        let mut by_path: Vec<(String, Vec<Arc<Route>>)> = Vec::new();
        for r in routes {
            let p = to_matchit(&r.path).map_err(|e| e.to_string())?;
            match by_path.iter_mut().find(|(q, _)| *q == p) {
                Some((_, v)) => v.push(Arc::new(r)),
                None => by_path.push((p, vec![Arc::new(r)])),
            }
        }
        let mut router = matchit::Router::new();
        for (p, v) in by_path {
            router.insert(p.clone(), v).map_err(|e| format!("{p}: {e}"))?;
        }
        Ok(Self { router, len })
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The route for `method` and `path`; a route for the exact method wins
    /// over an any-method route.
    pub fn find(&self, method: &str, path: &str) -> Option<RouteMatch> {
        let m = self.router.at(path).ok()?;
        let route = m
            .value
            .iter()
            .find(|r| r.method.as_deref() == Some(method))
            .or_else(|| m.value.iter().find(|r| r.method.is_none()))?
            .clone();
        let params = m.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Some(RouteMatch { route, params })
    }
}

const COLUMNS: &str = "r.id, r.method, r.path, f.name, r.auth, r.success_sample_rate, r.created_at, r.strip_prefix";

fn from_row(r: &tokio_postgres::Row) -> Route {
    Route {
        id: r.get(0),
        method: r.get(1),
        path: r.get(2),
        function: r.get(3),
        auth: RouteAuth::parse(r.get(4)),
        success_sample_rate: r.get(5),
        created_at: r.get(6),
        strip_prefix: r.get(7),
    }
}

/// The tenant's route table, in its cached view.
#[derive(Default)]
struct CachedRoutes(tokio::sync::OnceCell<Arc<RouteTable>>);

/// Routes: HTTP paths that run a function, matched per request.
pub struct Routes {
    pub(crate) core: Arc<Core>,
}

impl Routes {
    pub async fn list(&self, tenant: &str) -> Result<Vec<Route>> {
        let db = self.core.db().await?;
        let rows = db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM routes r JOIN functions f ON f.id = r.function_id
                     WHERE r.tenant_id = $1 ORDER BY r.path, r.method NULLS LAST"
                ),
                &[&tenant],
            )
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn create(&self, actor: &Actor, req: CreateRoute) -> Result<Route> {
        let method = match req.method.as_deref().map(str::to_ascii_uppercase) {
            None => None,
            Some(m) if m == "ANY" || m == "*" => None,
            Some(m) if METHODS.contains(&m.as_str()) => Some(m),
            Some(m) => {
                return Err(ControllerError::invalid(
                    "method",
                    format!("{m:?} is not one of {} or ANY", METHODS.join(", ")),
                ))
            }
        };
        to_matchit(&req.path)?;
        if let Some(r) = req.success_sample_rate {
            crate::validate::sample_rate("success_sample_rate", r)?;
        }
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        // Serialise route changes of a tenant so the conflict check holds.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('routes:' || $1))", &[&actor.tenant]).await?;
        let f = self.core.function_row(&tx, &actor.tenant, &req.function, false).await?;
        let mut all: Vec<Route> = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM routes r JOIN functions f ON f.id = r.function_id WHERE r.tenant_id = $1"
                ),
                &[&actor.tenant],
            )
            .await?
            .iter()
            .map(from_row)
            .collect();
        if all.iter().any(|r| r.path == req.path && r.method == method) {
            return Err(ControllerError::Conflict {
                what: "route",
                name: format!("{} {}", method.as_deref().unwrap_or("ANY"), req.path),
            });
        }
        let row = tx
            .query_one(
                "INSERT INTO routes (tenant_id, method, path, function_id, auth, success_sample_rate, strip_prefix)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at",
                &[
                    &actor.tenant,
                    &method,
                    &req.path,
                    &f.id,
                    &req.auth.as_str(),
                    &req.success_sample_rate,
                    &req.strip_prefix,
                ],
            )
            .await?;
        let route = Route {
            id: row.get(0),
            method,
            path: req.path,
            function: req.function,
            auth: req.auth,
            success_sample_rate: req.success_sample_rate,
            strip_prefix: req.strip_prefix,
            created_at: row.get(1),
        };
        all.push(route.clone());
        if let Err(e) = RouteTable::build(all) {
            return Err(ControllerError::Conflict { what: "route", name: format!("{} (conflicts: {e})", route.path) });
        }
        let details = serde_json::json!({"id": route.id, "function": route.function});
        self.core.commit_change(tx, actor, "route.create", &route.path, details, Notice::Caches).await?;
        Ok(route)
    }

    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let row = tx
            .query_opt("DELETE FROM routes WHERE tenant_id = $1 AND id = $2 RETURNING path", &[&actor.tenant, &id])
            .await?
            .ok_or_else(|| ControllerError::not_found("route", id.to_string()))?;
        let path: String = row.get(0);
        self.core
            .commit_change(tx, actor, "route.delete", &path, serde_json::json!({"id": id}), Notice::Caches)
            .await?;
        Ok(())
    }

    /// Matches a public request against `tenant`'s routes.
    pub async fn find(&self, tenant: &str, method: &str, path: &str) -> Result<Option<RouteMatch>> {
        let view = self.core.cache.tenant(tenant).part::<CachedRoutes>();
        let table = view
            .0
            .get_or_try_init(|| async {
                let routes = self.list(tenant).await?;
                RouteTable::build(routes).map(Arc::new).map_err(ControllerError::Internal)
            })
            .await?;
        let found = table.find(method, path);
        if table.is_empty() {
            // Anyone can name any tenant in a public URL: don't keep a view
            // for each made-up one.
            self.core.cache.invalidate(tenant);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;

    pub fn route(id: i64, method: Option<&str>, path: &str) -> Route {
        Route {
            id,
            method: method.map(str::to_owned),
            path: path.into(),
            function: "f".into(),
            auth: RouteAuth::Public,
            success_sample_rate: None,
            strip_prefix: false,
            created_at: chrono::Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::route;
    use super::*;

    #[test]
    fn params_wildcards_and_methods() {
        let t = RouteTable::build(vec![
            route(1, None, "/orders/:id"),
            route(2, Some("POST"), "/orders/:id"),
            route(3, None, "/files/*"),
            route(4, Some("GET"), "/"),
        ])
        .unwrap();
        let m = t.find("GET", "/orders/42").unwrap();
        assert_eq!((m.route.id, m.params.clone()), (1, vec![("id".to_string(), "42".to_string())]));
        assert_eq!(t.find("POST", "/orders/42").unwrap().route.id, 2);
        let m = t.find("GET", "/files/a/b.txt").unwrap();
        assert_eq!((m.route.id, m.params[0].1.as_str()), (3, "a/b.txt"));
        assert_eq!(t.find("GET", "/").unwrap().route.id, 4);
        assert!(t.find("POST", "/").is_none());
        assert!(t.find("GET", "/nope").is_none());
    }

    #[test]
    fn bad_paths_are_explained() {
        for (p, why) in
            [("orders", "start with"), ("/a/*/b", "may only end"), ("/a/:", "parameters"), ("/a{b}", "literal")]
        {
            let e = to_matchit(p).unwrap_err().to_string();
            assert!(e.starts_with("path: ") && e.contains(why), "{p}: {e}");
        }
    }
}

/// Properties over arbitrary paths (proptest): compiling and matching never
/// panic; a parameter captures exactly its segment.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::tests_support::route;
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn any_route_path_compiles_or_is_refused_naming_path(p in "\\PC{0,40}") {
            if let Err(e) = to_matchit(&p) {
                prop_assert!(e.to_string().starts_with("path: "));
            }
        }

        #[test]
        fn any_request_path_matches_or_not(p in "/\\PC{0,40}", m in "[A-Z]{1,7}") {
            let t = RouteTable::build(vec![route(1, None, "/orders/:id"), route(2, Some("GET"), "/files/*")]).unwrap();
            let _ = t.find(&m, &p);
        }

        #[test]
        fn a_parameter_captures_its_segment(seg in "[^/?#]{1,30}") {
            let t = RouteTable::build(vec![route(1, None, "/orders/:id")]).unwrap();
            let m = t.find("GET", &format!("/orders/{seg}")).unwrap();
            prop_assert_eq!(&m.params, &vec![("id".to_string(), seg.clone())]);
        }
    }
}
