//! The event trigger: delivers queued deliveries (`deliveries`, filled by
//! `events.rs` when an event is published) to the subscribed function's
//! `event` handler through [`Invoker::invoke`](crate::Invoker::invoke), at least once.
//!
//! Every node runs one claimer: it LISTENs on `quasm_events` (own
//! connection) and polls as a fallback (every second, and when the earliest
//! retry falls due), claims due deliveries in batches with `FOR UPDATE SKIP
//! LOCKED` (status `running`, `locked_by` = this node, attempt + 1), and runs
//! up to [`IN_FLIGHT`] at once. Results are written back in batches by one
//! completer (one `UPDATE ... FROM unnest(...)` per batch), after the
//! execution records of the batch are flushed, so a delivery is never `done`
//! without its record.
//!
//! Crash safety: a claimed delivery stays `running` under this node's id.
//! If the node dies (lease expired, see `nodes.rs`) or leaves, any node puts
//! its deliveries back to `pending` (or `dead` when that was the last
//! attempt), so nothing is lost; the price is that a delivery may run twice.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::error::{ControllerError, Result};
use crate::events::subscriptions::Backoff;
use crate::events::Events;
use crate::{Call, Outcome};

/// Deliveries running at once on one node.
pub const IN_FLIGHT: usize = 64;
/// Below this many free slots, the claimer waits a moment for more rather
/// than claiming one delivery per round trip.
/// Node crashes a delivery may go through before it is a dead letter.
pub const MAX_CRASH_REQUEUES: i32 = 5;

const MIN_CLAIM: usize = IN_FLIGHT / 4;
/// Longest sleep without a notification.
const POLL: Duration = Duration::from_secs(1);
/// Most completions written by one statement.
const COMPLETION_BATCH: usize = 1024;

/// Starts the claimer. It is woken by `NOTIFY quasm_events` (heard by the
/// node's one listener, `changes.rs`, on every reconnection too) and polls
/// anyway every [`POLL`].
pub(crate) fn start(events: &Arc<Events>) {
    tokio::spawn(claim_loop(Arc::downgrade(events), events.wake.clone()));
}

/// A claimed delivery with what its run needs.
struct Claimed {
    id: i64,
    tenant: String,
    function: String,
    attempt: i32,
    max_attempts: i32,
    backoff: Backoff,
    event_id: Uuid,
    event_type: String,
    payload: serde_json::Value,
    key: Option<String>,
    published_at: DateTime<Utc>,
}

/// What happens to a delivery after a run.
#[derive(Debug, Clone, PartialEq)]
enum Next {
    Done,
    /// Pending again after `delay_ms`; `refund` gives the attempt back (the
    /// function never ran: throttled).
    Retry {
        delay_ms: f64,
        refund: bool,
    },
    Dead,
}

struct Completion {
    id: i64,
    next: Next,
    error: Option<serde_json::Value>,
    execution_id: Option<Uuid>,
    /// Answered once the completion is written.
    written: oneshot::Sender<()>,
}

// ------------------------------------------------------------- claiming

