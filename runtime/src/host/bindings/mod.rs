//! Service bindings: `env.NAME.fetch(path, init)` reaches one base URL of a
//! host service the operator configured (`[bindings.NAME]`), carrying a
//! token Quasm signs with the invocation's tenant, function, execution and
//! user, so the host can scope what the call may do.
//!
//! This module owns the capability: the configuration ([`BindingConfig`]),
//! who may use which binding ([`Bindings::access`]), the guest's operation
//! ([`BindingCall::parse`]), how it runs ([`BindingCall::run`]) and its
//! errors ([`BindingError`]). The base URL is exempt from the SSRF rules of
//! `fetch()`, and only it: paths are joined below it (`path.rs`) and
//! redirects leaving it are refused.

pub mod keys;
pub mod openapi;
pub mod path;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use reqwest::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;

use super::fetch::{self, FetchError, FetchResponse, RedirectMode};
use super::InvocationContext;
use keys::KeyRing;
use path::PathError;

/// How long a binding token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(300);
/// Default per-request timeout of a binding.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const MAX_REDIRECTS: u32 = 10;

/// One `[bindings.NAME]` entry of the operator's configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BindingConfig {
    /// Base URL; every call goes below it.
    pub url: String,
    /// The service's OpenAPI 3 document (JSON or YAML file): adds typed
    /// methods `env.NAME.<tag>.<operationId>(params)`.
    #[serde(default)]
    pub openapi: Option<PathBuf>,
    /// Per request [default: 10000].
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Tenants that may use it; absent: all.
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
}

/// Everything that can go wrong with a binding, at configuration or call
/// time. Call-time messages reach the function as is and name the binding.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error("binding name {0:?} is invalid: use A-Z, 0-9 and '_', starting with a letter, at most 64 characters")]
    InvalidName(String),
    #[error("binding {name}: url {url:?} {reason}")]
    InvalidUrl { name: String, url: String, reason: String },
    #[error("binding {name}: timeout_ms must be between 1 and 600000")]
    InvalidTimeout { name: String },
    #[error("binding {name}: tenants[{index}] {tenant:?} is not a valid tenant id")]
    InvalidTenant { name: String, index: usize, tenant: String },
    #[error("binding {name}: reading the OpenAPI document {path}: {reason}")]
    OpenApi { name: String, path: PathBuf, reason: String },
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error("no binding named {0} is configured")]
    Unknown(String),
    #[error("binding {binding} is not available to tenant {tenant:?}")]
    TenantNotAllowed { binding: String, tenant: String },
    #[error(
        "binding {binding} is not granted to function {function:?}: add \"{binding}\" to the function's \"bindings\""
    )]
    NotGranted { binding: String, function: String },
    /// Decided when the invocation started (grant, tenant); the message
    /// is one of the errors above.
    #[error("{0}")]
    Refused(String),
    #[error("bad host-call argument: {0}")]
    BadArgument(#[from] serde_json::Error),
    #[error("{binding}.fetch: {source}")]
    Path { binding: String, source: PathError },
    #[error("{binding}.fetch: {source}")]
    Request { binding: String, source: FetchError },
    #[error("{binding}.fetch: redirect to {location:?} refused: it leaves the binding's URL")]
    RedirectOut { binding: String, location: String },
    #[error("{binding}.fetch: redirected to {location:?} but redirect mode is \"error\"")]
    UnexpectedRedirect { binding: String, location: String },
    #[error("{binding}.fetch: too many redirects (more than {MAX_REDIRECTS})")]
    TooManyRedirects { binding: String },
    #[error("{binding}.fetch: no response within {timeout_ms} ms")]
    Timeout { binding: String, timeout_ms: u64 },
}

/// A configured binding.
#[derive(Debug)]
pub struct Binding {
    pub name: String,
    pub url: Url,
    pub timeout: Duration,
    pub tenants: Option<Vec<String>>,
    /// The typed methods from its OpenAPI document.
    pub api: Option<openapi::Api>,
}

impl Binding {
    pub fn allows(&self, tenant: &str) -> bool {
        self.tenants.as_ref().is_none_or(|t| t.iter().any(|x| x == tenant))
    }
}

