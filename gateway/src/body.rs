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
/// path of the field (`limits.memory_mb`). The body must be one JSON object
/// and nothing after it; no string in it may hold a NUL character (which
/// no text column can store), so such a body is refused naming the field.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    json_with_user_data(bytes, &[])
}

/// Like [`json`], but the subtrees at `user_data` paths (`input`,
/// `events[].payload`) are the caller's data, stored faithfully: NUL
/// characters are allowed there.
pub fn json_with_user_data<T: DeserializeOwned>(bytes: &[u8], user_data: &[&str]) -> Result<T, Problem> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(Problem::invalid("body", "a JSON body is required")),
        Some(b'{') => {}
        // Valid JSON of another kind, or not JSON at all: say which.
        Some(_) => {
            return Err(match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(_) => Problem::invalid("body", "the body must be a JSON object"),
                Err(e) => Problem::invalid("body", format!("malformed JSON: {e}")),
            })
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() { "body".to_owned() } else { path };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            format!("{field}: {inner}")
        };
        Problem::invalid(&field, message)
    })?;
    de.end().map_err(|e| Problem::invalid("body", format!("malformed JSON: {e}")))?;
    if let Some(field) = nul_outside(bytes, user_data) {
        return Err(Problem::invalid(&field, format!("{field}: must not contain the NUL character (\\u0000)")));
    }
    Ok(value)
}

/// The path of the first string (or object key) holding a NUL character
/// outside the `user_data` subtrees. A NUL can only be written `\u0000` in
/// JSON, so bodies without that escape are not walked.
fn nul_outside(bytes: &[u8], user_data: &[&str]) -> Option<String> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut path = Vec::new();
    find_nul(&value, &mut path, user_data)
}

fn find_nul(v: &serde_json::Value, path: &mut Vec<String>, user_data: &[&str]) -> Option<String> {
    let here = path.join(".").replace(".[", "[");
    let pattern = path.iter().map(|p| if p.starts_with('[') { "[]" } else { p }).collect::<Vec<_>>().join(".");
    if user_data.contains(&pattern.replace(".[]", "[]").as_str()) {
        return None;
    }
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(if here.is_empty() { "body".into() } else { here }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(format!("[{i}]"));
            let found = find_nul(item, path, user_data);
            path.pop();
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
            path.push(k.replace('\0', "\\u0000"));
            let found = if k.contains('\0') { Some(path.join(".").replace(".[", "[")) } else { None };
            let found = found.or_else(|| find_nul(item, path, user_data));
            path.pop();
            found
        }),
        _ => None,
    }
}

/// Decodes a query string; a parameter holding a NUL character is refused
/// naming it.
pub fn query<T: DeserializeOwned + Default>(q: Option<&str>) -> Result<T, Problem> {
    match q {
        None | Some("") => Ok(T::default()),
        Some(q) => {
            if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(q) {
                if let Some((k, _)) = pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
                    let field = k.replace('\0', "\\u0000");
                    return Err(Problem::invalid(&field, format!("{field}: must not contain the NUL character (%00)")));
                }
            }
            serde_urlencoded::from_str(q).map_err(|e| Problem::invalid("query", format!("query string: {e}")))
        }
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

    #[test]
    fn one_object_and_nothing_after_it() {
        let e = json::<T>(br#"{"name": "a"} this is not JSON"#).unwrap_err();
        assert_eq!(e.details["field"], "body");
        assert!(e.message.starts_with("malformed JSON: trailing characters"), "{}", e.message);
        assert!(json::<T>(b"{\"name\": \"a\"}\n  ").is_ok(), "trailing whitespace is fine");
        let e = json::<T>(br#"["a"]"#).unwrap_err();
        assert_eq!((e.details["field"].as_str(), e.message.as_str()), (Some("body"), "the body must be a JSON object"));
        let e = json::<T>(b"   ").unwrap_err();
        assert_eq!(e.message, "a JSON body is required");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct D {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        env: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        input: serde_json::Value,
        #[serde(default)]
        events: Vec<serde_json::Value>,
    }

    #[test]
    fn nul_is_refused_naming_the_field_outside_user_data() {
        let field = |body: &str| {
            json_with_user_data::<D>(body.as_bytes(), &["input", "events[].payload"])
                .err()
                .map(|e| e.details["field"].as_str().unwrap().to_owned())
        };
        assert_eq!(field(r#"{"name": "a\u0000b"}"#).as_deref(), Some("name"));
        assert_eq!(field(r#"{"name": "a", "tags": ["x", "\u0000"]}"#).as_deref(), Some("tags[1]"));
        assert_eq!(field(r#"{"name": "a", "env": {"K": "\u0000"}}"#).as_deref(), Some("env.K"));
        assert_eq!(field(r#"{"name": "a", "env": {"K\u0000": "v"}}"#).as_deref(), Some("env.K\\u0000"));
        assert_eq!(field(r#"{"name": "a", "events": [{"key": "\u0000"}]}"#).as_deref(), Some("events[0].key"));
        // User data keeps its NUL characters.
        assert_eq!(field(r#"{"name": "a", "input": {"k\u0000": ["\u0000"]}}"#), None);
        assert_eq!(field(r#"{"name": "a", "events": [{"payload": {"x": "\u0000"}}]}"#), None);
        // An escaped backslash before u0000 is not a NUL.
        assert_eq!(field(r#"{"name": "a\\u0000"}"#), None);
    }

    #[test]
    fn nul_in_a_query_parameter_is_refused_naming_it() {
        #[derive(Debug, Default, serde::Deserialize)]
        #[allow(dead_code)]
        struct Q {
            function: Option<String>,
        }
        let e = query::<Q>(Some("function=%00")).unwrap_err();
        assert_eq!(e.details["field"], "function");
        assert!(query::<Q>(Some("function=f")).is_ok());
    }
}

/// Arbitrary bodies (proptest): decoding never panics; every refusal names
/// a field; an object that was serialised decodes back.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct B {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        input: serde_json::Value,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_bytes_decode_or_are_refused_naming_a_field(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Err(p) = json_with_user_data::<B>(&bytes, &["input"]) {
                prop_assert!(p.details["field"].is_string());
            }
        }

        #[test]
        fn any_jsonish_text_decodes_or_is_refused(s in "[{}\\[\\]\":,a-z0-9 \\\\u]{0,60}") {
            if let Err(p) = json::<B>(s.as_bytes()) {
                prop_assert!(p.details["field"].is_string());
            }
        }

        #[test]
        fn serialised_objects_round_trip(name in "\\PC{0,20}", tags in proptest::collection::vec("\\PC{0,5}", 0..4), n in any::<i64>()) {
            let b = B { name, tags, input: serde_json::json!({"n": n, "s": "\u{0}"}) };
            let bytes = serde_json::to_vec(&b).unwrap();
            let nul_outside_input = b.name.contains('\0') || b.tags.iter().any(|t| t.contains('\0'));
            match json_with_user_data::<B>(&bytes, &["input"]) {
                Ok(back) => prop_assert_eq!(back, b),
                Err(p) => prop_assert!(nul_outside_input, "{}", p.message),
            }
        }
    }
}
