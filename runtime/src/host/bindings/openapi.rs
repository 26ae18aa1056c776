//! Typed methods from a binding's OpenAPI 3 document (JSON):
//! `env.NAME.<tag>.<operationId>(params)` for each operation with an
//! `operationId` (operations without a tag sit on `env.NAME` itself), and
//! their TypeScript declarations for editors.
//!
//! `params` holds the path and query parameters by name and the JSON
//! request body as `body`; the method resolves to the JSON response and
//! rejects with a `BindingHttpError` on a non-2xx status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `None`: the method sits on the binding itself.
    pub tag: Option<String>,
    pub id: String,
    pub method: String,
    pub path: String,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    /// The JSON request body's schema, when the operation takes one.
    pub body: Option<(Value, bool)>,
    /// The 2xx JSON response's schema.
    pub response: Option<Value>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub required: bool,
    pub schema: Value,
}

/// A document's operations and named schemas.
#[derive(Debug, Clone, Default)]
pub struct Api {
    pub operations: Vec<Operation>,
    schemas: BTreeMap<String, Value>,
}

/// A JS identifier made of `s` (`client-notes` -> `client_notes`).
fn ident(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '$' { c } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Resolves a local `$ref` (`#/components/parameters/Limit`).
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn json_content(doc: &Value, holder: &Value) -> Option<Value> {
    let content = deref(doc, holder).get("content")?.as_object()?;
    let media = content.iter().find(|(k, _)| k.starts_with("application/json") || k.ends_with("+json"))?.1;
    Some(media.get("schema").cloned().unwrap_or(Value::Bool(true)))
}

impl Api {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
        Self::parse(&doc)
    }

    pub fn parse(doc: &Value) -> Result<Self, String> {
        if !doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3')) {
            return Err("not an OpenAPI 3 document (no \"openapi\": \"3.x\")".into());
        }
        let paths = doc.get("paths").and_then(Value::as_object).ok_or("the document has no \"paths\" object")?;
        let mut operations = Vec::new();
        for (path, item) in paths {
            let item = deref(doc, item);
            let shared: Vec<Value> = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
                let tag = op.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str).map(ident);
                let mut params: Vec<Value> = shared.clone();
                params.extend(op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default());
                let (mut path_params, mut query_params) = (Vec::new(), Vec::new());
                for p in &params {
                    let p = deref(doc, p);
                    let Some(name) = p.get("name").and_then(Value::as_str) else { continue };
                    let param = Param {
                        name: name.to_owned(),
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        schema: p.get("schema").cloned().unwrap_or(Value::Bool(true)),
                    };
                    let list = match p.get("in").and_then(Value::as_str) {
                        Some("path") => &mut path_params,
                        Some("query") => &mut query_params,
                        _ => continue,
                    };
                    list.retain(|q: &Param| q.name != param.name); // operation-level wins
                    list.push(param);
                }
                for p in &mut path_params {
                    p.required = true;
                }
                let body = op.get("requestBody").and_then(|b| {
                    let required = deref(doc, b).get("required").and_then(Value::as_bool).unwrap_or(false);
                    json_content(doc, b).map(|s| (s, required))
                });
                let response = op.get("responses").and_then(Value::as_object).and_then(|r| {
                    r.iter().filter(|(code, _)| code.starts_with('2')).find_map(|(_, resp)| json_content(doc, resp))
                });
                operations.push(Operation {
                    tag,
                    id: ident(id),
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    path_params,
                    query_params,
                    body,
                    response,
                    summary: op.get("summary").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Self { operations, schemas })
    }

    /// What the guest needs to build the methods.
    pub fn descriptor(&self) -> Vec<Value> {
        self.operations
            .iter()
            .map(|o| {
                serde_json::json!({
                    "tag": o.tag, "id": o.id, "method": o.method, "path": o.path,
                    "query": o.query_params.iter().map(|p| &p.name).collect::<Vec<_>>(),
                    "body": o.body.is_some(),
                })
            })
            .collect()
    }

    /// TypeScript declarations of binding `name`: an interface
    /// `Quasm<Name>Binding` extending `ServiceBinding` with the typed
    /// methods, its schemas in a namespace, and `QuasmBindings` augmented
    /// with `NAME`.
    pub fn declarations(&self, name: &str) -> String {
        let ns = format!("Quasm{}", pascal(name));
        let mut out = String::new();
        let _ = writeln!(out, "/** Types of binding {name}'s OpenAPI document. */\ndeclare namespace {ns} {{");
        for (schema, v) in &self.schemas {
            // Inside the namespace, its schemas are named bare.
            let _ = writeln!(out, "  type {} = {};", ident(schema), ts_type(v, 1).replace('§', ""));
        }
        let _ = writeln!(out, "}}");
        let mut groups: BTreeMap<Option<&str>, Vec<&Operation>> = BTreeMap::new();
        for o in &self.operations {
            groups.entry(o.tag.as_deref()).or_default().push(o);
        }
        let _ = writeln!(out, "/** Binding {name}: `fetch` plus the typed methods. */");
        let _ = writeln!(out, "interface {ns}Binding extends ServiceBinding {{");
        for (tag, ops) in &groups {
            let indent = if tag.is_some() { "    " } else { "  " };
            if let Some(t) = tag {
                let _ = writeln!(out, "  readonly {t}: {{");
            }
            for o in ops {
                let _ = writeln!(
                    out,
                    "{indent}/** {} {}{} */",
                    o.method,
                    o.path,
                    o.summary.as_ref().map(|s| format!(": {s}")).unwrap_or_default()
                );
                let params = params_type(o, &ns);
                let optional = !o.path_params.iter().chain(&o.query_params).any(|p| p.required)
                    && !o.body.as_ref().is_some_and(|(_, r)| *r);
                let ret = o.response.as_ref().map_or("unknown".into(), |s| unref(ts_type(s, 2), &ns));
                let q = if optional { "?" } else { "" };
                let _ = writeln!(out, "{indent}{}(params{q}: {params}): Promise<{ret}>;", o.id);
            }
            if tag.is_some() {
                let _ = writeln!(out, "  }};");
            }
        }
        let _ = writeln!(out, "}}\ninterface QuasmBindings {{\n  {name}: {ns}Binding;\n}}");
        out
    }
}