/// Binding names: like a JS identifier an operator would write in caps.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

fn valid_tenant(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// The configured bindings, the keys that sign their tokens and the HTTP
/// client that reaches them.
pub struct Bindings {
    by_name: BTreeMap<String, Arc<Binding>>,
    keys: Option<Arc<KeyRing>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bindings").field("names", &self.by_name.keys().collect::<Vec<_>>()).finish()
    }
}

impl Default for Bindings {
    fn default() -> Self {
        Self { by_name: BTreeMap::new(), keys: None, client: client() }
    }
}

/// No proxy, no automatic redirects (each hop is judged here), the
/// system's resolver: binding URLs are the operator's, not the tenant's.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("reqwest client with a fixed configuration builds")
}

impl Bindings {
    /// Checks `configs` and reads their OpenAPI documents; tokens are signed
    /// with `keys`.
    pub fn new(configs: &BTreeMap<String, BindingConfig>, keys: Arc<KeyRing>) -> Result<Self, BindingError> {
        let mut by_name = BTreeMap::new();
        for (name, c) in configs {
            if !valid_name(name) {
                return Err(BindingError::InvalidName(name.clone()));
            }
            let bad = |reason: &str| BindingError::InvalidUrl {
                name: name.clone(),
                url: c.url.clone(),
                reason: reason.to_owned(),
            };
            let url = Url::parse(&c.url).map_err(|e| bad(&format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(bad("must be an http or https URL with a host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad("must not have a query or fragment"));
            }
            let timeout_ms = c.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
            if !(1..=600_000).contains(&timeout_ms) {
                return Err(BindingError::InvalidTimeout { name: name.clone() });
            }
            for (index, tenant) in c.tenants.iter().flatten().enumerate() {
                if !valid_tenant(tenant) {
                    return Err(BindingError::InvalidTenant { name: name.clone(), index, tenant: tenant.clone() });
                }
            }
            let api = match &c.openapi {
                None => None,
                Some(path) => Some(openapi::Api::load(path).map_err(|reason| BindingError::OpenApi {
                    name: name.clone(),
                    path: path.clone(),
                    reason,
                })?),
            };
            let binding = Binding {
                name: name.clone(),
                url,
                timeout: Duration::from_millis(timeout_ms),
                tenants: c.tenants.clone(),
                api,
            };
            by_name.insert(name.clone(), Arc::new(binding));
        }
        Ok(Self { by_name, keys: Some(keys), client: client() })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Binding>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// The public keys tokens are verified with (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.as_ref().map_or_else(|| serde_json::json!({"keys": []}), |k| k.jwks())
    }

    /// TypeScript declarations of the bindings `tenant` may use: each one's
    /// typed methods (from its OpenAPI document) merged into
    /// `QuasmBindings`, which `Env` extends (see `sdk-js/types/quasm.d.ts`).
    pub fn declarations(&self, tenant: &str) -> String {
        let mut out = String::new();
        for (name, b) in self.by_name.iter().filter(|(_, b)| b.allows(tenant)) {
            match &b.api {
                Some(api) => out.push_str(&api.declarations(name)),
                None => out.push_str(&format!(
                    "/** Binding {name}. */\ninterface QuasmBindings {{\n  {name}: ServiceBinding;\n}}\n"
                )),
            }
        }
        out
    }

    /// Whether a function of `tenant` may list `name` in its bindings.
    pub fn check_grant(&self, tenant: &str, name: &str) -> Result<&Arc<Binding>, BindingError> {
        let b = self.by_name.get(name).ok_or_else(|| BindingError::Unknown(name.to_owned()))?;
        if !b.allows(tenant) {
            return Err(BindingError::TenantNotAllowed { binding: name.to_owned(), tenant: tenant.to_owned() });
        }
        Ok(b)
    }

    /// The bindings an invocation's `env` shows: those the function was
    /// granted (usable if its tenant is allowed) and the others its tenant
    /// may use (each call then fails naming the missing grant). Bindings the
    /// tenant may not use and the function does not list stay invisible.
    pub fn access(&self, ctx: &InvocationContext, granted: &[String]) -> Vec<Access> {
        let mut out = Vec::new();
        for name in granted {
            let state = match self.check_grant(&ctx.tenant, name) {
                Ok(b) => Ok(b.clone()),
                Err(e) => Err(e.to_string()),
            };
            out.push(Access { name: name.clone(), state });
        }
        for (name, b) in &self.by_name {
            if b.allows(&ctx.tenant) && !granted.contains(name) {
                let e = BindingError::NotGranted { binding: name.clone(), function: ctx.function.clone() };
                out.push(Access { name: name.clone(), state: Err(e.to_string()) });
            }
        }
        out
    }
}

/// One binding as an invocation sees it: usable, or why not.
#[derive(Debug, Clone)]
pub struct Access {
    pub name: String,
    pub state: Result<Arc<Binding>, String>,
}

impl Access {
    /// What the guest gets to build `env.NAME`: its typed operations.
    pub fn descriptor(&self) -> serde_json::Value {
        let ops = match &self.state {
            Ok(b) => b.api.as_ref().map(|a| a.descriptor()).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        serde_json::json!({ "ops": ops })
    }
}

/// A checked `env.NAME.fetch()` call.
#[derive(Debug)]
pub struct BindingCall {
    binding: Arc<Binding>,
    url: Url,
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    redirect: RedirectMode,
}

impl BindingCall {
    /// The guest's `binding_fetch` arguments: `{binding, path, method,
    /// headers, redirect}` and the body bytes, checked against what this
    /// invocation may use.
    pub fn parse(arg: &[u8], body: Vec<u8>, access: &[Access]) -> Result<Self, BindingError> {
        #[derive(Deserialize)]
        struct Guest {
            binding: String,
            path: String,
            #[serde(default)]
            method: String,
            #[serde(default)]
            headers: Vec<(String, String)>,
            #[serde(default)]
            redirect: Option<String>,
        }
        let g: Guest = serde_json::from_slice(arg)?;
        let binding = match access.iter().find(|a| a.name == g.binding) {
            None => return Err(BindingError::Unknown(g.binding)),
            Some(Access { state: Err(e), .. }) => return Err(BindingError::Refused(e.clone())),
            Some(Access { state: Ok(b), .. }) => b.clone(),
        };
        let url = path::join(&binding.url, &g.path)
            .map_err(|source| BindingError::Path { binding: binding.name.clone(), source })?;
        let redirect = match g.redirect.as_deref().unwrap_or("follow") {
            "follow" => RedirectMode::Follow,
            "manual" => RedirectMode::Manual,
            "error" => RedirectMode::Error,
            other => {
                let e = FetchError::InvalidRequest(format!("invalid redirect mode {other:?}"));
                return Err(BindingError::Request { binding: binding.name.clone(), source: e });
            }
        };
        Ok(Self { binding, url, method: g.method, headers: g.headers, body, redirect })
    }

    /// Sends the call with a fresh token for `ctx`.
    pub fn run(
        self,
        ctx: &InvocationContext,
        bindings: &Bindings,
        max_response_bytes: usize,
    ) -> BoxFuture<'static, Result<FetchResponse, BindingError>> {
        let client = bindings.client.clone();
        let token = bindings.keys.as_ref().map(|k| k.signer().sign_jwt(&claims(ctx, &self.binding.name)));
        let (tenant, execution) = (ctx.tenant.clone(), ctx.invocation_id.clone());
        Box::pin(async move {
            let name = self.binding.name.clone();
            let timeout = self.binding.timeout;
            let sent = self.send(client, token, &tenant, &execution, max_response_bytes);
            match tokio::time::timeout(timeout, sent).await {
                Ok(r) => r,
                Err(_) => Err(BindingError::Timeout { binding: name, timeout_ms: timeout.as_millis() as u64 }),
            }
        })
    }

    async fn send(
        self,
        client: reqwest::Client,
        token: Option<String>,
        tenant: &str,
        execution: &str,
        limit: usize,
    ) -> Result<FetchResponse, BindingError> {
        let name = self.binding.name.clone();
        let req_err = |source: FetchError| BindingError::Request { binding: name.clone(), source };
        let mut method = fetch::parse_method(&self.method).map_err(req_err)?;
        // The guest may not forge who is calling.
        let guest_headers: Vec<_> = self
            .headers
            .into_iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !(k == "authorization" || k.starts_with("quasm-") || k == "traceparent")
            })
            .collect();
        let mut headers = fetch::build_headers(&guest_headers).map_err(req_err)?;
        let value = |v: &str| HeaderValue::from_str(v).map_err(|_| req_err(FetchError::InvalidRequest(v.into())));
        if let Some(t) = &token {
            headers.insert(header::AUTHORIZATION, value(&format!("Bearer {t}"))?);
        }
        headers.insert("quasm-tenant", value(tenant)?);
        headers.insert("quasm-execution-id", value(execution)?);
        headers.insert("traceparent", value(&traceparent(execution))?);

        let mut url = self.url;
        let mut body = self.body;
        let mut redirects = 0;
        loop {
            let mut request = client.request(method.clone(), url.clone()).headers(headers.clone());
            if !body.is_empty() || !matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) {
                request = request.body(body.clone());
            }
            let resp = request.send().await.map_err(|e| {
                req_err(FetchError::Connect { url: "the binding's URL".into(), message: without_url(&e) })
            })?;
            let status = resp.status().as_u16();
            let location = match status {
                301 | 302 | 303 | 307 | 308 => resp.headers().get(header::LOCATION).cloned(),
                _ => None,
            };
            let Some(location) = location.filter(|_| self.redirect != RedirectMode::Manual) else {
                let mut r = fetch::read_response(resp, url, redirects > 0, limit).await.map_err(req_err)?;
                // The function sees paths, not where the host service lives.
                r.url = String::new();
                return Ok(r);
            };
            let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
            if self.redirect == RedirectMode::Error {
                return Err(BindingError::UnexpectedRedirect { binding: name, location });
            }
            let next = url.join(&location).ok().filter(|n| path::below(&self.binding.url, n));
            let Some(next) = next else { return Err(BindingError::RedirectOut { binding: name, location }) };
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(BindingError::TooManyRedirects { binding: name });
            }
            // As fetch() does (the Fetch standard): after a POST (301/302)
            // or anything but HEAD (303) the next hop is a GET without the
            // body, so a host's post-redirect-get never gets the POST twice.
            let to_get = match status {
                303 => method != reqwest::Method::HEAD,
                301 | 302 => method == reqwest::Method::POST,
                _ => false,
            };
            if to_get {
                method = reqwest::Method::GET;
                body.clear();
                for h in ["content-type", "content-encoding", "content-language", "content-location"] {
                    headers.remove(h);
                }
            }
            url = next;
        }
    }
}

