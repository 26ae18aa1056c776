//! The admin API client: JSON over HTTP with `Authorization: Bearer`.
//!
//! Every call returns the decoded JSON body or an [`ApiError`] that keeps
//! the server's problem document (`{"error": {"code", "message",
//! "details"}}`), so diagnostics can point at the attribute the server
//! named in `details.field` (or the line and column of a syntax error).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the Quasm API at {endpoint}: {source}")]
    Unreachable {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{method} {path}: {status} {code}: {message}")]
    Problem { method: String, path: String, status: u16, code: String, message: String, details: Value },
    #[error("{method} {path}: the answer is not JSON ({status}): {body}")]
    NotJson { method: String, path: String, status: u16, body: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem { status, .. } | ApiError::NotJson { status, .. } => Some(*status),
            ApiError::Unreachable { .. } => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// `details.field` of an `invalid_request` problem.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Problem { details, .. } => details.get("field").and_then(Value::as_str),
            _ => None,
        }
    }

    /// `(line, column)` of a `syntax_error` problem.
    pub fn line_column(&self) -> Option<(i64, i64)> {
        match self {
            ApiError::Problem { details, .. } => {
                Some((details.get("line")?.as_i64()?, details.get("column")?.as_i64()?))
            }
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Problem { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// One configured connection to a Quasm server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Without a trailing slash, e.g. `https://quasm.example.com`.
    endpoint: String,
    token: String,
}

impl Client {
    pub fn new(endpoint: &str, token: &str) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("terraform-provider-quasm/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, endpoint: endpoint.trim_end_matches('/').to_owned(), token: token.to_owned() })
    }

    /// `method` on `/api/v1{path}`; `Value::Null` for an empty answer.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let url = format!("{}/api/v1{path}", self.endpoint);
        let mut req = self.http.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let unreachable = |source| ApiError::Unreachable { endpoint: self.endpoint.clone(), source };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let text = resp.text().await.map_err(unreachable)?;
        let parsed: Option<Value> =
            if text.trim().is_empty() { Some(Value::Null) } else { serde_json::from_str(&text).ok() };
        if status.is_success() {
            return parsed.ok_or_else(|| ApiError::NotJson {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                body: text.chars().take(300).collect(),
            });
        }
        match parsed.as_ref().and_then(|v| v.get("error")) {
            Some(err) => Err(ApiError::Problem {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                code: err["code"].as_str().unwrap_or("unknown").to_owned(),
                message: err["message"].as_str().unwrap_or("").to_owned(),
                details: err.get("details").cloned().unwrap_or(Value::Null),
            }),
            None => Err(ApiError::Problem {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                code: status.canonical_reason().unwrap_or("error").to_lowercase().replace(' ', "_"),
                message: text.chars().take(300).collect(),
                details: Value::Null,
            }),
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.call(Method::GET, path, None).await
    }

    /// GET that maps 404 to `None` (a resource deleted outside Terraform).
    pub async fn get_opt(&self, path: &str) -> Result<Option<Value>, ApiError> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// DELETE; an object already gone counts as deleted.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        match self.call(Method::DELETE, path, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND.as_u16()) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Percent-encodes one path segment (function names are `[a-z0-9_-]`, but
/// an imported id is whatever the user typed).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
