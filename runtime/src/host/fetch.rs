//! The host side of user JS `fetch()`: an HTTP client that cannot be turned
//! against the platform's own network (SSRF).
//!
//! Every address a request connects to is checked against [`NetPolicy`]:
//! IP-literal URLs before sending, host names inside the client's DNS
//! resolver (which hands the connector only the checked addresses, so a
//! second DNS answer cannot swap them: no rebinding window). Redirects are
//! followed here, hop by hop, so each hop gets the same checks.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use url::{Host, Url};

use super::net_policy::{classify, HostRules, NetPolicy};

/// What to do with a 3xx response, as in the JS `redirect` option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RedirectMode {
    #[default]
    Follow,
    /// Return the 3xx response itself.
    Manual,
    /// Fail on any redirect.
    Error,
}

#[derive(Debug, Clone, Default)]
pub struct FetchRequest {
    /// HTTP method; empty means GET.
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub redirect: RedirectMode,
}

impl FetchRequest {
    /// A plain GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self { url: url.into(), ..Self::default() }
    }
}

#[derive(Debug, Clone)]
pub struct FetchResponse {
    pub status: u16,
    pub status_text: String,
    /// In received order; repeated headers (e.g. `set-cookie`) stay separate.
    pub headers: Vec<(String, String)>,
    /// The final URL, after redirects.
    pub url: String,
    pub redirected: bool,
    pub body: Vec<u8>,
}

impl FetchResponse {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub max_response_bytes: usize,
    /// For the whole fetch: every hop, and reading the body.
    pub timeout: Duration,
    pub max_redirects: u32,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self { max_response_bytes: 10 * 1024 * 1024, timeout: Duration::from_secs(30), max_redirects: 20 }
    }
}

/// Errors are shown to JS developers as is, so they say what happened and why.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The request (or a redirect hop) was blocked before connecting;
    /// `cause` is one of the policy errors below.
    #[error("{} to {url} refused: {cause}", verb(.redirect))]
    Refused { url: String, redirect: bool, cause: Box<FetchError> },
    #[error("unsupported scheme \"{0}:\" (only http: and https: are allowed)")]
    UnsupportedScheme(String),
    #[error("{addr} is {} {reason} address", article(reason))]
    AddressForbidden { addr: IpAddr, reason: &'static str },
    #[error("{host} resolves only to forbidden addresses ({detail})")]
    NoAllowedAddress { host: String, detail: String },
    #[error("host {0} is not in this function's allowed hosts")]
    HostNotAllowed(String),
    #[error("host {0} is in this function's denied hosts")]
    HostDenied(String),
    #[error("could not resolve host {host}: {message}")]
    Dns { host: String, message: String },
    #[error("fetch to {url} failed: too many redirects (more than {max})")]
    TooManyRedirects { url: String, max: u32 },
    #[error("fetch to {url} failed: redirected to {location} but redirect mode is \"error\"")]
    UnexpectedRedirect { url: String, location: String },
    #[error("response body from {url} exceeds {limit} bytes")]
    BodyTooLarge { url: String, limit: usize },
    #[error("fetch to {url} timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("fetch to {url} failed: {message}")]
    Connect { url: String, message: String },
}

fn verb(redirect: &bool) -> &'static str {
    if *redirect {
        "redirect"
    } else {
        "fetch"
    }
}

fn article(word: &str) -> &'static str {
    let vowel = word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']);
    if vowel && !word.starts_with("uni") {
        "an"
    } else {
        "a"
    }
}

/// Request headers user code may not set: they describe the connection or
/// message framing, which the client owns (a forged `Host` or
/// `Transfer-Encoding` could also smuggle requests to another vhost).
const STRIPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "http2-settings",
];

/// Dropped with the body when a redirect turns the request into a GET.
const BODY_HEADERS: &[&str] = &["content-type", "content-encoding", "content-language", "content-location"];

/// Credentials that must not follow a redirect to another origin.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "cookie"];

/// Outbound HTTP client; build one per process and share it (it pools
/// connections).
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<NetPolicy>,
}