/// reqwest's message minus the URL (which would reveal the base).
fn without_url(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "connection failed".into()
    } else {
        parts.join(": ")
    }
}

/// W3C trace context: the execution id is the trace id, so the host's
/// traces line up with Quasm's execution records.
fn traceparent(execution: &str) -> String {
    let mut trace: String = execution.chars().filter(char::is_ascii_hexdigit).collect();
    trace.make_ascii_lowercase();
    if trace.len() != 32 || trace.bytes().all(|b| b == b'0') {
        trace = format!("{:032x}", random_u128());
    }
    format!("00-{trace}-{:016x}-01", (random_u128() as u64).max(1))
}

fn random_u128() -> u128 {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    u128::from_le_bytes(b)
}

/// The token's claims for a call of `binding` from the invocation `ctx`.
pub fn claims(ctx: &InvocationContext, binding: &str) -> serde_json::Value {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut c = serde_json::json!({
        "iss": "quasm",
        "aud": binding,
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_TTL.as_secs(),
        "jti": format!("{:032x}", random_u128()),
        "tenant": ctx.tenant,
        "function": ctx.function,
        "version": ctx.version,
        "execution_id": ctx.invocation_id,
        "trigger": ctx.trigger,
    });
    if let Some(u) = &ctx.user {
        c["sub"] = u.id.clone().into();
        c["roles"] = serde_json::json!(u.roles);
        c["permissions"] = serde_json::json!(u.permissions);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InvocationUser;

    fn config(url: &str) -> BTreeMap<String, BindingConfig> {
        let mut m = BTreeMap::new();
        m.insert(
            "HOST".to_owned(),
            BindingConfig { url: url.into(), tenants: Some(vec!["acme".into()]), ..Default::default() },
        );
        m
    }

    fn ctx(tenant: &str) -> InvocationContext {
        InvocationContext { tenant: tenant.into(), function: "f".into(), ..Default::default() }
    }

    #[test]
    fn configuration_is_checked_by_field() {
        let keys = Arc::new(KeyRing::ephemeral().unwrap());
        let e = Bindings::new(&config("ftp://x"), keys.clone()).unwrap_err();
        assert!(e.to_string().contains("binding HOST: url \"ftp://x\""), "{e}");
        let e = Bindings::new(&config("http://h/?q=1"), keys.clone()).unwrap_err();
        assert!(e.to_string().contains("query"), "{e}");
        let mut c = config("http://h/");
        c.get_mut("HOST").unwrap().tenants = Some(vec!["Bad Tenant".into()]);
        assert!(matches!(Bindings::new(&c, keys.clone()), Err(BindingError::InvalidTenant { index: 0, .. })));
        let mut c = config("http://h/");
        c.insert("lower".into(), BindingConfig { url: "http://h".into(), ..Default::default() });
        assert!(matches!(Bindings::new(&c, keys.clone()), Err(BindingError::InvalidName(_))));
        let mut c = config("http://h/");
        c.get_mut("HOST").unwrap().timeout_ms = Some(0);
        assert!(matches!(Bindings::new(&c, keys), Err(BindingError::InvalidTimeout { .. })));
    }

    #[test]
    fn access_names_the_missing_grant_or_tenant() {
        let b = Bindings::new(&config("http://h/api"), Arc::new(KeyRing::ephemeral().unwrap())).unwrap();
        let granted = b.access(&ctx("acme"), &["HOST".into()]);
        assert!(granted[0].state.is_ok());
        let not_granted = b.access(&ctx("acme"), &[]);
        assert_eq!(
            not_granted[0].state.as_ref().unwrap_err(),
            "binding HOST is not granted to function \"f\": add \"HOST\" to the function's \"bindings\""
        );
        let other = b.access(&ctx("zeta"), &["HOST".into()]);
        assert_eq!(other[0].state.as_ref().unwrap_err(), "binding HOST is not available to tenant \"zeta\"");
        assert!(b.access(&ctx("zeta"), &[]).is_empty(), "invisible to tenants that may not use it");

        let arg = br#"{"binding":"HOST","path":"/x","method":"GET"}"#;
        let e = BindingCall::parse(arg, Vec::new(), &not_granted).unwrap_err();
        assert!(e.to_string().starts_with("binding HOST is not granted"), "{e}");
        let e = BindingCall::parse(br#"{"binding":"HOST","path":"/../x"}"#, Vec::new(), &granted).unwrap_err();
        assert!(e.to_string().starts_with("HOST.fetch: the path must not contain"), "{e}");
        let ok = BindingCall::parse(br#"{"binding":"HOST","path":"/c?x=1"}"#, Vec::new(), &granted).unwrap();
        assert_eq!(ok.url.as_str(), "http://h/api/c?x=1");
    }

    #[test]
    fn claims_carry_the_invocation_and_its_user() {
        let mut c = ctx("acme");
        c.invocation_id = "0190b5a4-0000-7000-8000-000000000001".into();
        c.trigger = "invoke".into();
        let anon = claims(&c, "HOST");
        assert_eq!(anon["aud"], "HOST");
        assert_eq!(anon["iss"], "quasm");
        assert_eq!(anon["exp"].as_u64().unwrap() - anon["iat"].as_u64().unwrap(), 300);
        assert!(anon.get("sub").is_none());
        c.user =
            Some(InvocationUser { id: "ann".into(), roles: vec!["developer".into()], permissions: vec!["a:b".into()] });
        let with_user = claims(&c, "HOST");
        assert_eq!(with_user["sub"], "ann");
        assert_eq!(with_user["permissions"], serde_json::json!(["a:b"]));
        assert!(traceparent(&c.invocation_id).starts_with("00-0190b5a4000070008000000000000001-"));
    }
}
