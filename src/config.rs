//! Quasm's configuration: one typed struct, [`Settings`], read from flags,
//! `QUASM_*` environment variables and an optional TOML file, in that order
//! of precedence. Every flag `--foo-bar` has the env twin `QUASM_FOO_BAR`
//! and the TOML key `foo_bar`. Unset values take defaults that work out of
//! the box (embedded Postgres and a local blob directory under the data
//! directory, 127.0.0.1:8080).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use quasm_runtime::BindingConfig;
use serde::Deserialize;

/// Declares the settings once; generates the struct (clap + serde) and the
/// merge of flags/env over the file.
macro_rules! settings {
    ($( $(#[doc = $doc:literal])* $name:ident : $ty:ty => $env:literal $(, $extra:meta)* ;)*) => {
        #[derive(clap::Args, Deserialize, Debug, Default, Clone)]
        #[serde(default, deny_unknown_fields)]
        pub struct Settings {
            /// A TOML file with any of these settings (keys like `data_dir`).
            #[arg(long, env = "QUASM_CONFIG")]
            #[serde(skip)]
            pub config: Option<PathBuf>,
            /// Service bindings: `[bindings.NAME]` tables in the file,
            /// `QUASM_BINDING_<NAME>_<FIELD>` variables (see [`Settings::bindings`]).
            #[arg(skip)]
            pub bindings: BTreeMap<String, BindingConfig>,
            $(
                $(#[doc = $doc])*
                #[arg(long, env = $env $(, $extra)*)]
                pub $name: Option<$ty>,
            )*
        }

        impl Settings {
            /// `self` (flags and env) wins over `file`.
            fn or(self, file: Settings) -> Settings {
                Settings { config: self.config, bindings: file.bindings, $( $name: self.$name.or(file.$name), )* }
            }
        }
    };
}

settings! {
    /// Address to listen on [default: 127.0.0.1:8080].
    listen: SocketAddr => "QUASM_LISTEN";
    /// Where embedded state lives: Postgres cluster, blobs, keys
    /// [default: /var/lib/quasm as root, else ~/.local/share/quasm].
    data_dir: PathBuf => "QUASM_DATA_DIR";
    /// External Postgres (libpq URL or key=value); without it Quasm runs its
    /// own cluster under the data directory.
    database_url: String => "QUASM_DATABASE_URL";
    /// Postgres connections per process [default: 16].
    database_pool_size: usize => "QUASM_DATABASE_POOL_SIZE";
    /// S3-compatible endpoint for bundles (e.g. http://127.0.0.1:8333);
    /// setting it or a bucket switches from the local blob directory to S3.
    s3_endpoint: String => "QUASM_S3_ENDPOINT";
    /// S3 bucket [default: quasm].
    s3_bucket: String => "QUASM_S3_BUCKET";
    /// S3 region [default: us-east-1].
    s3_region: String => "QUASM_S3_REGION";
    /// S3 access key id.
    s3_access_key_id: String => "QUASM_S3_ACCESS_KEY_ID";
    /// S3 secret access key.
    s3_secret_access_key: String => "QUASM_S3_SECRET_ACCESS_KEY";
    /// Bucket in the path instead of the host name [default: true].
    s3_path_style: bool => "QUASM_S3_PATH_STYLE", num_args = 0..=1, default_missing_value = "true";
    /// Key prefix inside the bucket.
    s3_prefix: String => "QUASM_S3_PREFIX";
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
    tls_cert: PathBuf => "QUASM_TLS_CERT";
    /// TLS private key (PEM).
    tls_key: PathBuf => "QUASM_TLS_KEY";
    /// Serve HTTPS with a self-signed certificate for localhost, generated
    /// once under the data directory.
    dev_tls: bool => "QUASM_DEV_TLS", num_args = 0..=1, default_missing_value = "true";
    /// HS256 secret for JWTs (at least 32 bytes); default: a key generated
    /// once in the data directory (what `quasm token create` signs with).
    jwt_hs256_secret: String => "QUASM_JWT_HS256_SECRET";
    /// PEM public keys accepted for RS256/ES256 JWTs (comma-separated).
    jwt_public_keys: String => "QUASM_JWT_PUBLIC_KEYS";
    /// A JWKS file of accepted public keys.
    jwt_jwks_file: PathBuf => "QUASM_JWT_JWKS_FILE";
    /// Required `iss` of JWTs.
    jwt_issuer: String => "QUASM_JWT_ISSUER";
    /// Required `aud` of JWTs.
    jwt_audience: String => "QUASM_JWT_AUDIENCE";
    /// The JWT claim holding the caller's permissions, passed to functions
    /// as `ctx.user.permissions` and to host services in binding tokens
    /// [default: permissions].
    jwt_permissions_claim: String => "QUASM_JWT_PERMISSIONS_CLAIM";
    /// Master key encrypting secrets at rest (64 hex characters); default:
    /// generated once in the data directory.
    master_key: String => "QUASM_MASTER_KEY";
    /// Requests per second per tenant (0 = unlimited) [default: 0].
    rate_limit_tenant_rps: u32 => "QUASM_RATE_LIMIT_TENANT_RPS";
    /// Requests per second per function (0 = unlimited) [default: 0].
    rate_limit_function_rps: u32 => "QUASM_RATE_LIMIT_FUNCTION_RPS";
    /// Requests per second per API key or client IP (0 = unlimited) [default: 0].
    rate_limit_client_rps: u32 => "QUASM_RATE_LIMIT_CLIENT_RPS";
    /// Invocations running at once per tenant [default: 1000].
    tenant_concurrency: usize => "QUASM_TENANT_CONCURRENCY";
    /// Invocations running at once per function [default: 500].
    function_concurrency: usize => "QUASM_FUNCTION_CONCURRENCY";
    /// How long a call over a concurrency quota waits before 429 [default: 1000].
    quota_wait_ms: u64 => "QUASM_QUOTA_WAIT_MS";
    /// Largest request body in bytes [default: 10485760].
    max_body_bytes: usize => "QUASM_MAX_BODY_BYTES";
    /// Days executions are kept unless a tenant sets its own [default: 30].
    retention_days: u32 => "QUASM_RETENTION_DAYS";
    /// Days a dead letter is kept before it is purged with its event
    /// (0 = until replayed or deleted) [default: 0].
    dead_letter_retention_days: u32 => "QUASM_DEAD_LETTER_RETENTION_DAYS";
    /// Networks (CIDR, comma-separated) functions may fetch despite the SSRF
    /// rules, e.g. 127.0.0.1/32 for a local test server. Off by default.
    fetch_allow_nets: String => "QUASM_FETCH_ALLOW_NETS";
    /// Seconds shutdown waits for requests in flight [default: 30].
    shutdown_grace_secs: u64 => "QUASM_SHUTDOWN_GRACE_SECS";
    /// Tokio worker threads [default: one per core].
    workers: usize => "QUASM_WORKERS";
    /// Threads that each accept, parse and run HTTP requests on a runtime
    /// of their own (one listener each, SO_REUSEPORT), so a request stays
    /// on one core; 0 serves on the shared runtime [default: 0].
    http_threads: usize => "QUASM_HTTP_THREADS";
    /// Seconds after its last heartbeat a node is presumed dead and its
    /// schedule slots, event deliveries and runs are taken over [default: 15].
    node_lease_secs: u64 => "QUASM_NODE_LEASE_SECS";
    /// Seconds late after which a cron slot counts as missed (no node was
    /// up); see a schedule's `catch_up` [default: 60].
    cron_grace_secs: u64 => "QUASM_CRON_GRACE_SECS";
    /// SMTP server for email alerts: smtp://host:port (plain; add
    /// ?tls=required for STARTTLS) or smtps://host, credentials as
    /// smtp://user:password@host. Without it, email alert channels are refused.
    smtp_url: String => "QUASM_SMTP_URL";
    /// Sender of alert emails [default: quasm@localhost].
    smtp_from: String => "QUASM_SMTP_FROM";
    /// Attempts per tenant webhook delivery before it fails [default: 16].
    webhook_max_attempts: i32 => "QUASM_WEBHOOK_MAX_ATTEMPTS";
    /// Wait after a webhook delivery's first failed attempt, doubling after
    /// each further one [default: 30000].
    webhook_backoff_initial_ms: i32 => "QUASM_WEBHOOK_BACKOFF_INITIAL_MS";
    /// Longest wait between two webhook attempts [default: 21600000 (6 h)].
    webhook_backoff_max_ms: i32 => "QUASM_WEBHOOK_BACKOFF_MAX_MS";
    /// Idle sandboxes kept hot (pages mapped, no page faults on their next
    /// call) across all functions [default: 64].
    sandbox_hot_max: usize => "QUASM_SANDBOX_HOT_MAX";
    /// Idle sandboxes kept across all functions, hot and parked (parked:
    /// memory given back, instance kept) [default: 2000].
    sandbox_idle_max: usize => "QUASM_SANDBOX_IDLE_MAX";
    /// Function versions kept loaded (their images); the least recently
    /// used beyond this load again on their next call [default: 2000].
    sandbox_versions_max: usize => "QUASM_SANDBOX_VERSIONS_MAX";
    /// Seconds a loaded function version may stay unused before it is
    /// dropped with its sandboxes [default: 300].
    sandbox_idle_ttl_secs: u64 => "QUASM_SANDBOX_IDLE_TTL_SECS";
    /// Busy function versions whose image is flattened into one file of its
    /// own (about 2 MiB each), which makes their fresh calls cheaper; 0
    /// turns this off [default: 16].
    sandbox_flat_max: usize => "QUASM_SANDBOX_FLAT_MAX";
}

impl Settings {
    /// Flags and env, then the TOML file named by `--config`/`QUASM_CONFIG`.
    pub fn load(self) -> anyhow::Result<Settings> {
        let Some(path) = self.config.clone() else { return Ok(self) };
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading config file {}", path.display()))?;
        let file: Settings = toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
        Ok(self.or(file))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(crate::cli::default_data_dir)
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir().join("keys")
    }

    /// Where the keys signing binding tokens live.
    pub fn binding_keys_dir(&self) -> PathBuf {
        self.keys_dir().join("bindings")
    }

    /// The sandbox pool's bounds: defaults with the `sandbox_*` settings over them.
    pub fn pool(&self) -> quasm_runtime::PoolConfig {
        let mut pool = quasm_runtime::PoolConfig::default();
        if let Some(v) = self.sandbox_hot_max {
            pool.max_hot_total = v;
        }
        if let Some(v) = self.sandbox_idle_max {
            pool.max_idle_total = v;
        }
        if let Some(v) = self.sandbox_versions_max {
            pool.max_versions = v.max(1);
        }
        if let Some(v) = self.sandbox_idle_ttl_secs {
            pool.idle_ttl = std::time::Duration::from_secs(v.max(1));
        }
        if let Some(v) = self.sandbox_flat_max {
            pool.max_flat_versions = v;
        }
        pool
    }

    /// The service bindings: the file's `[bindings.NAME]` tables, with
    /// `QUASM_BINDING_<NAME>_URL`, `_OPENAPI`, `_TIMEOUT_MS` and `_TENANTS`
    /// (comma-separated) variables over them, field by field. A variable
    /// for a binding the file lacks declares it.
    pub fn bindings(&self) -> anyhow::Result<BTreeMap<String, BindingConfig>> {
        bindings_with_env(self.bindings.clone(), std::env::vars())
    }

    /// The HS256 secret: configured, else the data directory's key
    /// (created on first use). The flag says whether it was just created.
    pub fn hs256_secret(&self) -> anyhow::Result<(Vec<u8>, bool)> {
        if let Some(s) = &self.jwt_hs256_secret {
            return Ok((s.as_bytes().to_vec(), false));
        }
        let dir = self.keys_dir();
        let existed = dir.join(quasm_gateway::auth::HS256_KEY_FILE).exists();
        let key = quasm_gateway::auth::load_or_create_hs256_secret(&dir)?;
        Ok((key, !existed))
    }

    pub fn jwt_config(&self, hs256: Vec<u8>) -> quasm_gateway::auth::JwtConfig {
        quasm_gateway::auth::JwtConfig {
            hs256_secret: Some(hs256),
            public_key_pems: self
                .jwt_public_keys
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect(),
            jwks_file: self.jwt_jwks_file.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway_secs: 30,
            permissions_claim: self.jwt_permissions_claim.clone(),
        }
    }

    pub fn fetch_allow_nets(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.fetch_allow_nets
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().with_context(|| format!("fetch_allow_nets: {s:?} is not a CIDR network")))
            .collect()
    }

    pub fn tls(&self) -> anyhow::Result<Option<quasm_gateway::tls::TlsSource>> {
        use quasm_gateway::tls::TlsSource;
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsSource::Files { cert: cert.clone(), key: key.clone() })),
            (Some(_), None) | (None, Some(_)) => anyhow::bail!("tls_cert and tls_key must be set together"),
            (None, None) if self.dev_tls == Some(true) => {
                let dir = self.data_dir().join("tls");
                Ok(Some(TlsSource::Dev { cert: dir.join("dev-cert.pem"), key: dir.join("dev-key.pem") }))
            }
            (None, None) => Ok(None),
        }
    }

    /// S3 when an endpoint or bucket is configured.
    pub fn s3(&self) -> Option<quasm_controller::blob::s3::S3Config> {
        if self.s3_endpoint.is_none() && self.s3_bucket.is_none() {
            return None;
        }
        Some(quasm_controller::blob::s3::S3Config {
            endpoint: self.s3_endpoint.clone(),
            bucket: self.s3_bucket.clone().unwrap_or_else(|| "quasm".into()),
            region: self.s3_region.clone().unwrap_or_else(|| "us-east-1".into()),
            access_key: self.s3_access_key_id.clone().unwrap_or_default(),
            secret_key: self.s3_secret_access_key.clone().unwrap_or_default(),
            path_style: self.s3_path_style.unwrap_or(true),
            prefix: self.s3_prefix.clone().unwrap_or_default(),
        })
    }

    /// Email alerts' SMTP server, when `smtp_url` is set.
    pub fn smtp(&self) -> Option<quasm_controller::alerts::SmtpConfig> {
        Some(quasm_controller::alerts::SmtpConfig {
            url: self.smtp_url.clone()?,
            from: self.smtp_from.clone().unwrap_or_else(|| "quasm@localhost".into()),
        })
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir().join("blobs")
    }
}

