//! Subscriptions: which function's `event` handler receives which events.
//! The event type is exact or a glob (`*` matches any run of characters,
//! dots included); the optional filter is matched by JSON containment
//! (`payload @> filter`), with dotted keys (`"customer.tier"`) turned into
//! nested objects when the subscription is created. Matching happens in SQL
//! when an event is published (`events.rs`), so nothing here is cached.

use serde::{Deserialize, Serialize};

use crate::commit::Notice;
use crate::error::{ControllerError, Result};
use crate::events::Events;
use crate::functions::ensure_tenant;
use crate::Actor;

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
pub const DEFAULT_BACKOFF_INITIAL_MS: i32 = 1_000;
pub const DEFAULT_BACKOFF_MAX_MS: i32 = 60_000;
/// One day: the longest wait between two attempts.
const MAX_BACKOFF_MS: i32 = 86_400_000;
const MAX_FILTER_BYTES: usize = 8 * 1024;

/// `POST /api/v1/subscriptions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    pub function: String,
    pub event_type: String,
    pub filter: Option<serde_json::Map<String, serde_json::Value>>,
    pub max_attempts: Option<i32>,
    #[serde(default, deserialize_with = "crate::serde_strict::option_object")]
    pub backoff: Option<BackoffInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffInput {
    pub initial_ms: Option<i32>,
    pub max_ms: Option<i32>,
}

/// Retry spacing: attempt `n` (1-based) failed → the next one waits
/// `min(max_ms, initial_ms · 2^(n-1))` scaled by a random factor in
/// [0.5, 1) ("equal jitter").
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Backoff {
    pub initial_ms: i32,
    pub max_ms: i32,
}

impl Backoff {
    /// The wait after failed attempt `attempt`, before jitter.
    pub fn base_delay_ms(&self, attempt: i32) -> f64 {
        let exp = (attempt.max(1) - 1).min(40);
        (self.initial_ms as f64 * 2f64.powi(exp)).min(self.max_ms as f64)
    }

