//! A webhook's delivery history (newest first, keyset pages like the other
//! lists) with every attempt, and redelivery of one delivery.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Webhooks;
use crate::commit::Notice;
use crate::error::{ControllerError, Result};
use crate::Actor;

/// `GET /api/v1/webhooks/{id}/deliveries` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// `pending`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// 1-1000, default 100.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct DeliveryEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    /// The receiver's answer; `null` when none came (network error, timeout).
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: DeliveryEvent,
    /// `pending` (waiting for its next attempt), `running`, `succeeded` or
    /// `failed` (out of attempts, or refused for good).
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The delivery this one repeats (`.../redeliver`).
    pub redelivery_of: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempt_history: Vec<DeliveryAttempt>,
}

#[derive(Debug, Serialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<WebhookDelivery>,
    pub next_cursor: Option<i64>,
}

const STATUSES: [&str; 4] = ["pending", "running", "succeeded", "failed"];

const SELECT: &str = "
SELECT d.id, d.webhook_id, e.id, e.type, d.status, d.attempt, d.last_response_status, d.last_error,
       d.next_attempt_at, d.redelivery_of, d.created_at, d.updated_at,
       coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'response_status', a.response_status,
                                                   'error', a.error, 'duration_ms', a.duration_ms, 'at', a.at)
                                 ORDER BY a.id)::text
                 FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]')
FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
WHERE d.tenant_id = $1 AND d.webhook_id = $2";

fn from_row(r: &tokio_postgres::Row) -> Result<WebhookDelivery> {
    let status: String = r.get(4);
    let history: String = r.get(12);
    Ok(WebhookDelivery {
        id: r.get(0),
        webhook_id: r.get(1),
        event: DeliveryEvent { id: r.get(2), event_type: r.get(3) },
        next_attempt_at: (status == "pending").then(|| r.get(8)),
        status,
        attempts: r.get(5),
        last_response_status: r.get(6),
        last_error: r.get(7),
        redelivery_of: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
        attempt_history: serde_json::from_str(&history)
            .map_err(|e| ControllerError::Internal(format!("attempt history: {e}")))?,
    })
}

impl Webhooks {
    /// Deliveries of webhook `id`, newest first.
    pub async fn deliveries(&self, tenant: &str, id: i64, q: DeliveryQuery) -> Result<DeliveryPage> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ControllerError::invalid("limit", "must be between 1 and 1000"));
        }
        if let Some(s) = &q.status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(ControllerError::invalid("status", format!("{s:?}: one of {}", STATUSES.join(", "))));
            }
        }
        self.get(tenant, id).await?;
        let db = self.core.db().await?;
        let rows = db
            .query(
                &format!(
                    "{SELECT} AND ($3::text IS NULL OR d.status = $3) AND ($4::bigint IS NULL OR d.id < $4)
                     ORDER BY d.id DESC LIMIT $5"
                ),
                &[&tenant, &id, &q.status, &q.cursor, &(limit + 1)],
            )
            .await?;
        let mut deliveries = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = crate::page::next_cursor(&mut deliveries, limit as usize, |d| d.id);
        Ok(DeliveryPage { deliveries, next_cursor })
    }

    pub async fn delivery(&self, tenant: &str, id: i64, delivery: i64) -> Result<WebhookDelivery> {
        let db = self.core.db().await?;
        let row = db
            .query_opt(&format!("{SELECT} AND d.id = $3"), &[&tenant, &id, &delivery])
            .await?
            .ok_or_else(|| ControllerError::not_found("webhook delivery", delivery.to_string()))?;
        from_row(&row)
    }

    /// Queues the delivery's event again for the webhook, as a new delivery
    /// (due now, a fresh attempt budget) that names the one it repeats. The
    /// webhook must be enabled, and the delivery finished.
    pub async fn redeliver(&self, actor: &Actor, id: i64, delivery: i64) -> Result<WebhookDelivery> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT d.status, d.event_id, w.enabled FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.id = $3",
                &[&actor.tenant, &id, &delivery],
            )
            .await?
            .ok_or_else(|| ControllerError::not_found("webhook delivery", delivery.to_string()))?;
        let (status, event_id, enabled): (String, Uuid, bool) = (row.get(0), row.get(1), row.get(2));
        if !enabled {
            return Err(ControllerError::WrongState(format!("webhook {id} is disabled; enable it to redeliver")));
        }
        if matches!(status.as_str(), "pending" | "running") {
            return Err(ControllerError::WrongState(format!(
                "delivery {delivery} is {status}: only finished deliveries are redelivered"
            )));
        }
        let new_id: i64 = tx
            .query_one(
                "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, redelivery_of)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&actor.tenant, &id, &event_id, &delivery],
            )
            .await?
            .get(0);
        // As queued (a worker may claim it as soon as this commits).
        let queued =
            from_row(&tx.query_one(&format!("{SELECT} AND d.id = $3"), &[&actor.tenant, &id, &new_id]).await?)?;
        let details = serde_json::json!({"id": id, "delivery": delivery, "redelivery": new_id});
        self.core
            .commit_change(tx, actor, "webhook.redeliver", &event_id.to_string(), details, Notice::EventClaimers)
            .await?;
        Ok(queued)
    }
}
