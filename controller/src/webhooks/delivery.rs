//! Sending webhook deliveries, at least once.
//!
//! Every node runs one claimer, woken by `NOTIFY quasm_events` (the channel
//! the publish statement notifies; heard by the node's one listener,
//! `changes.rs`) and polling every second as a fallback and when the
//! earliest retry falls due. It claims due deliveries with `FOR UPDATE SKIP
//! LOCKED` (status `running`, `locked_by` = this node, attempt + 1) and
//! sends up to [`IN_FLIGHT`] at once through the SSRF-safe fetcher, one POST
//! per attempt (`alerts::channels::post_once`, 10 s timeout, no redirects).
//!
//! A 2xx answer is success. Anything else (another status, a network error,
//! a timeout) is a failed attempt, retried after the configured
//! [`Backoff`](crate::events::subscriptions::Backoff) until `max_attempts`; an
//! address the operator's policy refuses fails at once. Each attempt is
//! written with the delivery's new state in one transaction.
//!
//! Crash safety as for event deliveries: a node that dies with deliveries
//! `running` loses nothing; any node puts them back to `pending` (the
//! request may have reached the receiver: receivers deduplicate on
//! `Quasm-Delivery-Id` / `Quasm-Event-Id`).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use super::WebhookConfig;
use crate::alerts::channels::{self, Sent};
use crate::core::Core;
use crate::error::Result;

/// Requests in flight at once per node.
pub const IN_FLIGHT: usize = 32;
/// Node crashes a delivery may go through before it is `failed`.
const MAX_CRASH_REQUEUES: i32 = 5;
/// Longest sleep without a notification.
const POLL: Duration = Duration::from_secs(1);
const USER_AGENT: &str = "quasm-webhooks";

/// Tenant webhooks: CRUD (`mod.rs`), history (`history.rs`) and delivery.
pub struct Webhooks {
    pub(crate) core: Arc<Core>,
    /// Wakes this node's webhook delivery claimer (`NOTIFY quasm_events`).
    pub(crate) wake: Arc<Notify>,
    delivered: Counter,
    failed: Counter,
}

impl Webhooks {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        let (delivered, failed) = (Counter::default(), Counter::default());
        let metrics = &core.metrics;
        metrics.register("webhook_attempts_delivered", "Webhook attempts answered with 2xx", delivered.clone());
        metrics.register("webhook_attempts_failed", "Webhook attempts that failed", failed.clone());
        Self { core, wake: Default::default(), delivered, failed }
    }
}

/// Starts the claimer.
pub(crate) fn start(webhooks: &Arc<Webhooks>) {
    tokio::spawn(claim_loop(Arc::downgrade(webhooks), webhooks.wake.clone()));
}

/// A claimed delivery with what sending it needs.
struct Claimed {
    id: i64,
    tenant: String,
    webhook_id: i64,
    attempt: i32,
    url: String,
    sealed_secret: Vec<u8>,
    enabled: bool,
    event_id: Uuid,
    event_type: String,
    payload: serde_json::Value,
    key: Option<String>,
    published_at: DateTime<Utc>,
}

/// A delivery's state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    Succeeded,
    Retry { delay_ms: f64 },
    Failed,
}

async fn claim_loop(controller: Weak<Webhooks>, wake: Arc<Notify>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut last_takeover: Option<Instant> = None;
    loop {
        let Some(c) = controller.upgrade() else { return };
        let stopping = c.core.stopping.clone();
        if stopping.is_cancelled() {
            return;
        }
        if last_takeover.is_none_or(|t| t.elapsed() >= (c.core.node.lease / 2).min(POLL)) {
            match c.take_over_webhook_deliveries().await {
                Ok(0) => {}
                Ok(n) => tracing::warn!("took over {n} webhook deliveries of dead nodes"),
                Err(e) => tracing::warn!("taking over webhook deliveries: {e}"),
            }
            last_takeover = Some(Instant::now());
        }
        let first = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stopping.cancelled() => return,
        };
        let mut permits = vec![first];
        while let Ok(p) = slots.clone().try_acquire_owned() {
            permits.push(p);
        }
        let wanted = permits.len();
        let idle = match c.claim_webhook_deliveries(wanted).await {
            Ok(batch) => {
                let got = batch.len();
                for d in batch {
                    let permit = permits.pop().expect("one permit per claimed delivery");
                    let c2 = c.clone();
                    c.core.spawn_run(async move {
                        c2.send_webhook(d).await;
                        drop(permit);
                    });
                }
                got < wanted
            }
            Err(e) => {
                tracing::warn!("claiming webhook deliveries: {e}");
                true
            }
        };
        drop(permits);
        if idle {
            let wait = match c.next_webhook_due().await {
                Ok(Some(secs)) => Duration::from_secs_f64(secs.max(0.0)).min(POLL),
                _ => POLL,
            };
            drop(c);
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stopping.cancelled() => return,
            }
        }
    }
}

