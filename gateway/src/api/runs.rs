//! Manual runs: start a function's `run` handler in the background, watch
//! its logs and progress as server-sent events, cancel it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use quasm_controller::executions::Execution;
use quasm_controller::live::LiveEvent;
use quasm_controller::{Call, Controller, Trigger};
use quasm_runtime::HandlerKind;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use super::Ctx;
use crate::auth::Role;
use crate::problem::{json, streamed, Problem, Resp};

#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    #[serde(default)]
    input: serde_json::Value,
}

/// `POST /functions/{name}/runs`: 202 with the execution id at once.
pub async fn start(ctx: &mut Ctx<'_>, function: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let bytes = ctx.body().await?;
    let req: RunBody =
        if bytes.is_empty() { RunBody::default() } else { crate::body::json_with_user_data(&bytes, &["input"])? };
    let mut call = Call::new(ctx.tenant(), function, Trigger::Manual);
    call.handler = Some(HandlerKind::Run);
    call.input = req.input;
    call.trigger_ref = Some(ctx.principal.subject.clone());
    let id = ctx.gw.controller.invoke_async(call).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "execution_id": id,
            "status": "queued",
            "stream": format!("/api/v1/executions/{id}/stream"),
        }),
    ))
}

fn execution_id(id: &str) -> Result<Uuid, Problem> {
    id.parse().map_err(|_| Problem::invalid("id", format!("id: {id:?} is not an execution id")))
}

/// `POST /executions/{id}/cancel`.
pub async fn cancel(ctx: &Ctx<'_>, id: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let accepted = ctx.gw.controller.cancel_execution(ctx.tenant(), execution_id(id)?).await?;
    Ok(json(StatusCode::ACCEPTED, &accepted))
}

/// `GET /executions/{id}/stream`: server-sent events until the execution
/// ends. Events: `status` (once, the status when the stream opened), `log`
/// and `progress` while it runs, `end` (the final record, without logs).
/// Runs on another node are followed by polling their record, so their
/// logs arrive with the `end` event rather than live.
pub async fn stream(ctx: &Ctx<'_>, id: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    let id = execution_id(id)?;
    let controller = ctx.gw.controller.clone();
    let tenant = ctx.tenant().to_owned();
    let first = controller.get_execution(&tenant, id).await?;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let sse = Sse { tx };
        if let Err(Gone) = follow(&controller, &tenant, id, first, &sse).await {
            tracing::debug!(execution = %id, "stream closed by the client");
        }
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|b| (b, rx)) });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("x-accel-buffering", "no")
        .body(streamed(chunks))
        .expect("valid response"))
}

/// The client went away.
struct Gone;

struct Sse {
    tx: mpsc::Sender<Bytes>,
}

impl Sse {
    async fn send(&self, event: &str, data: &impl serde::Serialize) -> Result<(), Gone> {
        let data = serde_json::to_string(data).expect("events serialise");
        self.tx.send(Bytes::from(format!("event: {event}\ndata: {data}\n\n"))).await.map_err(|_| Gone)
    }

    async fn live(&self, e: &LiveEvent) -> Result<(), Gone> {
        match e {
            LiveEvent::Log(entry) => self.send("log", entry).await,
            LiveEvent::Progress { percent, message } => {
                self.send("progress", &serde_json::json!({"percent": percent, "message": message})).await
            }
        }
    }

    async fn keep_alive(&self) -> Result<(), Gone> {
        self.tx.send(Bytes::from_static(b": keep-alive\n\n")).await.map_err(|_| Gone)
    }

    /// The recorded logs (when they were not streamed live), then `end`.
    async fn end(&self, mut e: Execution, with_logs: bool) -> Result<(), Gone> {
        if with_logs {
            if let Some(serde_json::Value::Array(logs)) = e.logs.take() {
                for entry in logs {
                    self.send("log", &entry).await?;
                }
            }
        }
        e.logs = None;
        self.send("end", &e).await
    }
}

fn finished(e: &Execution) -> bool {
    e.status != "queued" && e.status != "running"
}

const KEEP_ALIVE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(250);

async fn follow(c: &Arc<Controller>, tenant: &str, id: Uuid, first: Execution, sse: &Sse) -> Result<(), Gone> {
    if finished(&first) {
        return sse.end(first, true).await;
    }
    sse.send("status", &serde_json::json!({"status": first.status})).await?;
    if let Some((history, mut events)) = c.live().watch(id) {
        for e in &history {
            sse.live(e).await?;
        }
        loop {
            tokio::select! {
                r = events.recv() => match r {
                    Ok(e) => sse.live(&e).await?,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        sse.send("lagged", &serde_json::json!({"skipped": n})).await?
                    }
                    // The run ended; its final record is written.
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tokio::time::sleep(KEEP_ALIVE) => sse.keep_alive().await?,
                _ = sse.tx.closed() => return Err(Gone),
                _ = c.stopping().cancelled() => return Ok(()),
            }
        }
        return match c.get_execution(tenant, id).await {
            Ok(e) => sse.end(e, false).await,
            Err(e) => sse.send("error", &serde_json::json!({"message": e.to_string()})).await,
        };
    }
    // Not running here: follow its record.
    let mut quiet = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = sse.tx.closed() => return Err(Gone),
            _ = c.stopping().cancelled() => return Ok(()),
        }
        match c.get_execution(tenant, id).await {
            Ok(e) if finished(&e) => return sse.end(e, true).await,
            Ok(_) => {}
            Err(e) => return sse.send("error", &serde_json::json!({"message": e.to_string()})).await,
        }
        quiet += POLL;
        if quiet >= KEEP_ALIVE {
            quiet = Duration::ZERO;
            sse.keep_alive().await?;
        }
    }
}