    /// The wait after failed attempt `attempt`, with `jitter` in [0, 1).
    pub fn delay_ms(&self, attempt: i32, jitter: f64) -> f64 {
        self.base_delay_ms(attempt) * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub id: i64,
    pub function: String,
    pub event_type: String,
    pub filter: serde_json::Value,
    pub max_attempts: i32,
    pub backoff: Backoff,
    pub enabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A type glob as a LIKE pattern: `*` → `%`; LIKE's own `%`, `_` and `\`
/// are escaped. The glob's characters are those of event types plus `*`.
pub fn glob_to_like(glob: &str) -> Result<String> {
    let field = "event_type";
    if glob.is_empty() || glob.len() > 200 {
        return Err(ControllerError::invalid(field, "must be 1-200 characters"));
    }
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '_' => out.push_str("\\_"),
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-') => out.push(c),
            c => {
                return Err(ControllerError::invalid(
                    field,
                    format!(
                        "{c:?} is not allowed in {glob:?}: an event type (letters, digits, '.', '_', ':', '-') \
                         where '*' matches any run of characters"
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// `{"customer.tier": "gold", "amount": 5}` → `{"customer": {"tier":
/// "gold"}, "amount": 5}`; a key given twice (`a` and `a.b`) is refused.
pub fn nest_filter(flat: serde_json::Map<String, serde_json::Value>) -> Result<serde_json::Value> {
    let mut root = serde_json::Map::new();
    for (key, value) in flat {
        let field = format!("filter.{key}");
        let parts: Vec<&str> = key.split('.').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(ControllerError::invalid(field, "empty path segment"));
        }
        let (last, parents) = parts.split_last().expect("split yields one part at least");
        let mut node = &mut root;
        for p in parents {
            let child = node.entry(p.to_string()).or_insert_with(|| serde_json::Value::Object(Default::default()));
            node = child
                .as_object_mut()
                .ok_or_else(|| ControllerError::invalid(field.clone(), format!("{p:?} is also given a value")))?;
        }
        match node.get_mut(*last) {
            None => {
                node.insert(last.to_string(), value);
            }
            // `a.b` then `a`: merge objects, refuse anything else.
            Some(serde_json::Value::Object(existing)) if value.is_object() => {
                for (k, v) in value.as_object().expect("checked").clone() {
                    if existing.insert(k.clone(), v).is_some() {
                        return Err(ControllerError::invalid(field, format!("{k:?} is given twice")));
                    }
                }
            }
            Some(_) => return Err(ControllerError::invalid(field, "is given twice")),
        }
    }
    Ok(serde_json::Value::Object(root))
}

const COLUMNS: &str = "s.id, f.name, s.event_type, s.filter, s.max_attempts, s.backoff_initial_ms, \
                       s.backoff_max_ms, s.enabled, s.created_at";

fn from_row(r: &tokio_postgres::Row) -> Subscription {
    Subscription {
        id: r.get(0),
        function: r.get(1),
        event_type: r.get(2),
        filter: r.get(3),
        max_attempts: r.get(4),
        backoff: Backoff { initial_ms: r.get(5), max_ms: r.get(6) },
        enabled: r.get(7),
        created_at: r.get(8),
    }
}

impl Events {
    pub async fn create_subscription(&self, actor: &Actor, req: CreateSubscription) -> Result<Subscription> {
        crate::validate::name("function", &req.function)?;
        let type_like = glob_to_like(&req.event_type)?;
        let filter = nest_filter(req.filter.unwrap_or_default())?;
        if filter.to_string().len() > MAX_FILTER_BYTES {
            return Err(ControllerError::invalid("filter", format!("at most {MAX_FILTER_BYTES} bytes")));
        }
        let max_attempts = req.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if !(1..=100).contains(&max_attempts) {
            return Err(ControllerError::invalid("max_attempts", "must be between 1 and 100"));
        }
        let b = req.backoff.unwrap_or_default();
        let initial = b.initial_ms.unwrap_or(DEFAULT_BACKOFF_INITIAL_MS);
        if !(1..=MAX_BACKOFF_MS).contains(&initial) {
            return Err(ControllerError::invalid(
                "backoff.initial_ms",
                format!("must be between 1 and {MAX_BACKOFF_MS}"),
            ));
        }
        let max = b.max_ms.unwrap_or(DEFAULT_BACKOFF_MAX_MS.max(initial));
        if !(initial..=MAX_BACKOFF_MS).contains(&max) {
            return Err(ControllerError::invalid(
                "backoff.max_ms",
                format!("must be between backoff.initial_ms ({initial}) and {MAX_BACKOFF_MS}"),
            ));
        }
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let f = self.core.function_row(&tx, &actor.tenant, &req.function, false).await?;
        let row = tx
            .query_one(
                "INSERT INTO subscriptions (tenant_id, function_id, event_type, type_like, filter, max_attempts,
                                            backoff_initial_ms, backoff_max_ms, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at",
                &[
                    &actor.tenant,
                    &f.id,
                    &req.event_type,
                    &type_like,
                    &filter,
                    &max_attempts,
                    &initial,
                    &max,
                    &actor.subject,
                ],
            )
            .await?;
        let sub = Subscription {
            id: row.get(0),
            function: f.function.name,
            event_type: req.event_type,
            filter,
            max_attempts,
            backoff: Backoff { initial_ms: initial, max_ms: max },
            enabled: true,
            created_at: row.get(1),
        };
        let details = serde_json::json!({"id": sub.id, "function": sub.function, "filter": sub.filter,
                                         "max_attempts": max_attempts, "backoff": sub.backoff});
        self.core.commit_change(tx, actor, "subscription.create", &sub.event_type, details, Notice::Nobody).await?;
        Ok(sub)
    }

    pub async fn list_subscriptions(&self, tenant: &str) -> Result<Vec<Subscription>> {
        let db = self.core.db().await?;
        let rows = db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM subscriptions s JOIN functions f ON f.id = s.function_id
                     WHERE s.tenant_id = $1 ORDER BY s.id"
                ),
                &[&tenant],
            )
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn get_subscription(&self, tenant: &str, id: i64) -> Result<Subscription> {
        let db = self.core.db().await?;
        let row = db
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM subscriptions s JOIN functions f ON f.id = s.function_id
                     WHERE s.tenant_id = $1 AND s.id = $2"
                ),
                &[&tenant, &id],
            )
            .await?
            .ok_or_else(|| ControllerError::not_found("subscription", id.to_string()))?;
        Ok(from_row(&row))
    }

    /// Deletes a subscription with its pending deliveries and dead letters.
    pub async fn delete_subscription(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let row = tx
            .query_opt(
                "DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2 RETURNING event_type",
                &[&actor.tenant, &id],
            )
            .await?
            .ok_or_else(|| ControllerError::not_found("subscription", id.to_string()))?;
        let event_type: String = row.get(0);
        let details = serde_json::json!({"id": id});
        self.core.commit_change(tx, actor, "subscription.delete", &event_type, details, Notice::Nobody).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_become_like_patterns() {
        assert_eq!(glob_to_like("payment.*").unwrap(), "payment.%");
        assert_eq!(glob_to_like("a_b*c").unwrap(), "a\\_b%c");
        assert_eq!(glob_to_like("*").unwrap(), "%");
        for bad in ["", "a b", "a?", "a%", "a\\b", "é"] {
            let e = glob_to_like(bad).unwrap_err().to_string();
            assert!(e.starts_with("event_type: "), "{bad}: {e}");
        }
    }

    #[test]
    fn dotted_filter_keys_nest() {
        let flat = json!({"customer.tier": "gold", "customer.region": "eu", "amount": 5});
        let nested = nest_filter(flat.as_object().unwrap().clone()).unwrap();
        assert_eq!(nested, json!({"customer": {"tier": "gold", "region": "eu"}, "amount": 5}));
        let clash = json!({"a": 1, "a.b": 2});
        let e = nest_filter(clash.as_object().unwrap().clone()).unwrap_err().to_string();
        assert!(e.starts_with("filter.a"), "{e}");
        let e = nest_filter(json!({"a..b": 1}).as_object().unwrap().clone()).unwrap_err().to_string();
        assert!(e.starts_with("filter.a..b"), "{e}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_equal_jitter() {
        let b = Backoff { initial_ms: 100, max_ms: 1000 };
        assert_eq!([1, 2, 3, 4, 5].map(|a| b.base_delay_ms(a)), [100.0, 200.0, 400.0, 800.0, 1000.0]);
        assert_eq!(b.delay_ms(2, 0.0), 100.0);
        assert!(b.delay_ms(2, 0.999) < 200.0);
        assert_eq!(b.base_delay_ms(1000), 1000.0);
    }
}

/// Properties over arbitrary filters and globs (proptest): never a panic;
/// a refused filter names a `filter.` field; a LIKE pattern never lets an
/// unescaped `_` or `%` through except for `*`.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,8}".prop_map(serde_json::Value::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn any_flat_filter_nests_or_is_refused(keys in proptest::collection::vec("[a-c.]{0,6}", 0..6), leaf in json_leaf()) {
            let flat: serde_json::Map<_, _> = keys.into_iter().map(|k| (k, leaf.clone())).collect();
            match nest_filter(flat) {
                Ok(v) => prop_assert!(v.is_object()),
                Err(e) => prop_assert!(e.to_string().starts_with("filter."), "{e}"),
            }
        }

        #[test]
        fn any_glob_becomes_a_safe_like_pattern_or_is_refused(g in "\\PC{0,30}") {
            if let Ok(like) = glob_to_like(&g) {
                let stars = g.matches('*').count();
                prop_assert_eq!(like.matches('%').count(), stars);
                prop_assert!(!like.replace("\\_", "").contains('_'));
            }
        }
    }
}