fn jitter() -> f64 {
    getrandom::u64().map(|r| (r >> 11) as f64 / (1u64 << 53) as f64).unwrap_or(0.5)
}

/// The delivery's next state after attempt `attempt` ended as `sent`.
fn decide(config: &WebhookConfig, attempt: i32, sent: &Sent, jitter: f64) -> Next {
    if sent.ok() {
        Next::Succeeded
    } else if sent.retryable_for_webhooks() && attempt < config.max_attempts {
        Next::Retry { delay_ms: config.backoff.delay_ms(attempt, jitter) }
    } else {
        Next::Failed
    }
}

impl Sent {
    /// Webhooks retry every answer but 2xx (not only 429 and 5xx, as alert
    /// channels do): a receiver answering 404 while it is being deployed
    /// should still get the event. Refusals by the address policy and bad
    /// URLs are final.
    fn retryable_for_webhooks(&self) -> bool {
        self.retryable || self.status.is_some()
    }
}

/// Text for a `text` column: Postgres refuses NUL.
fn text(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s
    }
}

impl Webhooks {
    async fn send_webhook(&self, d: Claimed) {
        let started = Instant::now();
        let sent = if !d.enabled {
            Sent { status: None, error: Some("the webhook is disabled".into()), retryable: false }
        } else {
            match self.core.secrets.open(&d.sealed_secret).map(|mut s| s.remove("hmac").unwrap_or_default()) {
                Ok(secret) => self.post_webhook(&d, &secret).await,
                Err(e) => {
                    Sent { status: None, error: Some(format!("opening the signing secret: {e}")), retryable: false }
                }
            }
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let next = decide(&self.core.config.webhooks, d.attempt, &sent, jitter());
        if sent.ok() {
            self.delivered.inc();
        } else {
            self.failed.inc();
            tracing::debug!(delivery = d.id, attempt = d.attempt, ?next, "webhook attempt failed: {:?}", sent.error);
        }
        let mut wait = Duration::from_millis(100);
        loop {
            match self.complete_webhook_delivery(&d, &sent, next, duration_ms).await {
                Ok(()) => break,
                Err(e) if self.core.stopping.is_cancelled() => {
                    // Left `running`: another node retries it once this one has left.
                    tracing::warn!(delivery = d.id, "storing a webhook attempt while stopping: {e}");
                    break;
                }
                Err(e) => {
                    tracing::warn!(delivery = d.id, "storing a webhook attempt: {e}; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        if matches!(next, Next::Retry { .. }) {
            // The claimer recomputes when the earliest retry is due.
            self.wake.notify_one();
        }
    }

    /// One signed POST of the event envelope.
    async fn post_webhook(&self, d: &Claimed, secret: &str) -> Sent {
        let body = serde_json::json!({
            "id": d.event_id,
            "type": d.event_type,
            "tenant": d.tenant,
            "published_at": d.published_at,
            "key": d.key,
            "payload": d.payload,
        })
        .to_string();
        let headers = vec![
            (channels::SIGNATURE_HEADER.to_owned(), channels::signature(secret.as_bytes(), &body)),
            ("quasm-webhook-id".to_owned(), d.webhook_id.to_string()),
            ("quasm-delivery-id".to_owned(), d.id.to_string()),
            ("quasm-event-id".to_owned(), d.event_id.to_string()),
            ("quasm-event-type".to_owned(), d.event_type.clone()),
            ("quasm-attempt".to_owned(), d.attempt.to_string()),
        ];
        channels::post_once(self.core.runtime.fetcher(), &d.url, body.into_bytes(), USER_AGENT, headers).await
    }

    /// Claims up to `n` due deliveries for this node.
    async fn claim_webhook_deliveries(&self, n: usize) -> Result<Vec<Claimed>> {
        let rows = self
            .core
            .db()
            .await?
            .query(
                "WITH due AS (
                     SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
                 ), claimed AS (
                     UPDATE webhook_deliveries d SET status = 'running', locked_by = $1, attempt = d.attempt + 1,
                            updated_at = now()
                     FROM due WHERE d.id = due.id
                     RETURNING d.id, d.tenant_id, d.webhook_id, d.event_id, d.attempt
                 )
                 SELECT c.id, c.tenant_id, c.webhook_id, c.attempt, w.url, w.secret, w.enabled,
                        e.id, e.type, e.payload, e.key, e.created_at
                 FROM claimed c JOIN webhooks w ON w.id = c.webhook_id JOIN events e ON e.id = c.event_id",
                &[&self.core.node.id, &(n as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Claimed {
                id: r.get(0),
                tenant: r.get(1),
                webhook_id: r.get(2),
                attempt: r.get(3),
                url: r.get(4),
                sealed_secret: r.get(5),
                enabled: r.get(6),
                event_id: r.get(7),
                event_type: r.get(8),
                payload: crate::store::jsonb::get(r, 9),
                key: r.get(10),
                published_at: r.get(11),
            })
            .collect())
    }

    /// Records the attempt and the delivery's new state together. Only a
    /// delivery still `running` under this node changes (one taken over
    /// meanwhile is another node's now); its attempt is recorded anyway.
    async fn complete_webhook_delivery(&self, d: &Claimed, sent: &Sent, next: Next, duration_ms: i32) -> Result<()> {
        let (status, delay_ms) = match next {
            Next::Succeeded => ("succeeded", 0.0),
            Next::Retry { delay_ms } => ("pending", delay_ms),
            Next::Failed => ("failed", 0.0),
        };
        let error = sent.error.clone().map(text);
        let response = sent.status.map(i32::from);
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        // The delivery is gone when its webhook was deleted meanwhile.
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, response_status, error, duration_ms)
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)",
            &[&d.id, &d.attempt, &response, &error, &duration_ms],
        )
        .await?;
        tx.execute(
            "UPDATE webhook_deliveries SET status = $3, last_response_status = $4, last_error = $5,
                    next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + $6 * interval '1 millisecond'
                                           ELSE next_attempt_at END,
                    locked_by = NULL, updated_at = now()
             WHERE id = $1 AND status = 'running' AND locked_by = $2",
            &[&d.id, &self.core.node.id, &status, &response, &error, &delay_ms],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries left `running` by dead nodes go back to `pending`, due
    /// now, without spending the attempt (as event deliveries do); after
    /// [`MAX_CRASH_REQUEUES`] crashes one is `failed`.
    async fn take_over_webhook_deliveries(&self) -> Result<u64> {
        let sql = format!(
            "UPDATE webhook_deliveries d
             SET status = CASE WHEN d.crash_requeues >= $2 THEN 'failed' ELSE 'pending' END,
                 attempt = CASE WHEN d.crash_requeues >= $2 THEN d.attempt ELSE greatest(d.attempt - 1, 0) END,
                 crash_requeues = d.crash_requeues + 1,
                 locked_by = NULL, next_attempt_at = now(), updated_at = now(),
                 last_error = CASE WHEN d.crash_requeues >= $2
                     THEN 'the node sending this delivery stopped before it finished, '
                          || (d.crash_requeues + 1) || ' times'
                     ELSE d.last_error END
             WHERE d.status = 'running' AND d.locked_by <> $1 AND NOT {}",
            crate::nodes::alive("d.locked_by")
        );
        Ok(self.core.db().await?.execute(&sql, &[&self.core.node.id, &MAX_CRASH_REQUEUES]).await?)
    }

    /// Seconds until the earliest pending delivery is due (negative: now).
    async fn next_webhook_due(&self) -> Result<Option<f64>> {
        let row = self
            .core
            .db()
            .await?
            .query_one(
                "SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - now())::float8 FROM webhook_deliveries
                 WHERE status = 'pending'",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::subscriptions::Backoff;

    fn config() -> WebhookConfig {
        WebhookConfig { max_attempts: 3, backoff: Backoff { initial_ms: 100, max_ms: 1000 } }
    }

    #[test]
    fn every_failed_answer_retries_until_the_last_attempt() {
        let answered = |s: u16| Sent { status: Some(s), error: (s >= 300).then(|| "no".into()), retryable: false };
        assert_eq!(decide(&config(), 1, &answered(200), 0.0), Next::Succeeded);
        assert_eq!(decide(&config(), 1, &answered(404), 0.0), Next::Retry { delay_ms: 50.0 });
        assert_eq!(decide(&config(), 2, &answered(500), 0.0), Next::Retry { delay_ms: 100.0 });
        assert_eq!(decide(&config(), 3, &answered(500), 0.0), Next::Failed);
        let network = Sent { status: None, error: Some("refused".into()), retryable: true };
        assert!(matches!(decide(&config(), 1, &network, 0.5), Next::Retry { .. }));
        let policy = Sent { status: None, error: Some("private address".into()), retryable: false };
        assert_eq!(decide(&config(), 1, &policy, 0.5), Next::Failed);
    }
}
