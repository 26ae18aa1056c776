//! The cron trigger. Every node runs the same loop; Postgres decides which
//! node takes a slot:
//!
//! 1. A node wakes at the earliest `next_slot_at` (or when a schedule
//!    changes: `NOTIFY quasm_schedules`), locks the due schedules with
//!    `FOR UPDATE SKIP LOCKED`, records each due slot in `schedule_runs`
//!    (unique per schedule and slot) and moves `next_slot_at` on, all in one
//!    transaction. Whoever commits first owns the slot; nobody else sees it.
//! 2. It runs its `running` slots through the one invoke path and records
//!    the outcome on the slot.
//! 3. A slot whose node died (its lease expired) mid-run is taken over and
//!    run again by another node, so a slot is never lost.
//!
//! Slots more than `cron_grace` late when claimed were missed (no node was
//! up): they are recorded as `missed`; with `catch_up: once` the newest of
//! them runs once.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::error::Result;
use crate::nodes::alive;
use crate::schedules::Schedules;
use crate::schedules::{CatchUp, CronSchedule, Overlap};
use crate::Call;

/// Longest sleep between passes: bounds how long a queued slot or the slot
/// of a dead node waits when no notification comes.
const MAX_SLEEP: Duration = Duration::from_secs(2);
/// Most missed slots recorded one by one in a pass (a long outage of an
/// every-second schedule would otherwise write days of rows at once).
const MAX_MISSED_ROWS: usize = 10_000;

/// Wakes the scheduler of every node (after commit): woken on any schedule
/// change, and when a run of a queueing schedule ends.
async fn wake_all(db: &impl GenericClient) -> Result<()> {
    crate::changes::notify(db, crate::changes::channel::SCHEDULES, "").await
}

/// This node's scheduler state.
#[derive(Default)]
pub(crate) struct Scheduler {
    pub wake: Notify,
    /// `schedule_runs` ids this node is running.
    running: Mutex<HashSet<i64>>,
}

/// A slot this node owns and must run.
struct Slot {
    run_id: i64,
    schedule_id: i64,
    tenant: String,
    function: String,
    cron: String,
    timezone: String,
    input: Option<serde_json::Value>,
    overlap: Overlap,
    slot_at: DateTime<Utc>,
    /// Taken over from a node that stopped.
    resumed: bool,
}

const SLOT_COLUMNS: &str = "r.id, s.id, s.tenant_id, f.name, s.cron, s.timezone, s.input, s.overlap, r.slot_at";

fn slot_from_row(r: &tokio_postgres::Row) -> Slot {
    Slot {
        run_id: r.get(0),
        schedule_id: r.get(1),
        tenant: r.get(2),
        function: r.get(3),
        cron: r.get(4),
        timezone: r.get(5),
        input: crate::store::jsonb::get_opt(r, 6),
        overlap: Overlap::parse(r.get(7)),
        slot_at: r.get(8),
        resumed: false,
    }
}

/// Runs until the controller stops.
pub(crate) async fn run(schedules: Weak<Schedules>) {
    loop {
        let Some(c) = schedules.upgrade() else { return };
        if c.core.stopping.is_cancelled() {
            return;
        }
        let sleep = match c.scheduler_pass().await {
            Ok(Some(next)) => (next - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP),
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                tracing::warn!("scheduler: {e}");
                MAX_SLEEP
            }
        };
        let stop = c.core.stopping.clone();
        drop(c);
        let Some(c) = schedules.upgrade() else { return };
        let woken = c.scheduler.wake.notified();
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = woken => {}
            _ = stop.cancelled() => return,
        }
    }
}

impl Schedules {
    /// One pass: take over slots of dead nodes, claim due slots, start
    /// queued ones. Returns the earliest next slot of any schedule.
    async fn scheduler_pass(self: &Arc<Self>) -> Result<Option<DateTime<Utc>>> {
        for slot in self.take_over_slots().await? {
            self.spawn_slot(slot);
        }
        loop {
            let (slots, more) = self.claim_due_slots().await?;
            for slot in slots {
                self.spawn_slot(slot);
            }
            if !more {
                break;
            }
        }
        for slot in self.start_queued_slots().await? {
            self.spawn_slot(slot);
        }
        let db = self.core.db().await?;
        Ok(db.query_one("SELECT min(next_slot_at) FROM schedules WHERE enabled", &[]).await?.get(0))
    }

