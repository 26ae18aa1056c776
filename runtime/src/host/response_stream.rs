//! Streaming a fetch handler's response to the client while the function
//! writes it (server-sent events, large downloads), as Workers does. When a
//! handler returns a Response whose body is a stream, the prelude calls
//! `response.start` with the head: the invocation's observer (the gateway's
//! public route) says whether it can stream. If it can, the prelude sends
//! each body chunk with `response.chunk`; otherwise it reads the body to
//! the end and returns it whole, as before. The function's output limit
//! bounds the bytes streamed, its time limit how long it streams.

use serde::Deserialize;

use super::{parse, Invocation};

/// A streamed response's status line and headers, sent before its body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResponseHead {
    pub status: u16,
    #[serde(rename = "statusText", default)]
    pub status_text: String,
    pub headers: Vec<(String, String)>,
}

/// Why a chunk did not reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client closed the connection")]
pub struct ClientGone;

/// `response.start`: `"1"` when the body is to stream, `"0"` when the
/// prelude must return it whole (nobody streams it: the invoke API, runs).
pub(super) fn start(inv: &mut Invocation, arg: &[u8]) -> Result<Vec<u8>, String> {
    let head: ResponseHead = parse(arg)?;
    if inv.streamed_bytes.is_some() {
        return Err("the response is already streaming".into());
    }
    let streams = inv.observer.as_ref().is_some_and(|o| o.response_head(head));
    if streams {
        inv.streamed_bytes = Some(0);
    }
    Ok(if streams { b"1".to_vec() } else { b"0".to_vec() })
}

/// `response.chunk`: `"1"` when the chunk went out, `"0"` when the client
/// has gone (the prelude then cancels the body stream and ends quietly).
pub(super) fn chunk(inv: &mut Invocation, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let limit = inv.limits.max_output_bytes;
    let Some(sent) = inv.streamed_bytes.as_mut() else {
        return Err("response.chunk before response.start".into());
    };
    if *sent + bytes.len() > limit {
        return Err(format!("the streamed response exceeds the {limit} byte output limit"));
    }
    *sent += bytes.len();
    let delivered = match &inv.observer {
        Some(o) => o.response_chunk(bytes).is_ok(),
        None => false,
    };
    Ok(if delivered { b"1".to_vec() } else { b"0".to_vec() })
}