async fn claim_loop(controller: Weak<Events>, wake: Arc<Notify>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    tokio::spawn(complete_loop(controller.clone(), done_rx, wake.clone()));
    let mut last_takeover: Option<Instant> = None;
    loop {
        let Some(c) = controller.upgrade() else { return };
        let stopping = c.core.stopping.clone();
        if stopping.is_cancelled() {
            return;
        }
        let takeover_every = (c.core.node.lease / 2).min(POLL);
        if last_takeover.is_none_or(|t| t.elapsed() >= takeover_every) {
            match c.take_over_deliveries().await {
                Ok(0) => {}
                Ok(n) => tracing::warn!("took over {n} event deliveries of dead nodes"),
                Err(e) => tracing::warn!("taking over event deliveries: {e}"),
            }
            last_takeover = Some(Instant::now());
        }
        let mut permits = match gather(&slots, &stopping).await {
            Some(p) => p,
            None => return,
        };
        let wanted = permits.len();
        let idle = match c.claim_deliveries(wanted).await {
            Ok(batch) => {
                let got = batch.len();
                for d in batch {
                    let permit = permits.pop().expect("one permit per claimed delivery");
                    c.core.spawn_run(deliver(c.clone(), d, permit, done_tx.clone()));
                }
                got < wanted
            }
            Err(e) => {
                tracing::warn!("claiming event deliveries: {e}");
                true
            }
        };
        drop(permits);
        if idle {
            // Sleep until notified, the earliest retry is due, or POLL.
            let wait = match c.next_delivery_due().await {
                Ok(Some(secs)) => Duration::from_secs_f64(secs.max(0.0)).min(POLL),
                Ok(None) => POLL,
                Err(_) => POLL,
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

/// Waits for a free slot, then takes every free one (waiting a moment for
/// [`MIN_CLAIM`] when deliveries are running). None when stopping.
async fn gather(
    slots: &Arc<Semaphore>,
    stopping: &tokio_util::sync::CancellationToken,
) -> Option<Vec<OwnedSemaphorePermit>> {
    let first = tokio::select! {
        p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
        _ = stopping.cancelled() => return None,
    };
    let mut permits = vec![first];
    while let Ok(p) = slots.clone().try_acquire_owned() {
        permits.push(p);
    }
    if permits.len() < MIN_CLAIM {
        let more = (MIN_CLAIM - permits.len()) as u32;
        if let Ok(Ok(p)) = tokio::time::timeout(Duration::from_millis(2), slots.clone().acquire_many_owned(more)).await
        {
            permits.push(p);
            while let Ok(p) = slots.clone().try_acquire_owned() {
                permits.push(p);
            }
        }
    }
    // acquire_many_owned gives one permit worth several: split it.
    let mut out = Vec::with_capacity(IN_FLIGHT);
    for mut p in permits {
        while p.num_permits() > 1 {
            out.push(p.split(1).expect("more than one permit"));
        }
        out.push(p);
    }
    Some(out)
}

// ------------------------------------------------------------- running

async fn deliver(c: Arc<Events>, d: Claimed, slot: OwnedSemaphorePermit, done: mpsc::UnboundedSender<Completion>) {
    // The event handler's argument; the prelude camelCases its keys
    // (`publishedAt`), see `QuasmEvent` in sdk-js/types/quasm.d.ts.
    let input = serde_json::json!({
        "id": d.event_id,
        "type": d.event_type,
        "payload": d.payload,
        "key": d.key,
        "attempt": d.attempt,
        "published_at": d.published_at,
    });
    let call = Call::event(d.tenant.clone(), d.function.clone(), d.event_id, d.attempt, input);
    let outcome = c.invoker.invoke(call).await;
    drop(slot);
    let (next, error, execution_id) = decide(&d, outcome, jitter());
    if next != Next::Done {
        tracing::debug!(delivery = d.id, attempt = d.attempt, ?next, "event delivery failed");
    }
    let (written, ack) = oneshot::channel();
    if done.send(Completion { id: d.id, next, error, execution_id, written }).is_ok() {
        // Keeps this run in `runs` (awaited on shutdown) until its outcome is stored.
        let _ = ack.await;
    }
}

fn jitter() -> f64 {
    getrandom::u64().map(|r| (r >> 11) as f64 / (1u64 << 53) as f64).unwrap_or(0.5)
}

/// The delivery's next state after a run (or a failure to start one).
fn decide(d: &Claimed, outcome: Result<Outcome>, jitter: f64) -> (Next, Option<serde_json::Value>, Option<Uuid>) {
    let failed = |error: serde_json::Value, execution: Option<Uuid>| {
        let next = if d.attempt < d.max_attempts {
            Next::Retry { delay_ms: d.backoff.delay_ms(d.attempt, jitter), refund: false }
        } else {
            Next::Dead
        };
        (next, Some(error), execution)
    };
    let invocation_error =
        |name: &str, e: &ControllerError| serde_json::json!({"name": name, "message": e.to_string(), "stack": ""});
    match outcome {
        Ok(o) if o.result.status == quasm_runtime::Status::Ok => (Next::Done, None, Some(o.execution_id)),
        Ok(o) => {
            let error = o.result.error.as_ref().map(|e| serde_json::to_value(e).expect("error serialises"));
            let status = o.result.status.as_str();
            let error = error.unwrap_or_else(|| serde_json::json!({"name": status, "message": status, "stack": ""}));
            let mut error = error;
            error["status"] = status.into();
            failed(error, Some(o.execution_id))
        }
        // Over a concurrency quota: the function did not run; try again
        // soon without spending an attempt.
        Err(ControllerError::Throttled { retry_after, message }) => (
            Next::Retry { delay_ms: retry_after.as_secs_f64() * 1000.0 * (0.5 + jitter), refund: true },
            Some(serde_json::json!({"name": "Throttled", "message": message, "stack": ""})),
            None,
        ),
        // The function (or its live version) is gone: no retry can help.
        // (Deleting a function deletes its deliveries too; this is the race.)
        Err(e @ ControllerError::NotFound { .. }) => (Next::Dead, Some(invocation_error("FunctionNotFound", &e)), None),
        // Disabled: an ordinary failed attempt, so events wait for the
        // function through the backoff and end as dead letters to replay.
        Err(e @ ControllerError::Disabled(_)) => failed(invocation_error("FunctionDisabled", &e), None),
        Err(e) => failed(invocation_error("InvocationError", &e), None),
    }
}

// ----------------------------------------------------------- completing

async fn complete_loop(controller: Weak<Events>, mut rx: mpsc::UnboundedReceiver<Completion>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < COMPLETION_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let Some(c) = controller.upgrade() else { return };
        // Records first: a delivery is never `done` without its record.
        c.invoker.executions.flush().await;
        let mut backoff = Duration::from_millis(100);
        loop {
            match c.complete_deliveries(&batch).await {
                Ok(()) => break,
                Err(e) if c.core.stopping.is_cancelled() => {
                    // Left `running`: another node retries them once this one has left.
                    tracing::warn!("storing {} event delivery results while stopping: {e}", batch.len());
                    break;
                }
                Err(e) => {
                    tracing::warn!("storing {} event delivery results: {e}; retrying", batch.len());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        if batch.iter().any(|x| matches!(x.next, Next::Retry { .. })) {
            // The claimer recomputes when the earliest retry is due.
            wake.notify_one();
        }
        for x in batch {
            let _ = x.written.send(());
        }
    }
}

// ------------------------------------------------------------------ SQL

impl Events {
    /// Claims up to `n` due deliveries for this node.
    async fn claim_deliveries(&self, n: usize) -> Result<Vec<Claimed>> {
        let db = self.core.db().await?;
        let rows = db
            .query(
                "WITH due AS (
                     SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
                 ), claimed AS (
                     UPDATE deliveries d SET status = 'running', locked_by = $1, attempt = d.attempt + 1,
                            updated_at = now()
                     FROM due WHERE d.id = due.id
                     RETURNING d.id, d.tenant_id, d.event_id, d.subscription_id, d.function_id, d.attempt
                 )
                 SELECT c.id, c.tenant_id, f.name, c.attempt, s.max_attempts, s.backoff_initial_ms, s.backoff_max_ms,
                        e.id, e.type, e.payload, e.key, e.created_at
                 FROM claimed c JOIN events e ON e.id = c.event_id
                      JOIN subscriptions s ON s.id = c.subscription_id JOIN functions f ON f.id = c.function_id",
                &[&self.core.node.id, &(n as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Claimed {
                id: r.get(0),
                tenant: r.get(1),
                function: r.get(2),
                attempt: r.get(3),
                max_attempts: r.get(4),
                backoff: Backoff { initial_ms: r.get(5), max_ms: r.get(6) },
                event_id: r.get(7),
                event_type: r.get(8),
                payload: crate::store::jsonb::get(r, 9),
                key: r.get(10),
                published_at: r.get(11),
            })
            .collect())
    }

    /// Stores a batch of results in one statement. Only rows still
    /// `running` under this node change: a delivery another node took over
    /// (this one was presumed dead) is theirs now.
    async fn complete_deliveries(&self, batch: &[Completion]) -> Result<()> {
        let mut ids = Vec::with_capacity(batch.len());
        let mut statuses = Vec::with_capacity(batch.len());
        let mut delays = Vec::with_capacity(batch.len());
        let mut refunds = Vec::with_capacity(batch.len());
        let mut errors = Vec::with_capacity(batch.len());
        let mut executions = Vec::with_capacity(batch.len());
        for c in batch {
            ids.push(c.id);
            let (status, delay, refund) = match c.next {
                Next::Done => ("done", 0.0, 0),
                Next::Retry { delay_ms, refund } => ("pending", delay_ms, refund as i32),
                Next::Dead => ("dead", 0.0, 0),
            };
            statuses.push(status);
            delays.push(delay);
            refunds.push(refund);
            errors.push(crate::store::jsonb::opt(&c.error));
            executions.push(c.execution_id);
        }
        let sql = "UPDATE deliveries d SET status = c.status, attempt = d.attempt - c.refund,
                        next_attempt_at = CASE WHEN c.status = 'pending'
                                               THEN now() + c.delay_ms * interval '1 millisecond'
                                               ELSE d.next_attempt_at END,
                        last_error = coalesce(c.error, d.last_error),
                        last_execution_id = coalesce(c.execution, d.last_execution_id),
                        locked_by = NULL, updated_at = now()
                 FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::int4[], $5::jsonb[], $6::uuid[])
                      AS c(id, status, delay_ms, refund, error, execution)
                 WHERE d.id = c.id AND d.status = 'running' AND d.locked_by = $7
                 RETURNING d.id, d.status";
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] =
            [&ids, &statuses, &delays, &refunds, &errors, &executions, &self.core.node.id];
        let mut db = self.core.db().await?;
        if !batch.iter().any(|c| c.next == Next::Dead) {
            db.execute(sql, &params).await?;
            return Ok(());
        }
        // New dead letters announce themselves (quasm.dead_letter.created)
        // in the transaction that makes them.
        let tx = db.transaction().await?;
        let rows = tx.query(sql, &params).await?;
        let dead: Vec<i64> = rows.iter().filter(|r| r.get::<_, &str>(1) == "dead").map(|r| r.get(0)).collect();
        crate::lifecycle::announce_dead_letters(&tx, &dead).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries left `running` by dead nodes go back to `pending` (due
    /// now) without spending the attempt the crash interrupted: a crash is
    /// not a failure of the handler. Crashes are counted apart; a delivery
    /// whose runs took down [`MAX_CRASH_REQUEUES`] nodes ends as a dead
    /// letter (error `NodeLost`) the next time, so it cannot loop forever.
    async fn take_over_deliveries(&self) -> Result<u64> {
        let sql = format!(
            "UPDATE deliveries d
             SET status = CASE WHEN d.crash_requeues >= $2 THEN 'dead' ELSE 'pending' END,
                 attempt = CASE WHEN d.crash_requeues >= $2 THEN d.attempt ELSE greatest(d.attempt - 1, 0) END,
                 crash_requeues = d.crash_requeues + 1,
                 locked_by = NULL, next_attempt_at = now(), updated_at = now(),
                 last_error = CASE WHEN d.crash_requeues >= $2
                     THEN jsonb_build_object('name', 'NodeLost', 'stack', '',
                         'message', 'the node running this delivery stopped before it finished, '
                                    || (d.crash_requeues + 1) || ' times')
                     ELSE d.last_error END
             WHERE d.status = 'running' AND d.locked_by <> $1
               AND NOT {}
             RETURNING d.id, d.status",
            crate::nodes::alive("d.locked_by")
        );
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let rows = tx.query(&sql, &[&self.core.node.id, &MAX_CRASH_REQUEUES]).await?;
        let dead: Vec<i64> = rows.iter().filter(|r| r.get::<_, &str>(1) == "dead").map(|r| r.get(0)).collect();
        crate::lifecycle::announce_dead_letters(&tx, &dead).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Seconds until the earliest pending delivery is due (negative: now).
    async fn next_delivery_due(&self) -> Result<Option<f64>> {
        let row = self
            .core
            .db()
            .await?
            .query_one(
                "SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - now())::float8 FROM deliveries
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

    fn claimed(attempt: i32, max_attempts: i32) -> Claimed {
        Claimed {
            id: 1,
            tenant: "t".into(),
            function: "f".into(),
            attempt,
            max_attempts,
            backoff: Backoff { initial_ms: 100, max_ms: 1000 },
            event_id: Uuid::now_v7(),
            event_type: "x".into(),
            payload: serde_json::Value::Null,
            key: None,
            published_at: Utc::now(),
        }
    }

    #[test]
    fn failures_retry_with_backoff_until_the_last_attempt() {
        let e = || Err(ControllerError::Disabled("f".into()));
        let (next, error, _) = decide(&claimed(3, 5), e(), 0.0);
        assert_eq!(next, Next::Retry { delay_ms: 200.0, refund: false });
        assert_eq!(error.unwrap()["name"], "FunctionDisabled");
        assert_eq!(decide(&claimed(5, 5), e(), 0.0).0, Next::Dead);
        let throttled = Err(ControllerError::Throttled { message: "busy".into(), retry_after: Duration::from_secs(1) });
        assert!(matches!(decide(&claimed(5, 5), throttled, 0.0).0, Next::Retry { refund: true, .. }));
        let gone = Err(ControllerError::not_found("function", "f"));
        assert_eq!(decide(&claimed(1, 5), gone, 0.0).0, Next::Dead);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