impl Fetcher {
    pub fn new(policy: NetPolicy) -> Self {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            // Redirects are followed in `fetch` so every hop is checked.
            .redirect(reqwest::redirect::Policy::none())
            // An env proxy would connect for us to unchecked addresses.
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .build()
            .expect("reqwest client with a fixed configuration builds");
        Self { client, policy }
    }

    /// Performs `req` under this process's address policy, the function's
    /// host `rules` and `limits`.
    pub async fn fetch(
        &self,
        req: FetchRequest,
        rules: &HostRules,
        limits: &FetchLimits,
    ) -> Result<FetchResponse, FetchError> {
        let url = req.url.clone();
        let inner = self.fetch_inner(req, rules, limits);
        let result = match tokio::time::timeout(limits.timeout, inner).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::Timeout { url, after: limits.timeout }),
        };
        if let Err(err) = &result {
            tracing::debug!(%err, "fetch failed");
        }
        result
    }

    async fn fetch_inner(
        &self,
        req: FetchRequest,
        rules: &HostRules,
        limits: &FetchLimits,
    ) -> Result<FetchResponse, FetchError> {
        let mut url =
            Url::parse(&req.url).map_err(|e| FetchError::InvalidUrl { url: req.url.clone(), reason: e.to_string() })?;
        let mut method = parse_method(&req.method)?;
        let mut headers = build_headers(&req.headers)?;
        let mut body = req.body;
        let mut redirects = 0;

        loop {
            let is_redirect = redirects > 0;
            url.set_fragment(None);
            self.check_target(&url, rules).map_err(|cause| FetchError::Refused {
                url: url.to_string(),
                redirect: is_redirect,
                cause: Box::new(cause),
            })?;

            let mut request = self.client.request(method.clone(), url.clone()).headers(headers.clone());
            if !body.is_empty() || !matches!(method, Method::GET | Method::HEAD) {
                request = request.body(body.clone());
            }
            let resp = request.send().await.map_err(|e| send_error(&e, &url, is_redirect))?;

            let status = resp.status();
            let location = match status.as_u16() {
                301 | 302 | 303 | 307 | 308 => resp.headers().get(header::LOCATION),
                _ => None,
            };
            let Some(location) = location.filter(|_| req.redirect != RedirectMode::Manual) else {
                return read_response(resp, url, is_redirect, limits.max_response_bytes).await;
            };

            let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
            if req.redirect == RedirectMode::Error {
                return Err(FetchError::UnexpectedRedirect { url: url.to_string(), location });
            }
            redirects += 1;
            if redirects > limits.max_redirects {
                return Err(FetchError::TooManyRedirects { url: req.url, max: limits.max_redirects });
            }
            let next =
                url.join(&location).map_err(|e| FetchError::InvalidUrl { url: location, reason: e.to_string() })?;

            // Method rewrite as in the Fetch standard (and browsers).
            let to_get = match status {
                StatusCode::SEE_OTHER => method != Method::HEAD,
                StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => method == Method::POST,
                _ => false,
            };
            if to_get {
                method = Method::GET;
                body.clear();
                for name in BODY_HEADERS {
                    headers.remove(*name);
                }
            }
            if next.origin() != url.origin() {
                for name in CREDENTIAL_HEADERS {
                    headers.remove(*name);
                }
            }
            url = next;
        }
    }

    /// Checks done before each hop: scheme, host rules and, for IP literals
    /// (which never reach the resolver), the address policy.
    fn check_target(&self, url: &Url, rules: &HostRules) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme(url.scheme().to_owned()));
        }
        let host = url.host().ok_or_else(|| FetchError::InvalidRequest("URL has no host".into()))?;
        rules.check(&host.to_string())?;
        match host {
            Host::Ipv4(ip) => self.policy.check(ip.into()),
            Host::Ipv6(ip) => self.policy.check(ip.into()),
            Host::Domain(_) => Ok(()), // checked in `PolicyResolver`
        }
    }
}

