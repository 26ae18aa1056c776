//! Keeps `openapi.json` (served at `GET /api/v1/openapi.json`) honest: it
//! must parse, describe exactly the endpoints of `src/api/table.rs`
//! (plus the public routes, health checks and metrics), have no dangling
//! `$ref`, and give every operation an id and the responses clients rely on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const DOC: &str = include_str!("../openapi.json");

/// The admin API's endpoints, from the gateway's route table
/// (`src/api/table.rs`), plus the document itself: adding an endpoint
/// without documenting it fails `paths_match_the_route_table`.
fn api() -> Vec<(String, String)> {
    let table = quasm_gateway::endpoints().map(|(m, p, _)| (m.to_owned(), format!("/api/v1/{p}")));
    std::iter::once(("GET".to_owned(), "/api/v1/openapi.json".to_owned())).chain(table).collect()
}

/// Outside `/api/v1` (`src/server.rs`, `src/public.rs`). Public routes take
/// any method; the document lists every method OpenAPI can name.
const OTHER: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/fn/{tenant}/{path}"),
    ("PUT", "/fn/{tenant}/{path}"),
    ("POST", "/fn/{tenant}/{path}"),
    ("DELETE", "/fn/{tenant}/{path}"),
    ("OPTIONS", "/fn/{tenant}/{path}"),
    ("HEAD", "/fn/{tenant}/{path}"),
    ("PATCH", "/fn/{tenant}/{path}"),
    ("TRACE", "/fn/{tenant}/{path}"),
];

/// Served without a credential.
const NO_CREDENTIAL: &[&str] = &["/api/v1/openapi.json", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn doc() -> Value {
    serde_json::from_str(DOC).expect("openapi.json is valid JSON")
}

/// Every operation: (METHOD, path, operation object, path item).
fn operations(doc: &Value) -> Vec<(String, String, &Value, &Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item_obj = item.as_object().unwrap_or_else(|| panic!("path item {path} is an object"));
        for (key, op) in item_obj {
            if METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op, item));
            }
        }
    }
    out
}

/// Follows a local `$ref` (`#/components/...`) to its target.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if !pointer.starts_with("/components/") {
        return None;
    }
    doc.pointer(pointer)
}

/// A value, or the component its `$ref` names.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

fn collect_refs<'a>(v: &'a Value, at: &mut Vec<String>, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.join("/"), r));
                    }
                    continue;
                }
                at.push(k.clone());
                collect_refs(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(i.to_string());
                collect_refs(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn is_openapi_3_0_with_info_paths_and_components() {
    let doc = doc();
    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3.0."), "OpenAPI 3.0.x expected, found {version}");
    for key in ["title", "version"] {
        assert!(doc["info"][key].is_string(), "info.{key} is missing");
    }
    assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()), "paths is missing or empty");
    let components = doc["components"].as_object().expect("components is an object");
    for key in ["schemas", "securitySchemes"] {
        assert!(components.get(key).is_some_and(Value::is_object), "components.{key} is missing");
    }
    for schema in [
        "Function",
        "Version",
        "Route",
        "ApiKey",
        "CreatedApiKey",
        "Execution",
        "ExecutionPage",
        "Tenant",
        "AuditEntry",
        "Subscription",
        "DeadLetter",
        "PublishedEvent",
        "Limits",
        "LogEntry",
        "ErrorInfo",
        "InvokeResult",
        "Problem",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "components.schemas.{schema} is missing");
    }
}

#[test]
fn paths_match_the_route_table() {
    let doc = doc();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _, _)| (m, p)).collect();
    let expected: BTreeSet<(String, String)> =
        api().into_iter().chain(OTHER.iter().map(|(m, p)| (m.to_string(), p.to_string()))).collect();
    assert_eq!(expected.len(), api().len() + OTHER.len(), "the expected list has duplicates");
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "undocumented: {missing:?}; not in the code: {extra:?}");
}

#[test]
fn every_ref_resolves() {
    let doc = doc();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut Vec::new(), &mut refs);
    assert!(!refs.is_empty());
    let dangling: Vec<_> = refs.iter().filter(|(_, r)| resolve(&doc, r).is_none()).collect();
    assert!(dangling.is_empty(), "$refs that resolve to no component (location, ref): {dangling:?}");
}

#[test]
fn operations_have_ids_and_the_expected_responses() {
    let doc = doc();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (method, path, op, _) in operations(&doc) {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{what} has no operationId"));
        assert!(!id.is_empty(), "{what} has an empty operationId");
        if let Some(other) = ids.insert(id.to_owned(), what.clone()) {
            panic!("operationId {id} is used by both {other} and {what}");
        }
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{what} has no responses"));
        assert!(responses.keys().any(|s| s.starts_with('2')), "{what} has no 2xx response");
        for (status, response) in responses {
            assert!(deref(&doc, response)["description"].is_string(), "{what} response {status} has no description");
        }
        if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
            for status in ["401", "403"] {
                assert!(responses.contains_key(status), "{what} does not document {status}");
            }
        }
    }
}

#[test]
fn path_parameters_are_declared() {
    let doc = doc();
    for (method, path, op, item) in operations(&doc) {
        let declared: BTreeSet<String> = [&item["parameters"], &op["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{method} {path}: path parameter {} must be required", p["name"]);
                p["name"].as_str().expect("parameter name").to_owned()
            })
            .collect();
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        assert_eq!(declared, in_template, "{method} {path}: declared path parameters differ from the template");
    }
}

#[test]
fn security_is_explicit_where_no_credential_is_needed() {
    let doc = doc();
    assert!(doc["security"].as_array().is_some_and(|s| !s.is_empty()), "no default security requirement");
    let schemes = doc["components"]["securitySchemes"].as_object().expect("securitySchemes");
    for (method, path, op, _) in operations(&doc) {
        if NO_CREDENTIAL.contains(&path.as_str()) {
            assert_eq!(op["security"], serde_json::json!([]), "{method} {path} needs `security: []`");
        }
        // Every scheme an operation names exists.
        let security = op.get("security").unwrap_or(&doc["security"]);
        for requirement in security.as_array().expect("security is an array") {
            for name in requirement.as_object().expect("requirement is an object").keys() {
                assert!(schemes.contains_key(name), "{method} {path}: unknown security scheme {name}");
            }
        }
    }
}
