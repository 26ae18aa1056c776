//! The end-to-end harness: starts the real `quasm serve` binary against a
//! fresh Postgres database (and optionally the SeaweedFS S3 test server),
//! mints tokens with `quasm token create`, and talks HTTP to it.
//!
//! Every test owns its servers: nextest runs each test in its own process,
//! so nothing is shared between tests and they can run in parallel.
//!
//! - [`Env`]: a fresh database + a temporary data directory (+ an S3
//!   bucket); outlives server restarts (crash tests), drops the database at
//!   the end.
//! - [`Server`]: one `quasm serve` process on `127.0.0.1:0`; its address is
//!   parsed from stderr (`quasm listening on http://ADDR`); killed on drop.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_quasm");
/// How long a server may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

pub const ROLES: [&str; 4] = ["viewer", "developer", "operator", "admin"];

// ---------------------------------------------------------------- database

fn admin_url() -> String {
    std::env::var("QUASM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".into())
}

/// `admin` with its database replaced by `db` (key=value or URL form).
fn with_dbname(admin: &str, db: &str) -> String {
    if admin.starts_with("postgres://") || admin.starts_with("postgresql://") {
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (admin, None),
        };
        let scheme_end = base.find("://").unwrap() + 3;
        let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
        let mut url = format!("{}/{db}", &base[..host_end]);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    } else {
        format!("{admin} dbname={db}")
    }
}

fn unique_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        h.finish() % 1_000_000_000
    )
}

pub async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("test Postgres not reachable at {url:?}: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

// ---------------------------------------------------------------------- S3

/// The S3 test server's endpoint: `QUASM_TEST_S3_ENDPOINT`, else the one
/// `scripts/s3-test-server.sh` starts (or finds running).
pub fn s3_endpoint() -> String {
    if let Ok(e) = std::env::var("QUASM_TEST_S3_ENDPOINT") {
        return e;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/s3-test-server.sh");
    let out = Command::new("bash").arg(script).output().expect("running scripts/s3-test-server.sh");
    assert!(out.status.success(), "S3 test server: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub const S3_ACCESS_KEY: &str = "quasm-test";
pub const S3_SECRET_KEY: &str = "quasm-test-secret";

#[derive(Debug, Clone)]
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
    /// Key prefix of this test inside the shared bucket.
    pub prefix: String,
}

// --------------------------------------------------------------------- Env

/// State that outlives one server process: a fresh database, a data
/// directory (signing key, master key, local blobs) and maybe a bucket.
pub struct Env {
    pub db_url: String,
    db_name: String,
    pub data_dir: tempfile::TempDir,
    pub s3: Option<S3>,
    tokens: Mutex<HashMap<String, String>>,
}

impl Env {
    /// A fresh database and data directory; blobs in the data directory.
    pub async fn new() -> Arc<Env> {
        Self::create(false).await
    }

    /// Like [`Env::new`], with bundles in a fresh bucket of the real S3
    /// test server.
    pub async fn with_s3() -> Arc<Env> {
        Self::create(true).await
    }

    async fn create(s3: bool) -> Arc<Env> {
        let admin = admin_url();
        let db_name = format!("quasm_e2e_{}", unique_suffix());
        pg_connect(&admin).await.batch_execute(&format!("CREATE DATABASE {db_name}")).await.unwrap();
        let data_dir = tempfile::Builder::new().prefix("quasm-e2e-").tempdir_in("/tmp").unwrap();
        let s3 = if s3 {
            let endpoint = tokio::task::spawn_blocking(s3_endpoint).await.unwrap();
            // One shared bucket, a prefix per test: a SeaweedFS bucket is a
            // collection with its own volumes, and those run out.
            Some(S3 {
                endpoint,
                bucket: "quasm-e2e".into(),
                prefix: format!("e2e-{}/", unique_suffix().replace('_', "-")),
            })
        } else {
            None
        };
        Arc::new(Env { db_url: with_dbname(&admin, &db_name), db_name, data_dir, s3, tokens: Mutex::default() })
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// A JWT from `quasm token create` for `tenant` with `roles` (cached).
    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        let key = format!("{tenant}|{}", roles.join(","));
        if let Some(t) = self.tokens.lock().unwrap().get(&key) {
            return t.clone();
        }
        let t = self.token_with(tenant, roles, &[]);
        self.tokens.lock().unwrap().insert(key, t.clone());
        t
    }

    /// `quasm token create` with extra arguments (`--ttl`, `--subject`).
    pub fn token_with(&self, tenant: &str, roles: &[&str], extra: &[&str]) -> String {
        let mut cmd = Command::new(BIN);
        cmd.args(["token", "create", "--tenant", tenant, "--data-dir"]).arg(self.data_dir());
        for r in roles {
            cmd.args(["--role", r]);
        }
        cmd.args(extra);
        scrub_env(&mut cmd);
        let out = cmd.output().expect("running quasm token create");
        assert!(out.status.success(), "quasm token create failed: {}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
        token
    }

    /// The HS256 key `quasm serve` and `quasm token create` share.
    pub fn hs256_key(&self) -> Vec<u8> {
        let hex = std::fs::read_to_string(self.data_dir().join("keys/jwt-hs256.key")).expect("the signing key exists");
        let hex = hex.trim();
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    /// A connection to the server's database.
    pub async fn db(&self) -> tokio_postgres::Client {
        pg_connect(&self.db_url).await
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Best effort; a thread, as this may run inside a tokio runtime.
        let (admin, name) = (admin_url(), self.db_name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            })
        })
        .join();
    }
}

/// Keeps the developer's own `QUASM_*` settings away from the child.
fn scrub_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("QUASM_") && k != "QUASM_CACHE_DIR" && !k.starts_with("QUASM_TEST_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("QUASM_LOG", std::env::var("QUASM_E2E_LOG").unwrap_or_else(|_| "warn".into()));
}

// ------------------------------------------------------------------ Server

/// One `quasm serve` process.
pub struct Server {
    pub env: Arc<Env>,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    pub http: reqwest::Client,
    child: Child,
    log: Arc<Mutex<String>>,
}

/// HTTP answer: status, headers and the body as JSON (`Null` when empty,
/// a JSON string when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of a problem response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error.code>")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("<no error.message>")
    }
}

