//! Publishing tenant events. One SQL statement inserts the event and fans it
//! out to one delivery per matching enabled subscription (type glob and
//! payload filter are matched in SQL) and one per matching enabled webhook
//! (`crate::webhooks`), then wakes the delivery workers of
//! every node with `NOTIFY quasm_events`. The same code serves
//! `POST /api/v1/events` and `env.EVENTS.publish` inside functions.

pub mod dead_letters;
pub(crate) mod delivery;
pub mod subscriptions;

use std::sync::{Arc, Weak};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::invoke::Invoker;

/// Largest payload, as JSON.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
const MAX_TYPE_LEN: usize = 200;
const MAX_KEY_LEN: usize = 200;

/// `POST /api/v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Free-form (an order id...), handed to the handler as `event.key`.
    pub key: Option<String>,
    /// A second publish with the same key is accepted once: it returns the
    /// first event's id and delivers nothing.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub id: Uuid,
    /// True when the idempotency key was seen before (nothing new happened).
    pub duplicate: bool,
    /// Deliveries queued, to subscriptions and webhooks (0 for a duplicate).
    pub deliveries: i64,
}

/// Event types: 1-200 of `A-Z a-z 0-9 . _ : -`.
pub fn validate_type(field: &str, t: &str) -> Result<()> {
    if t.is_empty() || t.len() > MAX_TYPE_LEN {
        return Err(ControllerError::invalid(field, format!("must be 1-{MAX_TYPE_LEN} characters")));
    }
    if let Some(c) = t.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))) {
        return Err(ControllerError::invalid(
            field,
            format!("{c:?} is not allowed: use letters, digits, '.', '_', ':' and '-'"),
        ));
    }
    Ok(())
}

fn validate_key(field: &str, k: &Option<String>) -> Result<()> {
    match k {
        Some(k) if k.is_empty() || k.len() > MAX_KEY_LEN => {
            Err(ControllerError::invalid(field, format!("must be 1-{MAX_KEY_LEN} bytes")))
        }
        Some(k) => crate::validate::no_nul(field, k),
        None => Ok(()),
    }
}

/// Inserts the event unless its idempotency key exists; fans out to the
/// matching subscriptions; notifies the workers when something was queued.
/// One statement, hence one transaction.
const PUBLISH_SQL: &str = "
WITH ev AS (
    INSERT INTO events (id, tenant_id, type, payload, key, idempotency_key, published_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, tenant_id, type, payload
), fan AS (
    INSERT INTO deliveries (tenant_id, event_id, subscription_id, function_id)
    SELECT ev.tenant_id, ev.id, s.id, s.function_id
    FROM ev JOIN subscriptions s
      ON s.tenant_id = ev.tenant_id AND s.enabled AND ev.type LIKE s.type_like
     -- No filter matches any payload, also null and scalars (`@> '{}'` is false for those).
     AND (s.filter = '{}'::jsonb OR ev.payload @> s.filter)
    RETURNING 1
), hooks AS (
    -- Tenant webhooks whose event types match (crate::webhooks).
    INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id)
    SELECT ev.tenant_id, w.id, ev.id
    FROM ev JOIN webhooks w
      ON w.tenant_id = ev.tenant_id AND w.enabled AND ev.type LIKE ANY (w.type_likes)
    RETURNING 1
), counted AS (
    SELECT (SELECT count(*) FROM fan) + (SELECT count(*) FROM hooks) AS n
), woken AS (
    SELECT pg_notify($8, $2) FROM counted WHERE n > 0
)
SELECT (SELECT count(*) FROM ev), (SELECT n FROM counted), (SELECT count(*) FROM woken)";

/// The tenant's event bus: publishing, subscriptions, dead letters, and
/// this node's delivery claimer (`triggers/events.rs`).
pub struct Events {
    pub(crate) core: Arc<Core>,
    pub(crate) invoker: Arc<Invoker>,
    /// Wakes this node's delivery claimer.
    pub(crate) wake: Arc<tokio::sync::Notify>,
}

impl Events {
    /// Publishes an event of `tenant` as `publisher` (a credential subject
    /// or `function`).
    pub async fn publish(&self, tenant: &str, publisher: &str, req: PublishEvent) -> Result<Published> {
        publish_one(&self.core, tenant, publisher, req).await
    }