pub(crate) fn parse_method(method: &str) -> Result<Method, FetchError> {
    if method.is_empty() {
        return Ok(Method::GET);
    }
    let upper = method.to_ascii_uppercase();
    if matches!(upper.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        return Err(FetchError::InvalidRequest(format!("method {method} is not allowed")));
    }
    // The Fetch standard normalizes only these methods' case.
    let normalized = match upper.as_str() {
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" => &upper,
        _ => method,
    };
    Method::from_bytes(normalized.as_bytes())
        .map_err(|_| FetchError::InvalidRequest(format!("invalid method {method:?}")))
}

pub(crate) fn build_headers(pairs: &[(String, String)]) -> Result<HeaderMap, FetchError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| FetchError::InvalidRequest(format!("invalid header name {name:?}")))?;
        if STRIPPED_HEADERS.contains(&name.as_str()) || name.as_str().starts_with("proxy-") {
            continue;
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| FetchError::InvalidRequest(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(header::USER_AGENT, HeaderValue::from_static("quasm"));
    }
    Ok(headers)
}

pub(crate) async fn read_response(
    mut resp: reqwest::Response,
    url: Url,
    redirected: bool,
    limit: usize,
) -> Result<FetchResponse, FetchError> {
    let too_large = || FetchError::BodyTooLarge { url: url.to_string(), limit };
    // Fail early on a declared length; the loop below covers chunked bodies.
    let declared = resp.content_length().unwrap_or(0);
    if declared > limit as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| send_error(&e, &url, false))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let status = resp.status();
    Ok(FetchResponse {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_owned(),
        headers: resp
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), v)
            })
            .collect(),
        url: url.to_string(),
        redirected,
        body,
    })
}

/// Turns a reqwest error into a [`FetchError`], recovering our resolver's
/// error from the source chain so refusals read as refusals.
fn send_error(err: &reqwest::Error, url: &Url, redirect: bool) -> FetchError {
    let mut messages = Vec::new();
    // Skip reqwest's own message: it only repeats the URL.
    let mut source = err.source();
    while let Some(e) = source {
        match e.downcast_ref::<FetchError>() {
            Some(cause @ FetchError::NoAllowedAddress { .. }) => {
                return FetchError::Refused { url: url.to_string(), redirect, cause: Box::new(cause.clone()) }
            }
            Some(other) => {
                messages.push(other.to_string());
                break;
            }
            None => messages.push(e.to_string()),
        }
        source = e.source();
    }
    if messages.is_empty() {
        messages.push(err.to_string());
    }
    FetchError::Connect { url: url.to_string(), message: messages.join(": ") }
}