fn bindings_with_env(
    mut out: BTreeMap<String, BindingConfig>,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<BTreeMap<String, BindingConfig>> {
    const FIELDS: [&str; 4] = ["_URL", "_OPENAPI", "_TIMEOUT_MS", "_TENANTS"];
    for (key, value) in vars {
        let Some(rest) = key.strip_prefix("QUASM_BINDING_") else { continue };
        let Some((name, field)) = FIELDS.iter().find_map(|f| rest.strip_suffix(f).map(|n| (n, *f))) else {
            anyhow::bail!("{key}: expected QUASM_BINDING_<NAME>_URL, _OPENAPI, _TIMEOUT_MS or _TENANTS");
        };
        let b = out.entry(name.to_owned()).or_default();
        match field {
            "_URL" => b.url = value,
            "_OPENAPI" => b.openapi = Some(value.into()),
            "_TIMEOUT_MS" => b.timeout_ms = Some(value.parse().with_context(|| format!("{key}: not a number"))?),
            _ => {
                b.tenants = Some(value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            }
        }
    }
    for (name, b) in &out {
        if b.url.is_empty() {
            anyhow::bail!("binding {name}: url is missing (bindings.{name}.url or QUASM_BINDING_{name}_URL)");
        }
    }
    Ok(out)
}

/// Parses `30s`, `15m`, `12h`, `7d` (and combinations like `1h30m`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s:?} is not a duration like 30m, 12h or 7d: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        s: Settings,
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("quasm.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/from-file\"\nretention_days = 7\n")
            .unwrap();
        let t = T::try_parse_from(["x", "--config", file.to_str().unwrap(), "--data-dir", "/tmp/from-flag"]).unwrap();
        let s = t.s.load().unwrap();
        assert_eq!(s.data_dir(), Path::new("/tmp/from-flag"));
        assert_eq!(s.listen, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(s.retention_days, Some(7));
        assert_eq!(s.rate_limit_tenant_rps, None);
    }

    #[test]
    fn unknown_file_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("quasm.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        let t = T::try_parse_from(["x", "--config", file.to_str().unwrap()]).unwrap();
        let e = format!("{:#}", t.s.load().unwrap_err());
        assert!(e.contains("unknown field `listne`"), "{e}");
    }

    #[test]
    fn bindings_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("quasm.toml");
        std::fs::write(
            &file,
            "[bindings.HOST]\nurl = \"http://127.0.0.1:9000/api\"\ntimeout_ms = 2000\ntenants = [\"acme\"]\n",
        )
        .unwrap();
        let t = T::try_parse_from(["x", "--config", file.to_str().unwrap()]).unwrap();
        let s = t.s.load().unwrap();
        let vars = [
            ("QUASM_BINDING_HOST_TENANTS", "acme, beta"),
            ("QUASM_BINDING_MAIL_SERVICE_URL", "http://mail.internal"),
            ("QUASM_OTHER", "ignored"),
        ];
        let b =
            bindings_with_env(s.bindings.clone(), vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        assert_eq!(b["HOST"].url, "http://127.0.0.1:9000/api");
        assert_eq!(b["HOST"].timeout_ms, Some(2000));
        assert_eq!(b["HOST"].tenants.as_deref(), Some(&["acme".to_owned(), "beta".to_owned()][..]), "env wins");
        assert_eq!(b["MAIL_SERVICE"].url, "http://mail.internal");
        let bad = [("QUASM_BINDING_HOST_COLOR", "red")];
        let e = bindings_with_env(BTreeMap::new(), bad.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert!(e.unwrap_err().to_string().contains("QUASM_BINDING_HOST_COLOR"));
        let partial = [("QUASM_BINDING_X_TIMEOUT_MS", "5")];
        let e = bindings_with_env(BTreeMap::new(), partial.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert!(e.unwrap_err().to_string().contains("binding X: url is missing"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 43_200);
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
    }
}
