//! `quasm run FILE`: runs a function once, prints the result as JSON and
//! exits non-zero unless it succeeded.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use quasm_runtime::{
    FunctionSpec, HandlerKind, HttpRequest, InvocationContext, InvokeRequest, Limits, NetPolicy, RuntimeError, Status,
};

#[derive(clap::Args)]
pub struct RunArgs {
    /// The function's ES module.
    file: PathBuf,
    /// Input as JSON (the event object for scheduled/event handlers).
    #[arg(long, default_value = "null")]
    input: String,
    /// Which handler to call.
    #[arg(long, default_value = "run")]
    handler: HandlerKind,
    /// For --handler fetch: the request URL.
    #[arg(long, default_value = "http://localhost/")]
    url: String,
    /// For --handler fetch: the request method.
    #[arg(long, default_value = "GET")]
    method: String,
    #[arg(long)]
    timeout_ms: Option<u64>,
    #[arg(long)]
    memory_mb: Option<u32>,
    /// Environment variables visible as `env.K` (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Allow outbound fetch to these otherwise forbidden networks (CIDR),
    /// e.g. 127.0.0.1/32 for a local test server.
    #[arg(long = "allow-net", value_name = "CIDR", env = "QUASM_FETCH_ALLOW_NETS", value_delimiter = ',')]
    allow_net: Vec<ipnet::IpNet>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let input: serde_json::Value = serde_json::from_str(&args.input).context("--input is not valid JSON")?;
    let mut env = BTreeMap::new();
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else { bail!("--env {kv:?} is not K=V") };
        env.insert(k.to_owned(), v.to_owned());
    }
    let rt = super::local_runtime(NetPolicy { allowed_addrs: args.allow_net.clone() })?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "function.js".into());
    let bytecode = match rt.compile(&source, &name) {
        Ok(b) => b,
        Err(RuntimeError::Compile(e)) => {
            let out = serde_json::json!({
                "status": "error",
                "error": {"name": "SyntaxError", "message": e.message, "line": e.line, "column": e.column},
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let mut spec = FunctionSpec::new("local/cli/1", bytecode);
    let mut limits = Limits::default();
    if let Some(t) = args.timeout_ms {
        limits.timeout_ms = t;
    }
    if let Some(m) = args.memory_mb {
        limits.memory_mb = m;
    }
    rt.maxima().validate(&limits).map_err(anyhow::Error::msg)?;
    spec.limits = limits;
    let request = (args.handler == HandlerKind::Fetch).then(|| HttpRequest {
        method: args.method.clone(),
        url: args.url.clone(),
        headers: Vec::new(),
        body: Vec::new(),
    });
    let req = InvokeRequest {
        kind: Some(args.handler),
        input,
        request,
        env,
        ctx: InvocationContext {
            invocation_id: "cli".into(),
            tenant: "local".into(),
            function: name,
            version: 1,
            trigger: "cli".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = tokio.block_on(rt.invoke(&spec, req));
    let mut out = serde_json::to_value(&result)?;
    if let Some(resp) = &result.response {
        out["response"]["body"] = match std::str::from_utf8(&resp.body) {
            Ok(s) => s.into(),
            Err(_) => {
                use base64::Engine as _;
                serde_json::json!({"base64": base64::engine::general_purpose::STANDARD.encode(&resp.body)})
            }
        };
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(if result.status == Status::Ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
