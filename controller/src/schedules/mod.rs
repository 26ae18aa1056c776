//! Cron schedules of a function: several per function, each with its own
//! expression, time zone, input, overlap and catch-up policy. The slots
//! themselves are claimed and run by [`scheduler`]; every slot
//! is recorded in `schedule_runs` (ran, skipped, missed).

pub mod expr;
pub(crate) mod scheduler;

use scheduler::Scheduler;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::functions::ensure_tenant;
use crate::invoke::Invoker;
use crate::Actor;
pub use expr::CronSchedule;

/// What a slot does while the schedule's previous run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// The slot is recorded as skipped.
    #[default]
    Skip,
    /// The slot waits and runs when the previous run ends.
    Queue,
    /// The slot runs at once, alongside.
    Allow,
}

/// What happens to slots that passed while no node was up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// They are recorded as missed.
    #[default]
    Skip,
    /// The latest one runs once; the others are recorded as missed.
    Once,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident = $s:literal),* }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            /// The stored form back (unknown text: the default).
            pub(crate) fn parse(s: &str) -> Self {
                match s { $($s => Self::$v,)* _ => Self::default() }
            }
        }
    };
}
str_enum!(Overlap { Skip = "skip", Queue = "queue", Allow = "allow" });
str_enum!(CatchUp { Skip = "skip", Once = "once" });

/// `POST /api/v1/functions/{name}/schedules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSchedule {
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub input: Option<serde_json::Value>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default)]
    pub catch_up: CatchUp,
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

/// `PATCH .../schedules/{id}`: absent fields are unchanged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchedule {
    pub cron: Option<String>,
    pub timezone: Option<String>,
    /// `null` clears the input.
    #[serde(default, deserialize_with = "double_option")]
    pub input: Option<Option<serde_json::Value>>,
    pub enabled: Option<bool>,
    pub overlap: Option<Overlap>,
    pub catch_up: Option<CatchUp>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub id: i64,
    pub function: String,
    pub cron: String,
    pub timezone: String,
    pub input: Option<serde_json::Value>,
    pub enabled: bool,
    pub overlap: Overlap,
    pub catch_up: CatchUp,
    /// The next slot (absent when disabled).
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One slot of a schedule, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleRun {
    pub slot_at: DateTime<Utc>,
    /// queued, running, ran, skipped or missed.
    pub status: String,
    pub reason: Option<String>,
    pub execution_id: Option<Uuid>,
    /// The execution's status when it ran (ok, error, timeout...).
    pub execution_status: Option<String>,
    pub fired_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How late the run started, in milliseconds.
    pub lag_ms: Option<f64>,
}

/// `GET .../schedules/{id}/runs` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    pub status: Option<String>,
    pub limit: Option<i64>,
    /// The `slot_at` of the last run of the previous page (RFC 3339).
    pub before: Option<DateTime<Utc>>,
}

const MAX_INPUT_BYTES: usize = 64 * 1024;
const RUN_STATUSES: [&str; 5] = ["queued", "running", "ran", "skipped", "missed"];

const COLUMNS: &str = "s.id, f.name, s.cron, s.timezone, s.input, s.enabled, s.overlap, s.catch_up, s.next_slot_at,
                       s.created_by, s.created_at, s.updated_at";

fn from_row(r: &Row) -> Schedule {
    let enabled: bool = r.get(5);
    Schedule {
        id: r.get(0),
        function: r.get(1),
        cron: r.get(2),
        timezone: r.get(3),
        input: crate::store::jsonb::get_opt(r, 4),
        enabled,
        overlap: Overlap::parse(r.get(6)),
        catch_up: CatchUp::parse(r.get(7)),
        next_run_at: if enabled { r.get(8) } else { None },
        created_by: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
    }
}

fn check_input(input: &Option<serde_json::Value>) -> Result<()> {
    if let Some(v) = input {
        if serde_json::to_vec(v).map_or(0, |b| b.len()) > MAX_INPUT_BYTES {
            return Err(ControllerError::invalid("input", format!("at most {MAX_INPUT_BYTES} bytes of JSON")));
        }
    }
    Ok(())
}

