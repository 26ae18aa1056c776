//! JSON attributes (`input`, `filter`) are strings in Terraform
//! (`jsonencode(...)`) but compare by meaning: key order, spacing and the
//! server's normal form (a filter's dotted keys nested) are never a diff.

use serde_json::{Map, Value};

use crate::shared::Str;

/// The text Terraform's `jsonencode` gives (compact, keys sorted).
pub fn canonical(v: &Value) -> String {
    // serde_json's Map is a BTreeMap here (no preserve_order): keys sorted.
    v.to_string()
}

/// A filter as the server matches it: `{"customer.tier": "gold"}` is
/// `{"customer": {"tier": "gold"}}`; objects under the same key merge.
pub fn nest_dotted(v: &Value) -> Value {
    let Value::Object(map) = v else { return v.clone() };
    let mut out = Map::new();
    for (key, value) in map {
        let value = nest_dotted(value);
        let mut parts = key.split('.').rev();
        let last = parts.next().unwrap_or_default();
        let mut nested = Value::Object(Map::from_iter([(last.to_owned(), value)]));
        for p in parts {
            nested = Value::Object(Map::from_iter([(p.to_owned(), nested)]));
        }
        if let Value::Object(n) = nested {
            for (k, v) in n {
                merge_into(&mut out, k, v);
            }
        }
    }
    Value::Object(out)
}

fn merge_into(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(add)) => {
            for (k, v) in add {
                merge_into(existing, k, v);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

/// Whether the text `a` and the value `b` mean the same after `normal`.
pub fn same_meaning(a: &str, b: &Value, normal: fn(&Value) -> Value) -> bool {
    serde_json::from_str::<Value>(a).map(|a| normal(&a) == normal(b)).unwrap_or(false)
}

/// The state's text for a JSON value read from the server: the prior text
/// when it means the same (no diff), else the server's value, canonical.
/// `absent` is how the server shows "not set" (null, or `{}` for filters).
pub fn read_back(prior: &Str, server: &Value, absent: &Value, normal: fn(&Value) -> Value) -> Str {
    if let Some(p) = prior.as_ref_option() {
        if same_meaning(p, server, normal) {
            return Str::Value(p.clone());
        }
    }
    if server == absent && !prior.is_value() {
        return Str::Null;
    }
    Str::Value(canonical(server))
}

pub fn identity(v: &Value) -> Value {
    v.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_keys_nest_and_merge() {
        let v = json!({"customer.tier": "gold", "customer": {"id": 1}, "a.b.c": true});
        assert_eq!(nest_dotted(&v), json!({"customer": {"tier": "gold", "id": 1}, "a": {"b": {"c": true}}}));
    }

    #[test]
    fn read_back_keeps_equivalent_text() {
        let prior = Str::Value(r#"{"customer.tier":"gold"}"#.into());
        let server = json!({"customer": {"tier": "gold"}});
        assert_eq!(read_back(&prior, &server, &json!({}), nest_dotted), prior);
        let changed = json!({"customer": {"tier": "silver"}});
        assert_eq!(
            read_back(&prior, &changed, &json!({}), nest_dotted),
            Str::Value(r#"{"customer":{"tier":"silver"}}"#.into())
        );
        assert_eq!(read_back(&Str::Null, &json!({}), &json!({}), nest_dotted), Str::Null);
    }
}