fn pascal(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = p.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn params_type(o: &Operation, ns: &str) -> String {
    let mut fields = Vec::new();
    for p in o.path_params.iter().chain(&o.query_params) {
        let q = if p.required { "" } else { "?" };
        fields.push(format!("{}{q}: {}", prop(&p.name), unref(ts_type(&p.schema, 2), ns)));
    }
    if let Some((schema, required)) = &o.body {
        let q = if *required { "" } else { "?" };
        fields.push(format!("body{q}: {}", unref(ts_type(schema, 2), ns)));
    }
    braces(&fields)
}

fn braces(fields: &[String]) -> String {
    if fields.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", fields.join("; "))
    }
}

fn unref(ty: String, ns: &str) -> String {
    // Every §Name§ is a schema of this document.
    let mut out = String::new();
    let mut parts = ty.split('§');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, p) in parts.enumerate() {
        if i % 2 == 0 {
            out.push_str(ns);
            out.push('.');
        }
        out.push_str(p);
    }
    out
}

fn prop(name: &str) -> String {
    if ident(name) == name {
        name.to_owned()
    } else {
        serde_json::to_string(name).expect("string")
    }
}

/// A JSON schema as a TypeScript type. References to named schemas come out
/// as `§Name§` (qualified by the caller, or bare inside the namespace).
fn ts_type(s: &Value, depth: usize) -> String {
    if depth > 12 {
        return "unknown".into();
    }
    let Some(o) = s.as_object() else { return "unknown".into() };
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        return match r.strip_prefix("#/components/schemas/") {
            Some(n) => format!("§{}§", ident(n)),
            None => "unknown".into(),
        };
    }
    let nullable = o.get("nullable").and_then(Value::as_bool).unwrap_or(false);
    let base = if let Some(e) = o.get("enum").and_then(Value::as_array) {
        e.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")
    } else if let Some(list) = o.get("oneOf").or_else(|| o.get("anyOf")).and_then(Value::as_array) {
        list.iter().map(|v| ts_type(v, depth + 1)).collect::<Vec<_>>().join(" | ")
    } else if let Some(list) = o.get("allOf").and_then(Value::as_array) {
        list.iter().map(|v| format!("({})", ts_type(v, depth + 1))).collect::<Vec<_>>().join(" & ")
    } else {
        match o.get("type").and_then(Value::as_str) {
            Some("string") => "string".into(),
            Some("integer" | "number") => "number".into(),
            Some("boolean") => "boolean".into(),
            Some("null") => "null".into(),
            Some("array") => format!("Array<{}>", o.get("items").map_or("unknown".into(), |i| ts_type(i, depth + 1))),
            Some("object") | None if o.contains_key("properties") || o.get("type").is_some() => object_type(o, depth),
            _ => "unknown".into(),
        }
    };
    if nullable {
        format!("{base} | null")
    } else {
        base
    }
}