/// Most schedules per function.
const MAX_PER_FUNCTION: i64 = 100;

/// Schedules: cron triggers of functions, and this node's scheduler that
/// claims and runs their slots (`triggers/cron.rs`).
pub struct Schedules {
    pub(crate) core: Arc<Core>,
    pub(crate) invoker: Arc<Invoker>,
    pub(crate) scheduler: Scheduler,
}

impl Schedules {
    async fn function_id(&self, db: &impl deadpool_postgres::GenericClient, tenant: &str, name: &str) -> Result<i64> {
        db.query_opt("SELECT id FROM functions WHERE tenant_id = $1 AND name = $2", &[&tenant, &name])
            .await?
            .map(|r| r.get(0))
            .ok_or_else(|| ControllerError::not_found("function", name))
    }

    pub async fn create(&self, actor: &Actor, function: &str, req: CreateSchedule) -> Result<Schedule> {
        let expr = CronSchedule::new(&req.cron, &req.timezone)?;
        check_input(&req.input)?;
        let next = expr.next_after(Utc::now());
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let function_id = self.function_id(&tx, &actor.tenant, function).await?;
        let count: i64 =
            tx.query_one("SELECT count(*) FROM schedules WHERE function_id = $1", &[&function_id]).await?.get(0);
        if count >= MAX_PER_FUNCTION {
            return Err(ControllerError::invalid(
                "cron",
                format!("function {function:?} already has {MAX_PER_FUNCTION} schedules, the most allowed"),
            ));
        }
        let row = tx
            .query_one(
                "INSERT INTO schedules (tenant_id, function_id, cron, timezone, input, enabled, overlap, catch_up,
                                        next_slot_at, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &actor.tenant,
                    &function_id,
                    &req.cron.trim(),
                    &req.timezone,
                    &crate::store::jsonb::opt(&req.input),
                    &req.enabled,
                    &req.overlap.as_str(),
                    &req.catch_up.as_str(),
                    &next,
                    &actor.subject,
                ],
            )
            .await?;
        let id: i64 = row.get(0);
        let details = serde_json::json!({"id": id, "cron": req.cron, "timezone": req.timezone});
        let s = self.schedule_in(&tx, &actor.tenant, function, id).await?;
        self.core.commit_change(tx, actor, "schedule.create", function, details, Notice::Schedulers).await?;
        Ok(s)
    }

    async fn schedule_in(
        &self,
        db: &impl deadpool_postgres::GenericClient,
        tenant: &str,
        function: &str,
        id: i64,
    ) -> Result<Schedule> {
        let row = db
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM schedules s JOIN functions f ON f.id = s.function_id
                     WHERE s.tenant_id = $1 AND f.name = $2 AND s.id = $3"
                ),
                &[&tenant, &function, &id],
            )
            .await?
            .ok_or_else(|| ControllerError::not_found("schedule", id.to_string()))?;
        Ok(from_row(&row))
    }

    pub async fn get(&self, tenant: &str, function: &str, id: i64) -> Result<Schedule> {
        let db = self.core.db().await?;
        self.function_id(&db, tenant, function).await?;
        self.schedule_in(&db, tenant, function, id).await
    }

    pub async fn list(&self, tenant: &str, function: &str) -> Result<Vec<Schedule>> {
        let db = self.core.db().await?;
        let function_id = self.function_id(&db, tenant, function).await?;
        let rows = db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM schedules s JOIN functions f ON f.id = s.function_id
                     WHERE s.function_id = $1 ORDER BY s.id"
                ),
                &[&function_id],
            )
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn update(&self, actor: &Actor, function: &str, id: i64, req: UpdateSchedule) -> Result<Schedule> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        self.function_id(&tx, &actor.tenant, function).await?;
        let old = self.schedule_in(&tx, &actor.tenant, function, id).await?;
        let cron = req.cron.clone().unwrap_or(old.cron.clone());
        let timezone = req.timezone.clone().unwrap_or(old.timezone.clone());
        let expr = CronSchedule::new(&cron, &timezone)?;
        let input = req.input.clone().unwrap_or(old.input.clone());
        check_input(&input)?;
        let enabled = req.enabled.unwrap_or(old.enabled);
        // A new expression, zone or re-enabling starts from now; otherwise
        // the slot already pending stays (no slot is lost or repeated).
        let restart = cron != old.cron || timezone != old.timezone || (enabled && !old.enabled);
        let next = if restart { expr.next_after(Utc::now()) } else { None };
        tx.execute(
            "UPDATE schedules SET cron = $2, timezone = $3, input = $4, enabled = $5, overlap = $6, catch_up = $7,
                    next_slot_at = CASE WHEN $8 THEN $9 ELSE next_slot_at END, updated_at = now()
             WHERE id = $1",
            &[
                &id,
                &cron.trim(),
                &timezone,
                &crate::store::jsonb::opt(&input),
                &enabled,
                &req.overlap.unwrap_or(old.overlap).as_str(),
                &req.catch_up.unwrap_or(old.catch_up).as_str(),
                &restart,
                &next,
            ],
        )
        .await?;
        let details = serde_json::json!({"id": id, "cron": cron, "timezone": timezone, "enabled": enabled});
        let s = self.schedule_in(&tx, &actor.tenant, function, id).await?;
        self.core.commit_change(tx, actor, "schedule.update", function, details, Notice::Schedulers).await?;
        Ok(s)
    }

    pub async fn delete(&self, actor: &Actor, function: &str, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let function_id = self.function_id(&tx, &actor.tenant, function).await?;
        let n = tx
            .execute(
                "DELETE FROM schedules WHERE tenant_id = $1 AND function_id = $2 AND id = $3",
                &[&actor.tenant, &function_id, &id],
            )
            .await?;
        if n == 0 {
            return Err(ControllerError::not_found("schedule", id.to_string()));
        }
        let details = serde_json::json!({"id": id});
        self.core.commit_change(tx, actor, "schedule.delete", function, details, Notice::Nobody).await?;
        Ok(())
    }

    /// The next `count` slots of a schedule.
    pub async fn preview(&self, tenant: &str, function: &str, id: i64, count: usize) -> Result<Vec<DateTime<Utc>>> {
        if !(1..=100).contains(&count) {
            return Err(ControllerError::invalid("count", "must be between 1 and 100"));
        }
        let s = self.get(tenant, function, id).await?;
        let expr = CronSchedule::new(&s.cron, &s.timezone)?;
        Ok(expr.slots_after(Utc::now()).take(count).collect())
    }

    /// Recorded slots, newest first.
    pub async fn runs(&self, tenant: &str, function: &str, id: i64, q: RunQuery) -> Result<Vec<ScheduleRun>> {
        if let Some(s) = &q.status {
            if !RUN_STATUSES.contains(&s.as_str()) {
                return Err(ControllerError::invalid("status", format!("must be one of {}", RUN_STATUSES.join(", "))));
            }
        }
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ControllerError::invalid("limit", "must be between 1 and 1000"));
        }
        let db = self.core.db().await?;
        self.function_id(&db, tenant, function).await?;
        self.schedule_in(&db, tenant, function, id).await?;
        let rows = db
            .query(
                "SELECT slot_at, status, reason, execution_id, execution_status, fired_at, finished_at
                 FROM schedule_runs
                 WHERE schedule_id = $1 AND ($2::text IS NULL OR status = $2)
                   AND ($3::timestamptz IS NULL OR slot_at < $3)
                 ORDER BY slot_at DESC LIMIT $4",
                &[&id, &q.status, &q.before, &limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let slot_at: DateTime<Utc> = r.get(0);
                let fired_at: Option<DateTime<Utc>> = r.get(5);
                ScheduleRun {
                    slot_at,
                    status: r.get(1),
                    reason: r.get(2),
                    execution_id: r.get(3),
                    execution_status: r.get(4),
                    fired_at,
                    finished_at: r.get(6),
                    lag_ms: fired_at.map(|f| (f - slot_at).num_microseconds().unwrap_or(0) as f64 / 1000.0),
                }
            })
            .collect())
    }
}
