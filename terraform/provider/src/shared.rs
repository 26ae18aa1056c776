//! What every resource and data source shares: the configured API client,
//! schema shorthands, and the one place API errors become diagnostics.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::client::{ApiError, Client};

/// The client `ConfigureProvider` sets; resources are built before that.
#[derive(Default, Clone)]
pub struct Shared(Arc<RwLock<Option<Client>>>);

impl Shared {
    pub fn set(&self, client: Client) {
        *self.0.write().unwrap() = Some(client);
    }

    /// The client, or an error diagnostic when the provider is not configured.
    pub fn client(&self, diags: &mut Diagnostics) -> Option<Client> {
        let c = self.0.read().unwrap().clone();
        if c.is_none() {
            diags.root_error(
                "The quasm provider is not configured",
                "Set `endpoint` and `token` in the provider block, or QUASM_URL and QUASM_TOKEN.",
            );
        }
        c
    }
}

// ------------------------------------------------------------------ schema

pub fn attribute(ty: AttributeType, constraint: AttributeConstraint, description: &str) -> Attribute {
    Attribute {
        attr_type: ty,
        description: Description::markdown(description),
        constraint,
        sensitive: false,
        deprecated: false,
    }
}

pub fn required(ty: AttributeType, description: &str) -> Attribute {
    attribute(ty, AttributeConstraint::Required, description)
}

pub fn optional(ty: AttributeType, description: &str) -> Attribute {
    attribute(ty, AttributeConstraint::Optional, description)
}

/// Optional with a server default the plan fills in (so a change made
/// outside Terraform to an attribute left out of the configuration still
/// shows as drift).
pub fn defaulted(ty: AttributeType, description: &str) -> Attribute {
    attribute(ty, AttributeConstraint::OptionalComputed, description)
}

pub fn computed(ty: AttributeType, description: &str) -> Attribute {
    attribute(ty, AttributeConstraint::Computed, description)
}

pub fn sensitive(mut a: Attribute) -> Attribute {
    a.sensitive = true;
    a
}

pub fn string() -> AttributeType {
    AttributeType::String
}

pub fn string_list() -> AttributeType {
    AttributeType::List(Box::new(AttributeType::String))
}

pub fn string_map() -> AttributeType {
    AttributeType::Map(Box::new(AttributeType::String))
}

pub fn attrs(list: Vec<(&str, Attribute)>) -> HashMap<String, Attribute> {
    list.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

// ------------------------------------------------------------------ values

pub type Str = Value<String>;
pub type Int = Value<i64>;
pub type Float = Value<f64>;
pub type Bool = Value<bool>;
pub type StrList = Value<Vec<Value<String>>>;
pub type StrMap = Value<std::collections::BTreeMap<String, Value<String>>>;

/// The plan-time default of an optional attribute: when the configuration
/// leaves it out, the planned value is the server's default (not the prior
/// state), so a change made outside Terraform is planned back.
pub fn default_when_unset<T>(planned: &mut Value<T>, config: &Value<T>, default: T) {
    if config.is_null() {
        *planned = Value::Value(default);
    }
}

pub fn json_str_list(v: &StrList) -> serde_json::Value {
    serde_json::Value::Array(
        v.iter().flatten().filter_map(|s| s.as_ref_option().map(|s| serde_json::Value::from(s.as_str()))).collect(),
    )
}

pub fn json_str_map(v: &StrMap) -> serde_json::Value {
    serde_json::Value::Object(
        v.iter()
            .flatten()
            .filter_map(|(k, s)| s.as_ref_option().map(|s| (k.clone(), serde_json::Value::from(s.as_str()))))
            .collect(),
    )
}

pub fn str_list_of(v: &serde_json::Value) -> StrList {
    Value::Value(
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str()).map(|s| Value::Value(s.into())).collect(),
    )
}

pub fn str_map_of(v: &serde_json::Value) -> StrMap {
    Value::Value(
        v.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, s)| Some((k.clone(), Value::Value(s.as_str()?.to_owned()))))
            .collect(),
    )
}

pub fn str_of(v: &serde_json::Value) -> Str {
    v.as_str().map(|s| Value::Value(s.to_owned())).unwrap_or(Value::Null)
}

pub fn int_of(v: &serde_json::Value) -> Int {
    v.as_i64().map(Value::Value).unwrap_or(Value::Null)
}

pub fn float_of(v: &serde_json::Value) -> Float {
    v.as_f64().map(Value::Value).unwrap_or(Value::Null)
}

pub fn bool_of(v: &serde_json::Value) -> Bool {
    v.as_bool().map(Value::Value).unwrap_or(Value::Null)
}

// ------------------------------------------------------------- diagnostics

/// An API error as a diagnostic. The server's `details.field`
/// (`limits.memory_mb`, `env.BAD NAME`, `cron`) becomes the attribute path;
/// `blocks` names the attributes that are single-element list blocks, whose
/// path needs an index. A syntax error points at `code`.
pub fn api_error(diags: &mut Diagnostics, summary: &str, e: &ApiError, blocks: &[&str]) {
    if let Some((line, column)) = e.line_column() {
        diags.error(
            format!("{summary}: syntax error at line {line}, column {column}"),
            e.message(),
            AttributePath::new("code"),
        );
        return;
    }
    match e.field() {
        Some(field) => diags.error(summary.to_owned(), e.message(), field_path(field, blocks)),
        None => diags.root_error(summary.to_owned(), e.to_string()),
    }
}

/// `limits.memory_mb` → `limits[0].memory_mb`; `env.NAME` → `env["NAME"]`.
pub fn field_path(field: &str, blocks: &[&str]) -> AttributePath {
    let (head, rest) = match field.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (field, None),
    };
    let path = AttributePath::new(head.to_owned());
    match rest {
        None => path,
        Some(rest) if blocks.contains(&head) => path.index(0).attribute(rest.to_owned()),
        Some(rest) if matches!(head, "env" | "secrets" | "filter") => path.key(rest.to_owned()),
        Some(rest) => path.attribute(rest.to_owned()),
    }
}

/// An import id of the form `function_name/id`.
pub fn split_import_id(diags: &mut Diagnostics, id: &str, what: &str) -> Option<(String, String)> {
    match id.split_once('/') {
        Some((f, i)) if !f.is_empty() && !i.is_empty() => Some((f.to_owned(), i.to_owned())),
        _ => {
            diags.root_error(
                format!("Invalid import id {id:?}"),
                format!("A {what} is imported by `function_name/id`, e.g. `nightly-export/12`."),
            );
            None
        }
    }
}