    /// Publishes up to [`MAX_BATCH`] events in one transaction (one commit
    /// for all: the way to publish many events fast). Nothing is published
    /// unless every event is valid; errors name the event
    /// (`events[2].type`).
    pub async fn publish_many(&self, tenant: &str, publisher: &str, reqs: &[PublishEvent]) -> Result<Vec<Published>> {
        if reqs.is_empty() || reqs.len() > MAX_BATCH {
            return Err(ControllerError::invalid("events", format!("must hold 1-{MAX_BATCH} events")));
        }
        for (i, req) in reqs.iter().enumerate() {
            validate_event(&format!("events[{i}]."), req)?;
        }
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let mut out = Vec::with_capacity(reqs.len());
        for req in reqs {
            out.push(publish_in(&tx, tenant, publisher, req).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

async fn publish_one(core: &Core, tenant: &str, publisher: &str, req: PublishEvent) -> Result<Published> {
    validate_event("", &req)?;
    let db = core.db().await?;
    publish_in(&db, tenant, publisher, &req).await
}

/// Most events in one `POST /api/v1/events/batch`.
pub const MAX_BATCH: usize = 100;

fn validate_event(prefix: &str, req: &PublishEvent) -> Result<()> {
    validate_type(&format!("{prefix}type"), &req.event_type)?;
    crate::lifecycle::not_reserved(&format!("{prefix}type"), &req.event_type)?;
    validate_key(&format!("{prefix}key"), &req.key)?;
    validate_key(&format!("{prefix}idempotency_key"), &req.idempotency_key)?;
    let size = serde_json::to_vec(&req.payload).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_PAYLOAD_BYTES {
        return Err(ControllerError::invalid(
            format!("{prefix}payload"),
            format!("{size} bytes; at most {MAX_PAYLOAD_BYTES}"),
        ));
    }
    Ok(())
}

/// One publish on `db` (a connection or a transaction); no validation
/// (lifecycle events, `crate::lifecycle`, publish `quasm.*` types here).
pub(crate) async fn publish_in(
    db: &impl deadpool_postgres::GenericClient,
    tenant: &str,
    publisher: &str,
    req: &PublishEvent,
) -> Result<Published> {
    let id = Uuid::now_v7();
    let stmt = db.prepare_cached(PUBLISH_SQL).await?;
    let row = db
        .query_one(
            &stmt,
            &[
                &id,
                &tenant,
                &req.event_type,
                &crate::store::jsonb::Jsonb(&req.payload),
                &req.key,
                &req.idempotency_key,
                &publisher,
                &crate::changes::channel::EVENTS,
            ],
        )
        .await?;
    let (inserted, deliveries): (i64, i64) = (row.get(0), row.get(1));
    if inserted == 1 {
        return Ok(Published { id, duplicate: false, deliveries });
    }
    // The idempotency key exists: answer with the first event.
    let row = db
        .query_opt(
            "SELECT id FROM events WHERE tenant_id = $1 AND idempotency_key = $2",
            &[&tenant, &req.idempotency_key],
        )
        .await?
        .ok_or_else(|| ControllerError::Internal("idempotent publish found no event".into()))?;
    Ok(Published { id: row.get(0), duplicate: true, deliveries: 0 })
}

/// `env.EVENTS.publish` for functions: the same publish, as `function`. It
/// holds the core weakly: a call still running at shutdown must not keep
/// the database pool alive.
pub(crate) struct FunctionEvents(pub(crate) Weak<Core>);

impl quasm_runtime::EventPublisher for FunctionEvents {
    fn publish(
        &self,
        tenant: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, std::result::Result<String, String>> {
        let core = self.0.clone();
        let tenant = tenant.to_owned();
        let req = PublishEvent { event_type: event_type.to_owned(), payload, key: None, idempotency_key: None };
        Box::pin(async move {
            let core = core.upgrade().ok_or("the server is shutting down")?;
            match publish_one(&core, &tenant, "function", req).await {
                Ok(p) => Ok(p.id.to_string()),
                // The function sees what was wrong with its input, never internals.
                Err(e @ ControllerError::Invalid { .. }) => Err(e.to_string()),
                Err(e) => {
                    tracing::warn!(tenant, "env.EVENTS.publish failed: {e}");
                    Err("publishing the event failed".into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn types_are_checked() {
        assert!(super::validate_type("type", "payment.succeeded:v2_x-y").is_ok());
        for bad in ["", "a b", "a*", "é", &"a".repeat(201)] {
            assert!(super::validate_type("type", bad).unwrap_err().to_string().starts_with("type: "), "{bad}");
        }
    }
}
