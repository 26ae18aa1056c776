//! `quasm serve`: every role in one process. Starts (or connects to)
//! Postgres and migrates it, opens the blob store, loads the keys, and
//! serves the gateway until SIGINT/SIGTERM, then drains gracefully.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use quasm_controller::blob::{fs::FsBlobStore, s3::S3BlobStore, BlobStore};
use quasm_controller::secrets::SecretBox;
use quasm_controller::store::{self, embedded::EmbeddedPostgres, migrate};
use quasm_controller::{Controller, ControllerConfig};
use quasm_gateway::{Gateway, GatewayConfig};

use crate::config::Settings;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let s = args.settings.load()?;
    let data_dir = s.data_dir();
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
    // The embedded cluster starts before the async runtime: pg_ctl blocks.
    let (db_url, embedded) = match &s.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let pg = EmbeddedPostgres::start(&data_dir.join("postgres"))?;
            (pg.url(), Some(pg))
        }
    };
    let mut tokio = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = s.workers {
        tokio.worker_threads(n.max(1));
    }
    let tokio = tokio.enable_all().build()?;
    let result = tokio.block_on(run(&s, db_url));
    // Background tasks (change listener, recorder) end before their
    // database does, rather than complaining about it going away.
    tokio.shutdown_timeout(Duration::from_secs(5));
    if let Some(pg) = embedded {
        if let Err(e) = pg.stop() {
            tracing::warn!("stopping the embedded Postgres: {e}");
        }
    }
    result
}

async fn run(s: &Settings, db_url: String) -> anyhow::Result<ExitCode> {
    let pool = store::pool(&db_url, s.database_pool_size.unwrap_or(16))?;
    {
        let mut c = store::connect(&pool).await.context("connecting to Postgres")?;
        let applied = migrate::migrate(&mut c).await?;
        if !applied.is_empty() {
            tracing::info!("applied migrations {applied:?}");
        }
    }
    let blobs: Arc<dyn BlobStore> = match s.s3() {
        Some(cfg) => {
            let store = S3BlobStore::new(&cfg);
            store.ensure_bucket().await.with_context(|| format!("S3 bucket {:?}", cfg.bucket))?;
            Arc::new(store)
        }
        None => Arc::new(
            FsBlobStore::new(&s.blob_dir()).with_context(|| format!("blob directory {}", s.blob_dir().display()))?,
        ),
    };
    let secrets = match &s.master_key {
        Some(k) => SecretBox::from_hex(k)?,
        None => SecretBox::load_or_create(&s.keys_dir().join("master.key"))?,
    };
    let (hs256, new_key) = s.hs256_secret()?;
    let jwt = quasm_gateway::auth::JwtVerifier::new(&s.jwt_config(hs256))?;

    let binding_keys = quasm_runtime::host::bindings::keys::KeyRing::open(&s.binding_keys_dir())?;
    let bindings = quasm_runtime::Bindings::new(&s.bindings()?, Arc::new(binding_keys))?;
    let runtime_config = quasm_runtime::RuntimeConfig {
        net: quasm_runtime::NetPolicy { allowed_addrs: s.fetch_allow_nets()? },
        bindings: Arc::new(bindings),
        pool: s.pool(),
        ..Default::default()
    };
    let runtime = Arc::new(tokio::task::spawn_blocking(move || quasm_runtime::Runtime::new(runtime_config)).await??);
    runtime.pool().spawn_sweeper();
    let mut cc = ControllerConfig::default();
    if let Some(v) = s.tenant_concurrency {
        cc.quotas.tenant_concurrency = v;
    }
    if let Some(v) = s.function_concurrency {
        cc.quotas.function_concurrency = v;
    }
    if let Some(v) = s.quota_wait_ms {
        cc.quotas.max_wait_ms = v;
    }
    if let Some(v) = s.retention_days {
        cc.default_retention_days = v;
    }
    if let Some(v) = s.dead_letter_retention_days {
        cc.dead_letter_retention_days = v;
    }
    if let Some(v) = s.node_lease_secs {
        cc.node_lease = Duration::from_secs(v.max(1));
    }
    if let Some(v) = s.cron_grace_secs {
        cc.cron_grace = Duration::from_secs(v.max(1));
    }
    cc.smtp = s.smtp();
    if let Some(v) = s.webhook_max_attempts {
        cc.webhooks.max_attempts = v.clamp(1, 100);
    }
    if let Some(v) = s.webhook_backoff_initial_ms {
        cc.webhooks.backoff.initial_ms = v.max(1);
    }
    if let Some(v) = s.webhook_backoff_max_ms {
        cc.webhooks.backoff.max_ms = v.max(1);
    }
    cc.webhooks.backoff.max_ms = cc.webhooks.backoff.max_ms.max(cc.webhooks.backoff.initial_ms);
    let controller = Controller::start(pool, db_url, blobs, runtime, secrets, cc).await?;
    let defaults = GatewayConfig::default();
    let gw_config = GatewayConfig {
        listen: s.listen.unwrap_or(defaults.listen),
        tls: s.tls()?,
        max_body_bytes: s.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        rate_limits: quasm_gateway::ratelimit::RateLimitConfig {
            tenant_rps: s.rate_limit_tenant_rps.unwrap_or(0),
            function_rps: s.rate_limit_function_rps.unwrap_or(0),
            client_rps: s.rate_limit_client_rps.unwrap_or(0),
            burst_seconds: None,
        },
        shutdown_grace: s.shutdown_grace_secs.map(Duration::from_secs).unwrap_or(defaults.shutdown_grace),
        http_threads: s.http_threads.unwrap_or(defaults.http_threads),
    };
    let scheme = if gw_config.tls.is_some() { "https" } else { "http" };
    let dev_cert = matches!(gw_config.tls, Some(quasm_gateway::tls::TlsSource::Dev { .. }));
    let server =
        quasm_gateway::serve(Gateway::new(controller, jwt, gw_config)).await.context("starting the listener")?;
    eprintln!("quasm listening on {scheme}://{}", server.local_addr);
    if dev_cert {
        eprintln!("development TLS certificate: {}", quasm_gateway::dev_cert_path(&s.data_dir()).display());
    }
    if new_key {
        let dd = s.data_dir();
        eprintln!(
            "first start: get an admin token with\n  quasm token create --tenant default --role admin --data-dir {}",
            dd.display()
        );
        eprintln!("console: {scheme}://{}/ (sign in with that token)", server.local_addr);
    }
    shutdown_signal().await;
    eprintln!("shutting down: draining requests in flight");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
