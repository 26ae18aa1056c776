//! `quasm bench bindings`: what a service binding adds over a plain
//! `fetch()` of the same local server — path checks, a signed token per
//! request (Ed25519), the extra headers. Both go to a minimal HTTP/1.1
//! server on 127.0.0.1 (keep-alive), one call per invocation, sequentially.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use quasm_runtime::host::bindings::keys::KeyRing;
use quasm_runtime::{
    BindingConfig, Bindings, FunctionSpec, HandlerKind, InvocationContext, InvokeRequest, NetPolicy, Runtime,
    RuntimeConfig, Status,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::percentile;

const CALLER: &str = r#"export default {
  async run(input, env) {
    const r = input.binding ? await env.HOST.fetch("/ping") : await fetch(input.url);
    await r.text();
    return r.status;
  },
};"#;

/// Answers `200 ok` to every request on a kept-alive connection.
async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut have = 0;
            loop {
                let Ok(n) = stream.read(&mut buf[have..]).await else { return };
                if n == 0 {
                    return;
                }
                have += n;
                // Requests here have no body: each ends with a blank line.
                while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                    buf.copy_within(end + 4..have, 0);
                    have -= end + 4;
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
                    if stream.write_all(reply).await.is_err() {
                        return;
                    }
                }
                if have == buf.len() {
                    return;
                }
            }
        });
    }
}

pub fn measure(calls: usize) -> anyhow::Result<Value> {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let listener = tokio.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    tokio.spawn(serve(listener));

    let mut configs = BTreeMap::new();
    configs
        .insert("HOST".to_owned(), BindingConfig { url: format!("http://127.0.0.1:{port}/api"), ..Default::default() });
    let bindings = Bindings::new(&configs, Arc::new(KeyRing::ephemeral()?))?;
    let rt = Runtime::new(RuntimeConfig {
        net: NetPolicy { allowed_addrs: vec!["127.0.0.1/32".parse()?] },
        bindings: Arc::new(bindings),
        ..Default::default()
    })?;
    let spec = FunctionSpec::new("bench/bindings/1", rt.compile(CALLER, "caller.js")?);
    let url = format!("http://127.0.0.1:{port}/api/ping");
    let request = |binding: bool| InvokeRequest {
        kind: Some(HandlerKind::Run),
        input: json!({ "binding": binding, "url": url }),
        ctx: InvocationContext {
            invocation_id: "0190b5a4-0000-7000-8000-000000000001".into(),
            tenant: "bench".into(),
            function: "caller".into(),
            trigger: "bench".into(),
            ..Default::default()
        },
        bindings: vec!["HOST".into()],
        ..Default::default()
    };
    let series = |binding: bool| -> anyhow::Result<Vec<f64>> {
        for _ in 0..calls / 10 {
            tokio.block_on(rt.invoke(&spec, request(binding)));
        }
        let mut samples = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            let r = tokio.block_on(rt.invoke(&spec, request(binding)));
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            anyhow::ensure!(r.status == Status::Ok, "benchmark call failed: {:?}", r.error);
        }
        samples.sort_by(f64::total_cmp);
        Ok(samples)
    };
    // Interleaved halves, so drift (other load, CPU frequency) hits both.
    let (mut plain, mut binding) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        plain.extend(series(false)?);
        binding.extend(series(true)?);
    }
    plain.sort_by(f64::total_cmp);
    binding.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let r1 = |x: f64| (x * 10.0).round() / 10.0;
    Ok(json!({
        "calls_each": plain.len(),
        "fetch_p50_us": r1(percentile(&plain, 0.5)),
        "fetch_p99_us": r1(percentile(&plain, 0.99)),
        "binding_p50_us": r1(percentile(&binding, 0.5)),
        "binding_p99_us": r1(percentile(&binding, 0.99)),
        "added_p50_us": r1(percentile(&binding, 0.5) - percentile(&plain, 0.5)),
        "added_mean_us": r1(mean(&binding) - mean(&plain)),
    }))
}