    /// Slots left `running` by a node that died, or by this node before a
    /// failure to record their end.
    async fn take_over_slots(&self) -> Result<Vec<Slot>> {
        let db = self.core.db().await?;
        let mine: Vec<i64> = self.scheduler.running.lock().iter().copied().collect();
        let rows = db
            .query(
                &format!(
                    "WITH taken AS (
                         UPDATE schedule_runs r SET node_id = $1, fired_at = now(),
                                reason = 'run again: the node running it stopped'
                         WHERE r.status = 'running'
                           AND (r.node_id IS NULL OR (r.node_id <> $1 AND NOT {}) OR (r.node_id = $1 AND r.id <> ALL($2)))
                         RETURNING r.id, r.schedule_id, r.slot_at)
                     SELECT {SLOT_COLUMNS} FROM taken r JOIN schedules s ON s.id = r.schedule_id
                     JOIN functions f ON f.id = s.function_id",
                    alive("r.node_id")
                ),
                &[&self.core.node.id, &mine],
            )
            .await?;
        let slots: Vec<Slot> = rows.iter().map(|r| Slot { resumed: true, ..slot_from_row(r) }).collect();
        if !slots.is_empty() {
            tracing::warn!("scheduler: took over {} slots of stopped nodes", slots.len());
        }
        self.scheduler.running.lock().extend(slots.iter().map(|s| s.run_id));
        Ok(slots)
    }

    /// Claims a batch of due schedules; returns the slots to run here and
    /// whether more schedules may be due.
    async fn claim_due_slots(&self) -> Result<(Vec<Slot>, bool)> {
        const BATCH: i64 = 100;
        let grace = chrono::Duration::from_std(self.core.config.cron_grace).unwrap_or(chrono::Duration::seconds(60));
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let now: DateTime<Utc> = tx.query_one("SELECT now()", &[]).await?.get(0);
        let due = tx
            .query(
                &format!(
                "SELECT s.id, s.tenant_id, f.name, s.cron, s.timezone, s.input, s.overlap, s.catch_up, s.next_slot_at,
                        EXISTS (SELECT 1 FROM schedule_runs r
                                WHERE r.schedule_id = s.id
                                  AND (r.status = 'queued' OR (r.status = 'running' AND {})))
                 FROM schedules s JOIN functions f ON f.id = s.function_id
                 WHERE s.enabled AND s.next_slot_at <= $1
                 ORDER BY s.next_slot_at LIMIT $2
                 FOR UPDATE OF s SKIP LOCKED",
                    alive("r.node_id")
                ),
                &[&now, &BATCH],
            )
            .await?;
        let more = due.len() as i64 == BATCH;
        let mut to_run = Vec::new();
        for row in &due {
            let id: i64 = row.get(0);
            let (cron, timezone): (String, String) = (row.get(3), row.get(4));
            let overlap = Overlap::parse(row.get(6));
            let catch_up = CatchUp::parse(row.get(7));
            let first: DateTime<Utc> = row.get(8);
            let mut busy: bool = row.get(9);
            let expr = match CronSchedule::new(&cron, &timezone) {
                Ok(e) => e,
                Err(e) => {
                    // Validated on write; only a newer tz database could
                    // reject it. Stop it rather than fail every pass.
                    tracing::warn!("schedule {id}: {e}; disabling it");
                    tx.execute("UPDATE schedules SET next_slot_at = NULL WHERE id = $1", &[&id]).await?;
                    continue;
                }
            };
            // Every slot from the pending one up to now, and the next one.
            let mut slots = vec![first];
            let mut next = None;
            let mut skipped_missed = 0u64;
            for t in expr.slots_after(first) {
                if t > now {
                    next = Some(t);
                    break;
                }
                if slots.len() >= MAX_MISSED_ROWS {
                    slots.remove(0);
                    skipped_missed += 1;
                }
                slots.push(t);
            }
            let (late, on_time): (Vec<_>, Vec<_>) = slots.into_iter().partition(|t| now - *t > grace);
            let mut missed = late;
            let mut run_now: Vec<(DateTime<Utc>, Option<&str>)> = Vec::new();
            if catch_up == CatchUp::Once {
                if let Some(t) = missed.pop() {
                    run_now.push((t, Some("catch-up of a slot missed while no node was up")));
                }
            }
            run_now.extend(on_time.into_iter().map(|t| (t, None)));
            if !missed.is_empty() {
                let reason = if skipped_missed > 0 {
                    format!("no node was up at that time ({skipped_missed} earlier slots not listed)")
                } else {
                    "no node was up at that time".to_owned()
                };
                tx.execute(
                    "INSERT INTO schedule_runs (schedule_id, tenant_id, slot_at, status, reason)
                     SELECT $1, $2, t, 'missed', $4 FROM unnest($3::timestamptz[]) t
                     ON CONFLICT (schedule_id, slot_at) DO NOTHING",
                    &[&id, &row.get::<_, &str>(1), &missed, &reason],
                )
                .await?;
                tracing::warn!("schedule {id}: {} slots missed", missed.len() as u64 + skipped_missed);
            }
            for (t, why) in run_now {
                let (status, reason) = match (busy, overlap) {
                    (true, Overlap::Skip) => ("skipped", Some("the previous run was still running")),
                    (true, Overlap::Queue) => ("queued", Some("waiting for the previous run to end")),
                    _ => ("running", why),
                };
                let run = tx
                    .query_opt(
                        "INSERT INTO schedule_runs (schedule_id, tenant_id, slot_at, status, reason, node_id, fired_at)
                         VALUES ($1, $2, $3, $4, $5, CASE WHEN $4::text = 'running' THEN $6::uuid END,
                                 CASE WHEN $4::text = 'running' THEN clock_timestamp() END)
                         ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING id",
                        &[&id, &row.get::<_, &str>(1), &t, &status, &reason, &self.core.node.id],
                    )
                    .await?;
                if let (Some(run), "running") = (run, status) {
                    busy = true;
                    to_run.push(Slot {
                        run_id: run.get(0),
                        schedule_id: id,
                        tenant: row.get(1),
                        function: row.get(2),
                        cron: cron.clone(),
                        timezone: timezone.clone(),
                        input: crate::store::jsonb::get_opt(row, 5),
                        overlap,
                        slot_at: t,
                        resumed: false,
                    });
                }
            }
            tx.execute("UPDATE schedules SET next_slot_at = $2 WHERE id = $1", &[&id, &next]).await?;
        }
        self.commit_claims(tx, &to_run).await?;
        Ok((to_run, more))
    }

    /// Starts the oldest queued slot of each schedule that has nothing
    /// running.
    async fn start_queued_slots(&self) -> Result<Vec<Slot>> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let ids: Vec<i64> = tx
            .query(
                "SELECT s.id FROM schedules s
                 WHERE s.id IN (SELECT schedule_id FROM schedule_runs WHERE status = 'queued')
                 FOR UPDATE OF s SKIP LOCKED",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut slots = Vec::new();
        for id in ids {
            // A statement of its own: it sees runs that ended after the lock.
            let row = tx
                .query_opt(
                    &format!(
                        "WITH started AS (
                             UPDATE schedule_runs SET status = 'running', node_id = $2, fired_at = clock_timestamp()
                             WHERE id = (SELECT id FROM schedule_runs WHERE schedule_id = $1 AND status = 'queued'
                                         ORDER BY slot_at LIMIT 1)
                               AND NOT EXISTS (SELECT 1 FROM schedule_runs WHERE schedule_id = $1 AND status = 'running')
                             RETURNING id, schedule_id, slot_at)
                         SELECT {SLOT_COLUMNS} FROM started r JOIN schedules s ON s.id = r.schedule_id
                         JOIN functions f ON f.id = s.function_id"
                    ),
                    &[&id, &self.core.node.id],
                )
                .await?;
            if let Some(row) = row {
                slots.push(slot_from_row(&row));
            }
        }
        self.commit_claims(tx, &slots).await?;
        Ok(slots)
    }

    /// Commits the transaction that claimed `slots`. They are marked as
    /// this node's before the commit, so a take-over pass never mistakes
    /// them for abandoned slots.
    async fn commit_claims(&self, tx: deadpool_postgres::Transaction<'_>, slots: &[Slot]) -> Result<()> {
        self.scheduler.running.lock().extend(slots.iter().map(|s| s.run_id));
        if let Err(e) = tx.commit().await {
            let mut running = self.scheduler.running.lock();
            for s in slots {
                running.remove(&s.run_id);
            }
            return Err(e.into());
        }
        Ok(())
    }

    fn spawn_slot(self: &Arc<Self>, slot: Slot) {
        let c = self.clone();
        self.core.spawn_run(async move {
            let run_id = slot.run_id;
            c.run_slot(slot).await;
            c.scheduler.running.lock().remove(&run_id);
        });
    }

    /// A finished execution of a slot whose node stopped after the run but
    /// before recording it on the slot: adopted instead of running again.
    async fn finished_execution(&self, trigger_ref: &str) -> Result<Option<(uuid::Uuid, String)>> {
        let db = self.core.db().await?;
        let row = db
            .query_opt(
                "SELECT id, status FROM executions
                 WHERE trigger = 'cron' AND trigger_ref = $1 AND status NOT IN ('queued', 'running')
                   AND coalesce(error->>'name', '') <> 'NodeLost'
                 ORDER BY id DESC LIMIT 1",
                &[&trigger_ref],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn run_slot(&self, slot: Slot) {
        let trigger_ref = crate::call::cron_reference(slot.schedule_id, slot.slot_at);
        if slot.resumed {
            match self.finished_execution(&trigger_ref).await {
                Ok(Some((id, status))) => return self.record_slot(&slot, "ran", None, Some(id), Some(&status)).await,
                Ok(None) => {}
                Err(e) => tracing::warn!("schedule {}: {e}", slot.schedule_id),
            }
        }
        let input = serde_json::json!({
            "cron": slot.cron,
            "scheduled_time": slot.slot_at.timestamp_millis(),
            "timezone": slot.timezone,
            "schedule_id": slot.schedule_id,
            "input": slot.input,
        });
        let call = Call::cron(&slot.tenant, &slot.function, slot.schedule_id, slot.slot_at, input);
        match self.invoker.invoke(call).await {
            Ok(o) => self.record_slot(&slot, "ran", None, Some(o.execution_id), Some(o.result.status.as_str())).await,
            // Disabled function, concurrency quota...: the slot did not run.
            Err(e) => self.record_slot(&slot, "skipped", Some(e.to_string()), None, None).await,
        }
    }

    async fn record_slot(
        &self,
        slot: &Slot,
        status: &str,
        reason: Option<String>,
        execution: Option<uuid::Uuid>,
        execution_status: Option<&str>,
    ) {
        // The slot must not stay `running` (it would block the schedule's
        // next slots): retry the write for a while before giving up to the
        // take-over pass.
        for attempt in 0..10 {
            let done = async {
                let db = self.core.db().await?;
                db.execute(
                    "UPDATE schedule_runs SET status = $2, reason = coalesce($3, reason), execution_id = $4,
                            execution_status = $5, finished_at = now()
                     WHERE id = $1",
                    &[&slot.run_id, &status, &reason, &execution, &execution_status],
                )
                .await?;
                if slot.overlap == Overlap::Queue {
                    wake_all(&db).await?;
                }
                Ok::<_, crate::ControllerError>(())
            }
            .await;
            match done {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!("schedule {}: recording slot {}: {e}", slot.schedule_id, slot.slot_at);
                    tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
                }
            }
        }
    }
}
