//! Dead letters: deliveries that failed `max_attempts` times (status
//! `dead`). They keep the event, the attempts made, the last error and the
//! last execution id until replayed (back to `pending` with a fresh attempt
//! counter) or deleted.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commit::Notice;
use crate::error::{ControllerError, Result};
use crate::events::Events;
use crate::Actor;

#[derive(Debug, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub event: DeadEvent,
    pub subscription_id: i64,
    pub function: String,
    /// Attempts made.
    pub attempts: i32,
    pub last_error: Option<serde_json::Value>,
    pub last_execution_id: Option<Uuid>,
    /// When it became a dead letter.
    pub dead_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize)]
pub struct DeadEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: serde_json::Value,
    pub key: Option<String>,
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// `GET /api/v1/dead-letters` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    pub function: Option<String>,
    pub subscription: Option<i64>,
    /// 1-1000, default 100.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetter>,
    pub next_cursor: Option<i64>,
}

const SELECT: &str = "SELECT d.id, e.id, e.type, e.payload, e.key, e.created_at, d.subscription_id, f.name,
                             d.attempt, d.last_error, d.last_execution_id, d.updated_at
                      FROM deliveries d JOIN events e ON e.id = d.event_id JOIN functions f ON f.id = d.function_id
                      WHERE d.tenant_id = $1 AND d.status = 'dead'";

fn from_row(r: &tokio_postgres::Row) -> DeadLetter {
    DeadLetter {
        id: r.get(0),
        event: DeadEvent {
            id: r.get(1),
            event_type: r.get(2),
            payload: crate::store::jsonb::get(r, 3),
            key: r.get(4),
            published_at: r.get(5),
        },
        subscription_id: r.get(6),
        function: r.get(7),
        attempts: r.get(8),
        last_error: crate::store::jsonb::get_opt(r, 9),
        last_execution_id: r.get(10),
        dead_at: r.get(11),
    }
}

impl Events {
    /// Newest first.
    pub async fn list_dead_letters(&self, tenant: &str, q: DeadLetterQuery) -> Result<DeadLetterPage> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ControllerError::invalid("limit", "must be between 1 and 1000"));
        }
        let db = self.core.db().await?;
        let rows = db
            .query(
                &format!(
                    "{SELECT} AND ($2::text IS NULL OR f.name = $2) AND ($3::bigint IS NULL OR d.subscription_id = $3)
                       AND ($4::bigint IS NULL OR d.id < $4)
                     ORDER BY d.id DESC LIMIT $5"
                ),
                &[&tenant, &q.function, &q.subscription, &q.cursor, &(limit + 1)],
            )
            .await?;
        let mut dead_letters: Vec<DeadLetter> = rows.iter().map(from_row).collect();
        let next_cursor = crate::page::next_cursor(&mut dead_letters, limit as usize, |d| d.id);
        Ok(DeadLetterPage { dead_letters, next_cursor })
    }

    pub async fn get_dead_letter(&self, tenant: &str, id: i64) -> Result<DeadLetter> {
        let db = self.core.db().await?;
        let row = db
            .query_opt(&format!("{SELECT} AND d.id = $2"), &[&tenant, &id])
            .await?
            .ok_or_else(|| ControllerError::not_found("dead letter", id.to_string()))?;
        Ok(from_row(&row))
    }

    /// Queues the delivery again, due now, with its attempt counter reset
    /// (it gets the subscription's `max_attempts` anew).
    pub async fn replay_dead_letter(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let n = tx
            .execute(
                "UPDATE deliveries SET status = 'pending', attempt = 0, next_attempt_at = now(), locked_by = NULL,
                        updated_at = now()
                 WHERE tenant_id = $1 AND id = $2 AND status = 'dead'",
                &[&actor.tenant, &id],
            )
            .await?;
        if n == 0 {
            return Err(ControllerError::not_found("dead letter", id.to_string()));
        }
        let (target, details) = (id.to_string(), serde_json::json!({}));
        self.core.commit_change(tx, actor, "dead_letter.replay", &target, details, Notice::EventClaimers).await?;
        Ok(())
    }

    pub async fn delete_dead_letter(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let n = tx
            .execute(
                "DELETE FROM deliveries WHERE tenant_id = $1 AND id = $2 AND status = 'dead'",
                &[&actor.tenant, &id],
            )
            .await?;
        if n == 0 {
            return Err(ControllerError::not_found("dead letter", id.to_string()));
        }
        let (target, details) = (id.to_string(), serde_json::json!({}));
        self.core.commit_change(tx, actor, "dead_letter.delete", &target, details, Notice::Nobody).await?;
        Ok(())
    }
}
