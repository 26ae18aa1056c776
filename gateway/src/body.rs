//! Reading request bodies (size-capped) and decoding JSON and query strings
//! into typed requests, with errors that name the offending field.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

pub async fn read(body: Incoming, max_bytes: usize) -> Result<Bytes, Problem> {
    match Limited::new(body, max_bytes).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {max_bytes} bytes"),
        )
        .with_details(serde_json::json!({"max_bytes": max_bytes}))),
        Err(e) => {
            Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_request", format!("reading the body failed: {e}")))
        }
    }
}

/// Decodes a JSON body; unknown fields and wrong types are refused with the
/// path of the field (`limits.memory_mb`).
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.is_empty() {
        return Err(Problem::invalid("body", "a JSON body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() { "body".to_owned() } else { path };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            format!("{field}: {inner}")
        };
        Problem::invalid(&field, message)
    })
}

/// Decodes a query string.
pub fn query<T: DeserializeOwned + Default>(q: Option<&str>) -> Result<T, Problem> {
    match q {
        None | Some("") => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| Problem::invalid("query", format!("query string: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        limits: Option<L>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct L {
        memory_mb: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let e = json::<T>(br#"{"name": "a", "limits": {"memory_mb": "lots"}}"#).unwrap_err();
        assert_eq!(e.details["field"], "limits.memory_mb");
        let e = json::<T>(br#"{"name": "a", "colour": 1}"#).unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{}", e.message);
        let e = json::<T>(br#"{"name": "a""#).unwrap_err();
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        let e = json::<T>(b"{}").unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
    }
}