fn object_type(o: &serde_json::Map<String, Value>, depth: usize) -> String {
    let required: Vec<&str> = o
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    if let Some(props) = o.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let q = if required.contains(&k.as_str()) { "" } else { "?" };
            fields.push(format!("{}{q}: {}", prop(k), ts_type(v, depth + 1)));
        }
    }
    match o.get("additionalProperties") {
        Some(Value::Object(_)) => {
            let v = ts_type(&o["additionalProperties"], depth + 1);
            fields.push(format!("[key: string]: {v}"));
        }
        Some(Value::Bool(true)) => fields.push("[key: string]: unknown".into()),
        _ if fields.is_empty() => fields.push("[key: string]: unknown".into()),
        _ => {}
    }
    braces(&fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::json!({
            "openapi": "3.0.3",
            "paths": {
                "/clients": {
                    "get": {"operationId": "list", "tags": ["clients"], "summary": "List clients",
                        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                        "responses": {"200": {"content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Client"}}}}}}},
                    "post": {"operationId": "create", "tags": ["clients"],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewClient"}}}},
                        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}}}}
                },
                "/clients/{id}": {
                    "parameters": [{"$ref": "#/components/parameters/Id"}],
                    "get": {"operationId": "get", "tags": ["clients"],
                        "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}}}},
                    "delete": {"operationId": "remove", "tags": ["clients"], "responses": {"204": {"description": "gone"}}}
                },
                "/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}},
                "/no-id": {"get": {"responses": {"200": {"description": "skipped"}}}}
            },
            "components": {
                "parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
                "schemas": {
                    "Client": {"type": "object", "required": ["id", "name"], "properties": {
                        "id": {"type": "string"}, "name": {"type": "string"},
                        "tier": {"type": "string", "enum": ["gold", "silver"], "nullable": true}}},
                    "NewClient": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
                }
            }
        })
    }

    #[test]
    fn operations_by_tag_with_their_parameters() {
        let api = Api::parse(&sample()).unwrap();
        let names: Vec<_> = api.operations.iter().map(|o| (o.tag.clone(), o.id.as_str(), o.method.as_str())).collect();
        assert_eq!(
            names,
            [
                (Some("clients".into()), "list", "GET"),
                (Some("clients".into()), "create", "POST"),
                (Some("clients".into()), "get", "GET"),
                (Some("clients".into()), "remove", "DELETE"),
                (None, "ping", "GET"),
            ]
        );
        let get = &api.operations[2];
        assert_eq!(get.path_params[0].name, "id", "shared parameter through $ref");
        assert_eq!(api.operations[0].query_params[0].name, "limit");
        assert!(api.operations[1].body.as_ref().unwrap().1, "required body");
        assert!(Api::parse(&serde_json::json!({"swagger": "2.0"})).is_err());
    }

    #[test]
    fn declarations_type_params_bodies_and_results() {
        let d = Api::parse(&sample()).unwrap().declarations("HOST");
        assert!(d.contains("interface QuasmHostBinding extends ServiceBinding"), "{d}");
        assert!(d.contains("list(params?: { limit?: number }): Promise<Array<QuasmHost.Client>>;"), "{d}");
        assert!(d.contains("create(params: { body: QuasmHost.NewClient }): Promise<QuasmHost.Client>;"), "{d}");
        assert!(d.contains("get(params: { id: string }): Promise<QuasmHost.Client>;"), "{d}");
        assert!(d.contains("ping(params?: {}): Promise<unknown>;"), "{d}");
        assert!(d.contains("type Client = { id: string; name: string; tier?: \"gold\" | \"silver\" | null };"), "{d}");
        assert!(d.contains("interface QuasmBindings {\n  HOST: QuasmHostBinding;\n}"), "{d}");
    }
}
