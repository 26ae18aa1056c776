//! Manual runs: start a function's `run` handler in the background, watch
//! its logs and progress as server-sent events, cancel it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use quasm_controller::executions::Execution;
use quasm_controller::live::{LiveEvent, Position, Stamped};
use quasm_controller::{Call, Controller};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use super::Ctx;
use crate::problem::{json, streamed, Problem, Resp};

#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    #[serde(default)]
    input: serde_json::Value,
}

/// `POST /functions/{name}/runs`: 202 with the execution id at once.
pub async fn start(ctx: &mut Ctx, function: &str) -> Result<Resp, Problem> {
    let bytes = ctx.body().await?;
    let req: RunBody =
        if bytes.is_empty() { RunBody::default() } else { crate::body::json_with_user_data(&bytes, &["input"])? };
    let call = Call::manual(ctx.tenant(), function, ctx.principal.user(), req.input);
    let id = ctx.gw.controller.invoker.invoke_async(call).await?;
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
pub async fn cancel(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let accepted = ctx.gw.controller.executions.cancel(ctx.tenant(), execution_id(id)?).await?;
    Ok(json(StatusCode::ACCEPTED, &accepted))
}

/// `GET /executions/{id}/stream`: server-sent events until the execution
/// ends. Events: `status` (once, the status when the stream opened), `log`
/// and `progress` while it runs, `end` (the final record, without logs).
/// Runs on another node are followed by polling their record, so their
/// logs arrive with the `end` event rather than live.
///
/// Every `status`, `log` and `progress` event has an `id:` of the form
/// `<logs>.<progress>`: how many logs and progress updates the client has
/// received once it has this event. A client that reconnects with that
/// id as `Last-Event-ID` gets what follows it, neither less nor more (and
/// no second `status`): from the live run, or, once the run is over, from
/// the logs of its record.
pub async fn stream(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let id = execution_id(id)?;
    let resume = last_event_id(&ctx.headers)?;
    let controller = ctx.gw.controller.clone();
    let tenant = ctx.tenant().to_owned();
    let first = controller.executions.get(&tenant, id).await?;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut sse = Sse { tx, sent: resume.unwrap_or_default() };
        if let Err(Gone) = follow(&controller, &tenant, id, first, &mut sse, resume.is_some()).await {
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

/// `Last-Event-ID: <logs>.<progress>`, as sent in our own `id:` lines.
fn last_event_id(headers: &hyper::HeaderMap) -> Result<Option<Position>, Problem> {
    let Some(value) = headers.get("last-event-id") else { return Ok(None) };
    let bad = || {
        Problem::invalid(
            "Last-Event-ID",
            format!("Last-Event-ID: {value:?} is not an id of this stream (<logs>.<progress>, e.g. \"3.1\")"),
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (logs, progress) = text.split_once('.').ok_or_else(bad)?;
    Ok(Some(Position { logs: logs.parse().map_err(|_| bad())?, progress: progress.parse().map_err(|_| bad())? }))
}

/// The client went away.
struct Gone;

struct Sse {
    tx: mpsc::Sender<Bytes>,
    /// Position after the last event the client has.
    sent: Position,
}

impl Sse {
    async fn send(&self, event: &str, data: &impl serde::Serialize) -> Result<(), Gone> {
        self.write(format!("event: {event}\ndata: {}\n\n", serde_json::to_string(data).expect("events serialise")))
            .await
    }

    /// An event the client may resume after.
    async fn send_at(&mut self, event: &str, data: &impl serde::Serialize, at: Position) -> Result<(), Gone> {
        let data = serde_json::to_string(data).expect("events serialise");
        self.write(format!("id: {}.{}\nevent: {event}\ndata: {data}\n\n", at.logs, at.progress)).await?;
        self.sent = at;
        Ok(())
    }

    async fn write(&self, text: String) -> Result<(), Gone> {
        self.tx.send(Bytes::from(text)).await.map_err(|_| Gone)
    }

    /// Sends `e` unless the client has it; says `lagged` first when events
    /// between the last one sent and `e` are gone.
    async fn live(&mut self, e: &Stamped) -> Result<(), Gone> {
        let seq = e.at.seq();
        if seq <= self.sent.seq() {
            return Ok(());
        }
        if seq > self.sent.seq() + 1 {
            let before = match e.event {
                LiveEvent::Log(_) => Position { logs: e.at.logs - 1, ..e.at },
                LiveEvent::Progress { .. } => Position { progress: e.at.progress - 1, ..e.at },
            };
            let skipped = before.seq() - self.sent.seq();
            self.send_at("lagged", &serde_json::json!({ "skipped": skipped }), before).await?;
        }
        match &e.event {
            LiveEvent::Log(entry) => self.send_at("log", entry, e.at).await,
            LiveEvent::Progress { percent, message } => {
                self.send_at("progress", &serde_json::json!({"percent": percent, "message": message}), e.at).await
            }
        }
    }

    async fn keep_alive(&self) -> Result<(), Gone> {
        self.tx.send(Bytes::from_static(b": keep-alive\n\n")).await.map_err(|_| Gone)
    }

    /// The recorded logs the client does not have yet (when they were not
    /// streamed live), then `end`.
    async fn end(&mut self, mut e: Execution, with_logs: bool) -> Result<(), Gone> {
        if with_logs {
            if let Some(serde_json::Value::Array(logs)) = e.logs.take() {
                let progress = self.sent.progress;
                for (n, entry) in (1u64..).zip(logs) {
                    if n > self.sent.logs {
                        self.send_at("log", &entry, Position { logs: n, progress }).await?;
                    }
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

async fn follow(
    c: &Arc<Controller>,
    tenant: &str,
    id: Uuid,
    first: Execution,
    sse: &mut Sse,
    resumed: bool,
) -> Result<(), Gone> {
    if finished(&first) {
        return sse.end(first, true).await;
    }
    if !resumed {
        let at = sse.sent;
        sse.send_at("status", &serde_json::json!({"status": first.status}), at).await?;
    }
    if let Some(mut watch) = c.executions.live().watch(id) {
        for e in &watch.history {
            sse.live(e).await?;
        }
        loop {
            tokio::select! {
                r = watch.events.recv() => match r {
                    Ok(e) => sse.live(&e).await?,
                    // Catch up from the kept events; what is not kept is
                    // reported by `live` as `lagged`.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for e in watch.kept_after(sse.sent.seq()) {
                            sse.live(&e).await?;
                        }
                    }
                    // The run ended; its final record is written.
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tokio::time::sleep(KEEP_ALIVE) => sse.keep_alive().await?,
                _ = sse.tx.closed() => return Err(Gone),
                _ = c.stopping().cancelled() => return Ok(()),
            }
        }
        return match c.executions.get(tenant, id).await {
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
        match c.executions.get(tenant, id).await {
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