impl Server {
    /// A server on a fresh database with the default local blob directory.
    pub async fn new(args: &[&str]) -> Server {
        Server::start(&Env::new().await, args, &[]).await
    }

    /// Starts `quasm serve` on `env` with extra flags and environment; fails
    /// the test with the server's stderr if it does not print its address
    /// within [`START_TIMEOUT`].
    pub async fn start(env: &Arc<Env>, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", &env.db_url])
            .arg("--data-dir")
            .arg(env.data_dir());
        if !args.contains(&"--database-pool-size") {
            cmd.args(["--database-pool-size", "8"]);
        }
        if let Some(s3) = &env.s3 {
            cmd.args(["--s3-endpoint", &s3.endpoint, "--s3-bucket", &s3.bucket, "--s3-prefix", &s3.prefix]).args([
                "--s3-access-key-id",
                S3_ACCESS_KEY,
                "--s3-secret-access-key",
                S3_SECRET_KEY,
            ]);
        }
        cmd.args(args);
        scrub_env(&mut cmd);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning quasm serve");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    {
                        let mut l = log.lock().unwrap();
                        l.push_str(&line);
                        l.push('\n');
                    }
                    if let Some(url) = line.strip_prefix("quasm listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            });
        }
        let got = tokio::task::spawn_blocking(move || rx.recv_timeout(START_TIMEOUT)).await.unwrap();
        let url = match got {
            Ok(u) => u,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().ok();
                // Let the reader drain what is left.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "quasm serve did not print its address ({}; exit: {status:?}); stderr:\n{}",
                    match e {
                        std::sync::mpsc::RecvTimeoutError::Timeout => "timed out",
                        std::sync::mpsc::RecvTimeoutError::Disconnected => "stderr closed",
                    },
                    log.lock().unwrap()
                );
            }
        };
        let (scheme, hostport) = url.split_once("://").expect("URL with a scheme");
        let addr: SocketAddr = hostport.parse().unwrap_or_else(|e| panic!("address {hostport:?}: {e}"));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        Server { env: env.clone(), addr, base: format!("{scheme}://{addr}"), http, child, log }
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (≤ 10 s) until stderr contains `text`.
    pub async fn wait_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.stderr().contains(text) {
            assert!(Instant::now() < deadline, "stderr never said {text:?}:\n{}", self.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let r = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(r, 0, "kill({}, {sig})", self.pid());
    }

    /// Waits for the process to exit, up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGTERM, then waits (≤ 30 s) for a clean exit.
    pub async fn stop(mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let s = self.wait_exit(Duration::from_secs(30)).await;
        s.unwrap_or_else(|| panic!("quasm serve did not exit after SIGTERM; stderr:\n{}", self.stderr()))
    }

    pub fn token(&self, tenant: &str, roles: &[&str]) -> String {
        self.env.token(tenant, roles)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path` (absolute: `/api/v1/...`, `/fn/...`, `/healthz`).
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), self.url(path))
    }

    /// Sends `rb` and reads the answer.
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let resp = rb.send().await.unwrap_or_else(|e| panic!("request failed: {e}; server stderr:\n{}", self.stderr()));
        reply(resp).await
    }

    /// An admin API call: `path` is relative to `/api/v1` (`/functions`).
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut rb = self.request(method, &format!("/api/v1{path}"));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        self.send(rb).await
    }

    /// [`Server::call`] returning just `(status, json)`.
    pub async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let r = self.call(method, path, Some(token), body.as_ref()).await;
        (r.status, r.body)
    }

    /// Like [`Server::api`], asserting the status.
    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>, want: u16) -> Value {
        let r = self.call(method, path, Some(token), body.as_ref()).await;
        assert_eq!(r.status, want, "{method} {path}: {}", r.text);
        r.body
    }

    /// Creates a function (as `token`) and returns it.
    pub async fn create_function(&self, token: &str, name: &str, code: &str) -> Value {
        self.ok("POST", "/functions", token, Some(serde_json::json!({"name": name, "code": code})), 201).await
    }

    /// Polls `GET /executions/{id}` until its status is final.
    pub async fn wait_execution(&self, token: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.call("GET", &format!("/executions/{id}"), Some(token), None).await;
            if r.status == 200 && !matches!(r.body["status"].as_str(), Some("queued" | "running")) {
                return r.body;
            }
            assert!(Instant::now() < deadline, "execution {id} did not finish: {} {}", r.status, r.text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("reading the response body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()))
    };
    Reply { status, headers, body, text }
}

/// Polls `f` until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --------------------------------------------------------------------- JWT

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A JWT with any header and claims, HS256-signed with `key` (for tokens
/// `quasm token create` refuses to make: expired, other keys...).
pub fn sign_jwt(key: &[u8], header: &Value, claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// An unsigned (`alg: none`) token.
pub fn unsigned_jwt(claims: &Value) -> String {
    let header = serde_json::json!({"alg": "none", "typ": "JWT"});
    format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()))
}

// ------------------------------------------------------------------- misc

/// A temporary directory under /tmp.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("quasm-e2e-").tempdir_in("/tmp").unwrap()
}

pub fn path_of(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
