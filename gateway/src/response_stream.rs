//! Streamed function responses on public routes. The route's call carries
//! an observer; when the function's `fetch` handler returns a Response
//! with a stream body, the runtime hands the observer its head, then each
//! chunk as the function writes it, and the client gets them at once
//! (server-sent events, large downloads). A function that fails or times
//! out mid-stream cuts the connection rather than end the body cleanly.
//! Responses with whole bodies never pay for a task or a channel hop.

use std::sync::Arc;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use quasm_controller::{Call, Controller, Outcome};
use quasm_runtime::{ClientGone, InvocationObserver, ResponseHead, Status};
use tokio::sync::mpsc;

use crate::problem::{streamed_or_aborted, Aborted, Problem, Resp};

enum Part {
    Head(ResponseHead),
    Chunk(Bytes),
    /// The invocation ended (sent by the task that runs it once streaming).
    End(Box<Result<Outcome, Problem>>),
}

/// The observer the runtime streams through.
struct Streamer {
    tx: mpsc::UnboundedSender<Part>,
}

impl InvocationObserver for Streamer {
    fn response_head(&self, head: ResponseHead) -> bool {
        self.tx.send(Part::Head(head)).is_ok()
    }

    fn response_chunk(&self, chunk: &[u8]) -> Result<(), ClientGone> {
        // Bounded by the function's output limit, which the runtime checks
        // before each chunk; a slow client costs memory up to that much.
        self.tx.send(Part::Chunk(Bytes::copy_from_slice(chunk))).map_err(|_| ClientGone)
    }
}

/// How a route's invocation answered.
pub(crate) enum Answer {
    /// It ended without streaming: its outcome, as the invoke API has it.
    Whole(Outcome),
    /// Its response is streaming: status and headers are known, the body
    /// follows as the function writes it.
    Streaming(Resp),
}

/// Runs `call`, streaming its response if the function streams one.
pub(crate) async fn invoke(controller: &Arc<Controller>, mut call: Call) -> Result<Answer, Problem> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    call.observer = Some(Arc::new(Streamer { tx: tx.clone() }));
    let c = controller.clone();
    let mut run = Box::pin(async move { c.invoker.invoke(call).await.map_err(Problem::from) });
    let head = tokio::select! {
        // A head that arrived with the end still streams (a short stream).
        biased;
        Some(Part::Head(head)) = rx.recv() => head,
        out = &mut run => {
            return match rx.try_recv() {
                Ok(Part::Head(head)) => {
                    let _ = tx.send(Part::End(Box::new(out)));
                    Ok(Answer::Streaming(respond(head, rx)?))
                }
                _ => out.map(Answer::Whole),
            };
        }
    };
    // From here the invocation runs on its own task, the body on hyper's.
    tokio::spawn(async move {
        let out = run.await;
        let _ = tx.send(Part::End(Box::new(out)));
    });
    Ok(Answer::Streaming(respond(head, rx)?))
}

fn respond(head: ResponseHead, rx: mpsc::UnboundedReceiver<Part>) -> Result<Resp, Problem> {
    let mut b = Response::builder().status(StatusCode::from_u16(head.status).unwrap_or(StatusCode::OK));
    for (k, v) in &head.headers {
        if !crate::public::hop_by_hop(&k.to_ascii_lowercase()) {
            b = b.header(k, v);
        }
    }
    let body = futures::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await? {
            Part::Chunk(bytes) => Some((Ok(bytes), Some(rx))),
            Part::End(end) => match *end {
                Ok(out) if out.result.status == Status::Ok => None,
                Ok(out) => {
                    let why = format!("the function ended with status {} mid-stream", out.result.status.as_str());
                    Some((Err(Aborted(why)), None))
                }
                Err(p) => Some((Err(Aborted(p.message)), None)),
            },
            // Only one head is ever sent.
            Part::Head(_) => Some((Err(Aborted("a second response head".into())), None)),
        }
    });
    b.body(streamed_or_aborted(body)).map_err(|e| {
        Problem::new(StatusCode::BAD_GATEWAY, "invalid_response", format!("the function's response is invalid: {e}"))
    })
}
