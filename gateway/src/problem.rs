//! The one place errors become HTTP: `{"error": {"code", "message",
//! "details"}}` with the right status (and `Retry-After` on 429).

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};
use quasm_controller::ControllerError;

use crate::auth::{AuthError, Role};

/// A response body: whole (almost every response, no allocation for the
/// body itself) or streamed (server-sent events, streamed function
/// responses).
pub type Body = Either<Full<Bytes>, UnsyncBoxBody<Bytes, Aborted>>;

/// A streamed body that stopped before its end: the client sees the
/// connection cut, never a clean end of a truncated body.
#[derive(Debug, thiserror::Error)]
#[error("response stream aborted: {0}")]
pub struct Aborted(pub String);

pub type Resp = Response<Body>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(bytes.into()))
}

/// A body streamed from `chunks`.
pub fn streamed(chunks: impl futures::Stream<Item = Bytes> + Send + 'static) -> Body {
    use futures::StreamExt;
    streamed_or_aborted(chunks.map(Ok))
}

/// A body streamed from `chunks` that may stop with an error.
pub fn streamed_or_aborted(chunks: impl futures::Stream<Item = Result<Bytes, Aborted>> + Send + 'static) -> Body {
    use futures::TryStreamExt;
    Either::Right(UnsyncBoxBody::new(StreamBody::new(chunks.map_ok(Frame::data))))
}

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: serde_json::Value,
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: serde_json::Value::Null, retry_after_secs: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).with_details(serde_json::json!({"field": field}))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(needed: Role) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", format!("this needs the {needed} role"))
            .with_details(serde_json::json!({"required_role": needed.to_string()}))
    }

    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut p = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            .with_details(serde_json::json!({"retry_after_seconds": retry_after_secs}));
        p.retry_after_secs = Some(retry_after_secs);
        p
    }

    pub fn into_response(self) -> Resp {
        let body = serde_json::json!({
            "error": {"code": self.code, "message": self.message, "details": self.details}
        });
        let mut b = Response::builder().status(self.status).header("content-type", "application/json");
        if let Some(s) = self.retry_after_secs {
            b = b.header("retry-after", s.to_string());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            b = b.header("www-authenticate", "Bearer");
        }
        // RFC 9110 §15.5.6: a 405 lists the methods the resource allows.
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(allowed) = self.details.get("allowed").and_then(|a| a.as_str()) {
                b = b.header("allow", allowed);
            }
        }
        b.body(full(body.to_string())).expect("valid response")
    }
}

impl From<ControllerError> for Problem {
    fn from(e: ControllerError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Internal details (database messages...) go to the log, not to
        // whoever made the request.
        let message = if status.is_server_error() {
            tracing::error!("internal error: {e}");
            "internal error; the server log has the details".to_owned()
        } else {
            e.to_string()
        };
        let mut p = Problem::new(status, e.code(), message).with_details(e.details());
        if let ControllerError::Throttled { retry_after, .. } = &e {
            p.retry_after_secs = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
        }
        p
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
        Problem::new(status, e.code(), e.to_string())
    }
}

/// A JSON response.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Resp {
    let body = serde_json::to_vec(value).expect("API values serialise");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body))
        .expect("valid response")
}

pub fn empty(status: StatusCode) -> Resp {
    Response::builder().status(status).body(full(Bytes::new())).expect("valid response")
}