/// DNS resolver that only ever yields addresses the policy permits, so the
/// connector cannot reach anything else.
struct PolicyResolver(Arc<NetPolicy>);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| FetchError::Dns { host: host.clone(), message: e.to_string() })?
                .collect();
            let (allowed, mut refused): (Vec<_>, Vec<_>) =
                resolved.into_iter().partition(|addr| policy.check(addr.ip()).is_ok());
            if allowed.is_empty() {
                if refused.is_empty() {
                    let message = "no addresses found".to_owned();
                    return Err(FetchError::Dns { host, message }.into());
                }
                refused.sort();
                refused.dedup();
                let detail = refused
                    .iter()
                    .map(|a| format!("{} {}", a.ip(), classify(a.ip()).unwrap_or("forbidden")))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(FetchError::NoAllowedAddress { host, detail }.into());
            }
            if !refused.is_empty() {
                tracing::debug!(%host, ?refused, "dropped forbidden addresses");
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    //! Real requests, but only ever to a server on 127.0.0.1: every other
    //! destination must be refused before a packet is sent, which the
    //! refusal tests show by finishing at once.

    use super::*;
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
    use hyper::body::{Bytes, Frame, Incoming};
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;

    type Body = BoxBody<Bytes, Infallible>;

    struct Server {
        port: u16,
        hits: Arc<AtomicUsize>,
    }

    impl Server {
        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        /// URL on this server that answers `status` with `Location: to`.
        fn redirect(&self, status: u16, to: &str) -> String {
            let to: String = url::form_urlencoded::byte_serialize(to.as_bytes()).collect();
            self.url(&format!("/redirect?status={status}&to={to}"))
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    async fn serve() -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        handle(req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { port, hits }
    }

    async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
        let n: usize = query.get("n").map_or(0, |v| v.parse().unwrap());
        let full = |b: Vec<u8>| Full::new(Bytes::from(b)).boxed();
        let builder = Response::builder();
        let resp = match req.uri().path() {
            "/" => builder
                .header("x-test", "yes")
                .header("set-cookie", "a=1")
                .header("set-cookie", "b=2")
                .body(full(b"hello".to_vec())),
            // Method, then request headers, a blank line and the body.
            "/echo" => {
                let mut text = format!("{}\n", req.method());
                for (k, v) in req.headers() {
                    text += &format!("{k}: {}\n", v.to_str().unwrap());
                }
                text.push('\n');
                let body = req.into_body().collect().await.unwrap().to_bytes();
                text += &String::from_utf8_lossy(&body);
                builder.body(full(text.into_bytes()))
            }
            "/redirect" => builder
                .status(query["status"].parse::<u16>().unwrap())
                .header("location", &query["to"])
                .body(full(vec![])),
            "/loop" => builder.status(302).header("location", "/loop").body(full(vec![])),
            "/big" => builder.body(full(vec![b'x'; n])),
            // No content-length: the cap must be enforced while streaming.
            "/chunked" => {
                let frames = (0..n).step_by(16 * 1024).map(move |start| {
                    let len = (16 * 1024).min(n - start);
                    Ok(Frame::data(Bytes::from(vec![b'y'; len])))
                });
                builder.body(StreamBody::new(futures::stream::iter(frames)).boxed())
            }
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                builder.body(full(b"late".to_vec()))
            }
            _ => builder.status(404).body(full(vec![])),
        };
        Ok(resp.unwrap())
    }

    /// Allows exactly the test server's address.
    fn local() -> Fetcher {
        Fetcher::new(NetPolicy { allowed_addrs: vec!["127.0.0.1/32".parse().unwrap()] })
    }

    async fn fetch_ok(fetcher: &Fetcher, req: FetchRequest) -> FetchResponse {
        fetcher.fetch(req, &HostRules::default(), &FetchLimits::default()).await.unwrap()
    }

    /// Fetches something that must fail without waiting on the network.
    async fn fail_fast(fetcher: &Fetcher, req: FetchRequest, rules: &HostRules) -> FetchError {
        let start = Instant::now();
        let limits = FetchLimits::default();
        let result = tokio::time::timeout(Duration::from_secs(2), fetcher.fetch(req, rules, &limits))
            .await
            .expect("a refusal must not wait for the network");
        assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
        result.expect_err("must fail")
    }

    async fn refused(fetcher: &Fetcher, url: &str) -> FetchError {
        let err = fail_fast(fetcher, FetchRequest::get(url), &HostRules::default()).await;
        assert!(matches!(err, FetchError::Refused { .. }), "{url}: {err}");
        err
    }

    fn body(resp: &FetchResponse) -> String {
        String::from_utf8(resp.body.clone()).unwrap()
    }

    #[tokio::test]
    async fn loopback_refused_by_default() {
        let server = serve().await;
        let fetcher = Fetcher::new(NetPolicy::default());
        let url = server.url("/");
        let err = refused(&fetcher, &url).await;
        assert_eq!(err.to_string(), format!("fetch to {url} refused: 127.0.0.1 is a loopback address"));
        let err = refused(&fetcher, &format!("http://localhost:{}/", server.port)).await;
        assert_eq!(
            err.to_string(),
            format!(
                "fetch to http://localhost:{}/ refused: localhost resolves only to forbidden \
                 addresses (127.0.0.1 loopback)",
                server.port
            )
        );
        assert_eq!(server.hits(), 0);
    }

    #[tokio::test]
    async fn forbidden_addresses_refused() {
        let fetcher = Fetcher::new(NetPolicy::default());
        for (url, msg) in [
            ("http://10.0.0.1/", "10.0.0.1 is a private address"),
            ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local (cloud metadata) address"),
            ("http://[::1]/", "::1 is a loopback address"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"),
            ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
            ("http://[::]:8080/", ":: is an unspecified address"),
            // WHATWG URL parsing turns these spellings into 127.0.0.1.
            ("http://0x7f.1/", "127.0.0.1 is a loopback address"),
            ("http://2130706433/", "127.0.0.1 is a loopback address"),
            ("https://100.100.100.200/", "100.100.100.200 is a shared (CGNAT) address"),
            ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a unique-local address"),
            ("http://[64:ff9b::a00:1]/", "64:ff9b::a00:1 is a private address"),
        ] {
            let err = refused(&fetcher, url).await;
            assert!(err.to_string().ends_with(&format!("refused: {msg}")), "{err}");
        }
        // The operator override is for exactly the listed range.
        let fetcher = local();
        refused(&fetcher, "http://127.0.0.2/").await;
        refused(&fetcher, "http://10.0.0.1/").await;
    }

    #[tokio::test]
    async fn allowed_with_override() {
        let server = serve().await;
        let resp = fetch_ok(&local(), FetchRequest::get(server.url("/"))).await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.status_text, "OK");
        assert_eq!(body(&resp), "hello");
        assert_eq!(resp.header("X-Test"), Some("yes"));
        let cookies: Vec<_> = resp.headers.iter().filter(|(k, _)| k == "set-cookie").collect();
        assert_eq!(cookies.len(), 2);
        assert_eq!(resp.url, server.url("/"));
        assert!(!resp.redirected);

        // A name is fine when it resolves to an allowed address.
        let url = format!("http://localhost:{}/", server.port);
        let resp = fetch_ok(&local(), FetchRequest::get(&url)).await;
        assert_eq!(body(&resp), "hello");
    }

    #[tokio::test]
    async fn request_headers_and_body() {
        let server = serve().await;
        let req = FetchRequest {
            method: "post".into(),
            url: server.url("/echo"),
            headers: vec![
                ("Host".into(), "internal.example".into()),
                ("Connection".into(), "upgrade".into()),
                ("Transfer-Encoding".into(), "chunked".into()),
                ("Proxy-Authorization".into(), "x".into()),
                ("X-Custom".into(), "1".into()),
            ],
            body: b"payload".to_vec(),
            ..Default::default()
        };
        let text = body(&fetch_ok(&local(), req).await);
        assert!(text.starts_with("POST\n"), "{text}");
        assert!(text.contains(&format!("host: 127.0.0.1:{}\n", server.port)));
        assert!(text.contains("user-agent: quasm\n"));
        assert!(text.contains("x-custom: 1\n"));
        assert!(text.contains("content-length: 7\n"));
        assert!(!text.contains("transfer-encoding"), "{text}");
        assert!(!text.contains("proxy-authorization"), "{text}");
        assert!(text.ends_with("\n\npayload"));

        let mut req = FetchRequest::get(server.url("/echo"));
        req.headers.push(("User-Agent".into(), "mine".into()));
        let text = body(&fetch_ok(&local(), req).await);
        assert!(text.contains("user-agent: mine\n") && !text.contains("quasm"));

        let fetcher = local();
        for (method, header) in [("CONNECT", "x"), ("GET", "bad name")] {
            let mut req = FetchRequest::get(server.url("/"));
            req.method = method.into();
            req.headers.push((header.into(), "v".into()));
            let err = fail_fast(&fetcher, req, &HostRules::default()).await;
            assert!(matches!(err, FetchError::InvalidRequest(_)), "{err}");
        }
    }

    #[tokio::test]
    async fn redirects_to_forbidden_addresses_refused() {
        let server = serve().await;
        let fetcher = local();
        for (to, msg) in [
            (
                "http://169.254.169.254/",
                "redirect to http://169.254.169.254/ refused: 169.254.169.254 is a link-local \
                 (cloud metadata) address",
            ),
            ("http://10.0.0.1/", "redirect to http://10.0.0.1/ refused: 10.0.0.1 is a private address"),
            ("http://[::1]/", "redirect to http://[::1]/ refused: ::1 is a loopback address"),
            (
                "file:///etc/passwd",
                "redirect to file:///etc/passwd refused: unsupported scheme \"file:\" (only \
                 http: and https: are allowed)",
            ),
        ] {
            let err = fail_fast(&fetcher, FetchRequest::get(server.redirect(302, to)), &HostRules::default()).await;
            assert_eq!(err.to_string(), msg);
            assert!(matches!(err, FetchError::Refused { redirect: true, .. }));
        }
        assert_eq!(server.hits(), 4);
    }

    #[tokio::test]
    async fn redirect_followed() {
        let server = serve().await;
        let resp = fetch_ok(&local(), FetchRequest::get(server.redirect(301, "/echo?x=1"))).await;
        assert_eq!(resp.status, 200);
        assert!(resp.redirected);
        assert_eq!(resp.url, server.url("/echo?x=1"));
        assert!(body(&resp).starts_with("GET\n"));
    }

    #[tokio::test]
    async fn redirect_method_rewrite() {
        let server = serve().await;
        let fetcher = local();
        let post = |url: String| FetchRequest {
            method: "POST".into(),
            url,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"data".to_vec(),
            ..Default::default()
        };
        for status in [301, 302, 303] {
            let resp = fetch_ok(&fetcher, post(server.redirect(status, "/echo"))).await;
            let text = body(&resp);
            assert!(text.starts_with("GET\n"), "{status}: {text}");
            assert!(!text.contains("content-type") && text.ends_with("\n\n"), "{text}");
        }
        for status in [307, 308] {
            let text = body(&fetch_ok(&fetcher, post(server.redirect(status, "/echo"))).await);
            assert!(text.starts_with("POST\n"), "{status}: {text}");
            assert!(text.contains("content-type: text/plain\n"));
            assert!(text.ends_with("\n\ndata"));
        }
    }

    #[tokio::test]
    async fn credentials_dropped_on_cross_origin_redirect() {
        let server = serve().await;
        let fetcher = local();
        let with_creds = |url: String| FetchRequest {
            headers: vec![("Authorization".into(), "Bearer secret".into()), ("Cookie".into(), "session=1".into())],
            ..FetchRequest::get(url)
        };
        let same = body(&fetch_ok(&fetcher, with_creds(server.redirect(302, "/echo"))).await);
        assert!(same.contains("authorization: Bearer secret\n") && same.contains("cookie: "));

        let other = format!("http://localhost:{}/echo", server.port);
        let cross = body(&fetch_ok(&fetcher, with_creds(server.redirect(302, &other))).await);
        assert!(cross.starts_with("GET\n"));
        assert!(!cross.contains("authorization") && !cross.contains("cookie"), "{cross}");
    }

    #[tokio::test]
    async fn redirect_modes() {
        let server = serve().await;
        let fetcher = local();
        let url = server.redirect(302, "http://10.0.0.1/");
        let manual = FetchRequest { redirect: RedirectMode::Manual, ..FetchRequest::get(&url) };
        let resp = fetch_ok(&fetcher, manual).await;
        assert_eq!(resp.status, 302);
        assert_eq!(resp.status_text, "Found");
        assert_eq!(resp.header("location"), Some("http://10.0.0.1/"));
        assert!(!resp.redirected);
        assert_eq!(resp.url, url);

        let error = FetchRequest { redirect: RedirectMode::Error, ..FetchRequest::get(&url) };
        let err = fail_fast(&fetcher, error, &HostRules::default()).await;
        assert_eq!(
            err.to_string(),
            format!(
                "fetch to {url} failed: redirected to http://10.0.0.1/ but redirect mode is \
                 \"error\""
            )
        );
    }

    #[tokio::test]
    async fn too_many_redirects() {
        let server = serve().await;
        let limits = FetchLimits { max_redirects: 5, ..Default::default() };
        let url = server.url("/loop");
        let err = local().fetch(FetchRequest::get(&url), &HostRules::default(), &limits).await.unwrap_err();
        assert_eq!(err.to_string(), format!("fetch to {url} failed: too many redirects (more than 5)"));
        assert_eq!(server.hits(), 6);
    }

    #[tokio::test]
    async fn response_size_cap() {
        let server = serve().await;
        let fetcher = local();
        let limits = FetchLimits { max_response_bytes: 100_000, ..Default::default() };
        let rules = HostRules::default();
        let get = |path: &str| fetcher.fetch(FetchRequest::get(server.url(path)), &rules, &limits);
        assert_eq!(get("/big?n=100000").await.unwrap().body.len(), 100_000);
        assert_eq!(get("/chunked?n=100000").await.unwrap().body.len(), 100_000);
        for path in ["/big?n=100001", "/chunked?n=1000000"] {
            let err = get(path).await.unwrap_err();
            assert_eq!(err.to_string(), format!("response body from {} exceeds 100000 bytes", server.url(path)));
        }
    }

    #[tokio::test]
    async fn slow_response_times_out() {
        let server = serve().await;
        let limits = FetchLimits { timeout: Duration::from_millis(300), ..Default::default() };
        let start = Instant::now();
        let url = server.url("/slow");
        let err = local().fetch(FetchRequest::get(&url), &HostRules::default(), &limits).await.unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(err.to_string(), format!("fetch to {url} timed out after 300ms"));
    }

    #[tokio::test]
    async fn host_rules_enforced() {
        let server = serve().await;
        let fetcher = local();
        let rules = |allow: &[&str], deny: &[&str]| HostRules {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        };
        // Refused before any DNS lookup of the example names.
        let deny = rules(&[], &["*.example.com"]);
        let err = fail_fast(&fetcher, FetchRequest::get("https://api.Example.com/x"), &deny).await;
        assert_eq!(
            err.to_string(),
            "fetch to https://api.example.com/x refused: host api.example.com is in this \
             function's denied hosts"
        );
        let only_example = rules(&["*.example.com"], &[]);
        let err = fail_fast(&fetcher, FetchRequest::get(server.url("/")), &only_example).await;
        assert_eq!(
            err.to_string(),
            format!("fetch to {} refused: host 127.0.0.1 is not in this function's allowed hosts", server.url("/"))
        );

        let only_localhost = rules(&["LOCALHOST"], &["127.0.0.1"]);
        let localhost = format!("http://localhost:{}/", server.port);
        let resp =
            fetcher.fetch(FetchRequest::get(&localhost), &only_localhost, &FetchLimits::default()).await.unwrap();
        assert_eq!(body(&resp), "hello");
        // Redirect hops are held to the same rules.
        let hop = format!("http://localhost:{}/redirect?status=302&to=http://127.0.0.1/", server.port);
        let err = fail_fast(&fetcher, FetchRequest::get(hop), &only_localhost).await;
        assert_eq!(
            err.to_string(),
            "redirect to http://127.0.0.1/ refused: host 127.0.0.1 is in this function's denied \
             hosts"
        );
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn bad_urls_and_schemes_rejected() {
        let fetcher = local();
        for (url, msg) in [
            (
                "ftp://example.com/file",
                "fetch to ftp://example.com/file refused: unsupported scheme \"ftp:\" (only \
                 http: and https: are allowed)",
            ),
            (
                "file:///etc/passwd",
                "fetch to file:///etc/passwd refused: unsupported scheme \"file:\" (only http: \
                 and https: are allowed)",
            ),
            ("/relative", "invalid URL \"/relative\": relative URL without a base"),
            ("http://", "invalid URL \"http://\": empty host"),
        ] {
            let err = fail_fast(&fetcher, FetchRequest::get(url), &HostRules::default()).await;
            assert_eq!(err.to_string(), msg);
        }
    }
    #[tokio::test]
    async fn connection_error_reported() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/");
        let err = fail_fast(&local(), FetchRequest::get(&url), &HostRules::default()).await;
        assert!(matches!(err, FetchError::Connect { .. }), "{err}");
        assert!(err.to_string().starts_with(&format!("fetch to {url} failed: ")), "{err}");
    }
}
