//! Execution history: one record per invocation that is kept (errors
//! always; successes per the function's sample rate). Records of
//! synchronous calls go through the [`Recorder`], which writes them in
//! batches with COPY off the request path; durable triggers (cron, events,
//! manual and async runs) write their row before running and update it
//! after, so a crash never loses them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use uuid::Uuid;

use crate::blob::BlobStore;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::live::LiveRuns;
use crate::metrics::Metrics;
use crate::store::jsonb::{self, Jsonb};

/// Inputs and outputs larger than this (as JSON) go to the blob store.
pub const INLINE_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecorderConfig {
    /// Most records per COPY.
    pub batch_size: usize,
    /// Records waiting before callers feel back-pressure.
    pub queue: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self { batch_size: 1000, queue: 50_000 }
    }
}

/// One execution as stored.
#[derive(Debug, Clone)]
pub struct ExecutionRecord {
    pub id: Uuid,
    pub tenant: String,
    pub function_id: i64,
    pub function_name: String,
    pub version: Option<i32>,
    pub trigger: &'static str,
    pub trigger_ref: Option<String>,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_us: Option<i64>,
    pub cpu_time_us: Option<i64>,
    pub peak_memory_bytes: Option<i64>,
    pub input: Option<serde_json::Value>,
    pub output: Option<serde_json::Value>,
    pub logs: serde_json::Value,
    pub logs_truncated: bool,
    pub error: Option<serde_json::Value>,
    /// The user or API key that started it (`ctx.user.id`).
    pub started_by: Option<String>,
}

impl ExecutionRecord {
    /// A record of `deployed` that has not finished: `queued` (not started)
    /// or `running` (started at `created_at`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn unfinished(
        id: Uuid,
        tenant: &str,
        deployed: &crate::deployed::Deployed,
        trigger: crate::Trigger,
        trigger_ref: Option<String>,
        status: &'static str,
        created_at: DateTime<Utc>,
        input: Option<serde_json::Value>,
    ) -> Self {
        Self {
            id,
            tenant: tenant.to_owned(),
            function_id: deployed.function_id,
            function_name: deployed.name.clone(),
            version: Some(deployed.version),
            trigger: trigger.as_str(),
            trigger_ref,
            status,
            created_at,
            started_at: (status != "queued").then_some(created_at),
            finished_at: None,
            duration_us: None,
            cpu_time_us: None,
            peak_memory_bytes: None,
            input,
            output: None,
            logs: serde_json::Value::Array(Vec::new()),
            logs_truncated: false,
            error: None,
            started_by: None,
        }
    }
}

/// An execution as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    pub id: Uuid,
    pub function: String,
    pub version: Option<i32>,
    pub trigger: String,
    pub trigger_ref: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<f64>,
    pub cpu_time_ms: Option<f64>,
    pub peak_memory_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<serde_json::Value>,
    pub logs_truncated: bool,
    pub error: Option<serde_json::Value>,
    /// The user or API key that started it; null for cron, events and
    /// public routes.
    pub started_by: Option<String>,
}

/// `GET /api/v1/executions` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionQuery {
    pub function: Option<String>,
    pub status: Option<String>,
    pub trigger: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
    /// Only executions this user (or `api-key:<id>`) started.
    pub user: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExecutionPage {
    pub executions: Vec<Execution>,
    pub next_cursor: Option<Uuid>,
}

const STATUSES: &[&str] =
    &["queued", "running", "ok", "error", "timeout", "out_of_memory", "limit_exceeded", "cancelled"];
const TRIGGERS: &[&str] = &["http", "invoke", "cron", "event", "manual"];

enum Msg {
    Record(Box<ExecutionRecord>),
    Flush(oneshot::Sender<()>),
}

/// Records queued but not written yet whose ids were handed to callers
/// (invokes), so this node can show them before their batch is written.
/// An entry leaves once its batch is committed (or given up on).
type Unwritten = std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<Uuid, ExecutionRecord>>>;

/// Writes execution records in batches. Cloning shares the queue.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    unwritten: Unwritten,
}

impl Recorder {
    pub fn start(
        db: deadpool_postgres::Pool,
        blobs: std::sync::Arc<dyn BlobStore>,
        config: RecorderConfig,
        metrics: std::sync::Arc<Metrics>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let unwritten = Unwritten::default();
        tokio::spawn(write_loop(rx, db, blobs, config.batch_size.max(1), metrics, unwritten.clone()));
        Self { tx, unwritten }
    }

    /// Queues a record; waits only when the queue is full.
    pub async fn push(&self, record: ExecutionRecord) {
        let _ = self.tx.send(Msg::Record(Box::new(record))).await;
    }

    /// Queues a record whose id the caller gets back: until it is written,
    /// [`Recorder::unwritten`] finds it.
    pub async fn push_visible(&self, record: ExecutionRecord) {
        self.unwritten.lock().insert(record.id, record.clone());
        self.push(record).await;
    }

    /// Whether a record of `tenant` pushed with [`Recorder::push_visible`]
    /// is still waiting to be written.
    pub fn has_unwritten(&self, tenant: &str) -> bool {
        self.unwritten.lock().values().any(|r| r.tenant == tenant)
    }

    /// The record `id` if it was pushed with [`Recorder::push_visible`] and
    /// its batch is not written yet.
    pub fn unwritten(&self, id: Uuid) -> Option<ExecutionRecord> {
        self.unwritten.lock().get(&id).cloned()
    }

    /// Returns once everything queued before it is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn write_loop(
    mut rx: mpsc::Receiver<Msg>,
    db: deadpool_postgres::Pool,
    blobs: std::sync::Arc<dyn BlobStore>,
    batch_size: usize,
    metrics: std::sync::Arc<Metrics>,
    unwritten: Unwritten,
) {
    let mut batch: Vec<ExecutionRecord> = Vec::with_capacity(batch_size);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    // Natural batching: while one batch is written, the next accumulates.
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Record(r) => batch.push(*r),
                Msg::Flush(w) => waiters.push(w),
            }
            if batch.len() < batch_size {
                next = rx.try_recv().ok();
            }
        }
        metrics.record_queue_depth.set(rx.len() as i64);
        if !batch.is_empty() {
            write_resilient(&db, &*blobs, &mut batch, &metrics).await;
            // Committed (or dropped for good): readers go to the database now.
            let mut unwritten = unwritten.lock();
            if !unwritten.is_empty() {
                for r in &batch {
                    unwritten.remove(&r.id);
                }
            }
            drop(unwritten);
            batch.clear();
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
}

/// True when Postgres itself refused the data (a constraint, a value it
/// cannot store): retrying the same rows cannot help, splitting can.
fn refused_by_database(e: &ControllerError) -> bool {
    matches!(e, ControllerError::Store(crate::store::StoreError::Db(db)) if db.as_db_error().is_some())
}

/// Writes a batch so that one record can never cost another: a batch the
/// database refuses is split and written record by record; a record it
/// still refuses is kept without its input, output and logs (status,
/// timings and error stay); only a record whose function was deleted
/// meanwhile is dropped. Connection failures are retried with backoff.
async fn write_resilient(
    db: &deadpool_postgres::Pool,
    blobs: &dyn BlobStore,
    batch: &mut [ExecutionRecord],
    metrics: &Metrics,
) {
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=8 {
        match write_batch(db, blobs, batch).await {
            Ok(n) => {
                metrics.records_written.inc_by(n);
                return;
            }
            Err(e) if refused_by_database(&e) || batch.len() == 1 => {
                tracing::warn!(
                    "the database refused a batch of {} execution records: {e}; writing them one by one",
                    batch.len()
                );
                break;
            }
            Err(e) => {
                tracing::warn!("writing {} execution records failed (attempt {attempt}): {e}", batch.len());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    for r in batch.iter_mut() {
        match write_batch(db, blobs, std::slice::from_mut(r)).await {
            Ok(n) => {
                metrics.records_written.inc_by(n);
            }
            Err(e) => {
                let mut kept = stripped(r, &e);
                match write_batch(db, blobs, std::slice::from_mut(&mut kept)).await {
                    Ok(n) => {
                        tracing::warn!(execution = %r.id, "execution record kept without its data: {e}");
                        metrics.records_written.inc_by(n);
                    }
                    Err(e2) => tracing::error!(execution = %r.id, "dropping an execution record: {e}; then {e2}"),
                }
            }
        }
    }
}

/// The record without the values that could not be stored, and a log line
/// that says so.
fn stripped(r: &ExecutionRecord, e: &ControllerError) -> ExecutionRecord {
    let mut kept = r.clone();
    kept.input = None;
    kept.output = None;
    kept.logs = serde_json::json!([{
        "level": "error",
        "time_ms": r.created_at.timestamp_millis(),
        "message": format!("quasm: this execution's input, output and logs could not be stored ({e})"),
    }]);
    kept.logs_truncated = true;
    kept
}

const COPY_SQL: &str = "COPY executions (id, tenant_id, function_id, function_name, version, trigger, trigger_ref, \
    status, created_at, started_at, finished_at, duration_us, cpu_time_us, peak_memory_bytes, input, input_key, \
    output, output_key, logs, logs_truncated, error, started_by) FROM STDIN BINARY";

const COPY_TYPES: &[Type] = &[
    Type::UUID,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::JSONB,
    Type::TEXT,
    Type::JSONB,
    Type::TEXT,
    Type::JSONB,
    Type::BOOL,
    Type::JSONB,
    Type::TEXT,
];

/// Moves an oversized input/output to the blob store, leaving its key.
async fn spill(
    blobs: &dyn BlobStore,
    id: Uuid,
    what: &str,
    value: &mut Option<serde_json::Value>,
) -> Result<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let bytes = serde_json::to_vec(v).expect("JSON value serialises");
    if bytes.len() <= INLINE_LIMIT {
        return Ok(None);
    }
    let key = format!("executions/{id}/{what}.json");
    blobs.put(&key, bytes).await?;
    *value = None;
    Ok(Some(key))
}

async fn write_batch(
    db: &deadpool_postgres::Pool,
    blobs: &dyn BlobStore,
    batch: &mut [ExecutionRecord],
) -> Result<u64> {
    let mut keys = Vec::with_capacity(batch.len());
    for r in batch.iter_mut() {
        let ik = spill(blobs, r.id, "input", &mut r.input).await?;
        let ok = spill(blobs, r.id, "output", &mut r.output).await?;
        keys.push((ik, ok));
    }
    let mut client = crate::store::connect(db).await?;
    let tx = client.transaction().await?;
    // A record of a function deleted meanwhile would fail the whole COPY.
    let ids: Vec<i64> = batch.iter().map(|r| r.function_id).collect();
    let live: std::collections::HashSet<i64> =
        tx.query("SELECT id FROM functions WHERE id = ANY($1)", &[&ids]).await?.iter().map(|r| r.get(0)).collect();
    let sink = tx.copy_in(COPY_SQL).await?;
    let writer = BinaryCopyInWriter::new(sink, COPY_TYPES);
    futures::pin_mut!(writer);
    for (r, (input_key, output_key)) in batch.iter().zip(&keys) {
        if !live.contains(&r.function_id) {
            continue;
        }
        writer
            .as_mut()
            .write(&[
                &r.id,
                &r.tenant,
                &r.function_id,
                &r.function_name,
                &r.version,
                &r.trigger,
                &r.trigger_ref,
                &r.status,
                &r.created_at,
                &r.started_at,
                &r.finished_at,
                &r.duration_us,
                &r.cpu_time_us,
                &r.peak_memory_bytes,
                &jsonb::opt(&r.input),
                input_key,
                &jsonb::opt(&r.output),
                output_key,
                &Jsonb(&r.logs),
                &r.logs_truncated,
                &jsonb::opt(&r.error),
                &r.started_by,
            ])
            .await?;
    }
    let n = writer.finish().await?;
    tx.commit().await?;
    Ok(n)
}

/// Execution history: the recorder that writes it, reads of it, and this
/// node's registry of runs that can be watched and cancelled.
pub struct Executions {
    pub(crate) core: Arc<Core>,
    recorder: Recorder,
    pub(crate) live: LiveRuns,
}

impl Executions {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        let recorder =
            Recorder::start(core.db.clone(), core.blobs.clone(), core.config.recorder.clone(), core.metrics.clone());
        Self { core, recorder, live: LiveRuns::default() }
    }

    /// Waits until every execution record handed to the recorder so far is
    /// written (graceful shutdown).
    pub async fn flush(&self) {
        self.recorder.flush().await;
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Writes a durable record now (before a cron/event/manual run starts).
    pub(crate) async fn insert_record(&self, r: &ExecutionRecord) -> Result<()> {
        let db = self.core.db().await?;
        db.execute(
            "INSERT INTO executions (id, tenant_id, function_id, function_name, version, trigger, trigger_ref, status,
                                     created_at, started_at, input, node_id, started_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                &r.id,
                &r.tenant,
                &r.function_id,
                &r.function_name,
                &r.version,
                &r.trigger,
                &r.trigger_ref,
                &r.status,
                &r.created_at,
                &r.started_at,
                &jsonb::opt(&r.input),
                &self.core.node.id,
                &r.started_by,
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn mark_running(&self, id: Uuid, started_at: DateTime<Utc>) -> Result<()> {
        let db = self.core.db().await?;
        db.execute(
            "UPDATE executions SET status = 'running', started_at = $2, node_id = $3 WHERE id = $1",
            &[&id, &started_at, &self.core.node.id],
        )
        .await?;
        Ok(())
    }

    /// Completes a durable record.
    pub(crate) async fn finish_record(&self, mut r: ExecutionRecord) -> Result<()> {
        let output_key = spill(&*self.core.blobs, r.id, "output", &mut r.output).await?;
        let db = self.core.db().await?;
        db.execute(
            "UPDATE executions SET status = $2, started_at = $3, finished_at = $4, duration_us = $5, cpu_time_us = $6,
                    peak_memory_bytes = $7, output = $8, output_key = $9, logs = $10, logs_truncated = $11, error = $12,
                    version = $13
             WHERE id = $1",
            &[
                &r.id,
                &r.status,
                &r.started_at,
                &r.finished_at,
                &r.duration_us,
                &r.cpu_time_us,
                &r.peak_memory_bytes,
                &jsonb::opt(&r.output),
                &output_key,
                &Jsonb(&r.logs),
                &r.logs_truncated,
                &jsonb::opt(&r.error),
                &r.version,
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn list(&self, tenant: &str, q: ExecutionQuery) -> Result<ExecutionPage> {
        if let Some(s) = &q.status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(ControllerError::invalid("status", format!("must be one of {}", STATUSES.join(", "))));
            }
        }
        if let Some(t) = &q.trigger {
            if !TRIGGERS.contains(&t.as_str()) {
                return Err(ControllerError::invalid("trigger", format!("must be one of {}", TRIGGERS.join(", "))));
            }
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=1000).contains(&limit) {
            return Err(ControllerError::invalid("limit", "must be between 1 and 1000"));
        }
        // A list shows the invokes this node already answered: it waits
        // for their batch (the invokes themselves did not).
        if self.recorder().has_unwritten(tenant) {
            self.recorder().flush().await;
        }
        let db = self.core.db().await?;
        let rows = db
            .query(
                &format!(
                    "SELECT {SUMMARY} FROM executions
                     WHERE tenant_id = $1 AND ($2::text IS NULL OR function_name = $2)
                       AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR trigger = $4)
                       AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
                       AND ($7::uuid IS NULL OR id < $7) AND ($9::text IS NULL OR started_by = $9)
                     ORDER BY id DESC LIMIT $8"
                ),
                &[&tenant, &q.function, &q.status, &q.trigger, &q.since, &q.until, &q.cursor, &(limit + 1), &q.user],
            )
            .await?;
        let mut executions: Vec<Execution> = rows.iter().map(|r| from_row(r, false)).collect();
        let next_cursor = crate::page::next_cursor(&mut executions, limit as usize, |e| e.id);
        Ok(ExecutionPage { executions, next_cursor })
    }

    /// One execution. An invoke's record is answered from this node's
    /// recorder queue until it is written; another node finds it once its
    /// batch is committed, and waits briefly for that (see
    /// [`UNWRITTEN_GRACE`]) before answering 404 for a recent id.
    pub async fn get(&self, tenant: &str, id: Uuid) -> Result<Execution> {
        if let Some(r) = self.recorder().unwritten(id).filter(|r| r.tenant == tenant) {
            return Ok(from_record(r));
        }
        let mut waits = UNWRITTEN_GRACE.iter();
        let row = loop {
            let db = self.core.db().await?;
            let row = db
                .query_opt(
                    &format!("SELECT {SUMMARY}, input, input_key, output, output_key, logs FROM executions WHERE tenant_id = $1 AND id = $2"),
                    &[&tenant, &id],
                )
                .await?;
            drop(db);
            match (row, waits.next()) {
                (Some(row), _) => break row,
                (None, Some(wait)) if recently_created(id) => tokio::time::sleep(*wait).await,
                (None, _) => return Err(ControllerError::not_found("execution", id.to_string())),
            }
        };
        let mut e = from_row(&row, true);
        // Columns after SUMMARY (0..=14): input 15, input_key 16, output 17, output_key 18, logs 19.
        for (value, key) in [(&mut e.input, row.get::<_, Option<String>>(16)), (&mut e.output, row.get(18))] {
            if let Some(key) = key {
                if let Some(bytes) = self.core.blobs.get(&key).await? {
                    *value = serde_json::from_slice(&bytes).ok();
                }
            }
        }
        Ok(e)
    }
}

/// How long, in steps, a lookup of a recent id that no row answers yet
/// waits for the recorder of the node that ran it (its batch may be
/// queued behind others): about 1 s in all.
const UNWRITTEN_GRACE: [Duration; 5] = [
    Duration::from_millis(25),
    Duration::from_millis(75),
    Duration::from_millis(150),
    Duration::from_millis(250),
    Duration::from_millis(500),
];

/// Whether `id` (a v7 UUID, as execution ids are) names an execution
/// created recently enough that its record may still be on its way: within
/// the longest wall-clock limit a call may run plus a minute.
fn recently_created(id: Uuid) -> bool {
    let Some((secs, _)) = id.get_timestamp().map(|t| t.to_unix()) else { return false };
    let age = Utc::now().timestamp() - secs as i64;
    (-60..=16 * 60).contains(&age)
}

/// An execution from a record not written yet (same fields as a row).
fn from_record(r: ExecutionRecord) -> Execution {
    let ms = |v: Option<i64>| v.map(|v| v as f64 / 1000.0);
    Execution {
        id: r.id,
        function: r.function_name,
        version: r.version,
        trigger: r.trigger.to_owned(),
        trigger_ref: r.trigger_ref,
        status: r.status.to_owned(),
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: ms(r.duration_us),
        cpu_time_ms: ms(r.cpu_time_us),
        peak_memory_bytes: r.peak_memory_bytes,
        input: r.input,
        output: r.output,
        logs: Some(r.logs),
        logs_truncated: r.logs_truncated,
        error: r.error,
        started_by: r.started_by,
    }
}

const SUMMARY: &str = "id, function_name, version, trigger, trigger_ref, status, created_at, started_at, finished_at, \
                       duration_us, cpu_time_us, peak_memory_bytes, logs_truncated, error, started_by";

fn from_row(r: &tokio_postgres::Row, full: bool) -> Execution {
    let us = |v: Option<i64>| v.map(|v| v as f64 / 1000.0);
    Execution {
        id: r.get(0),
        function: r.get(1),
        version: r.get(2),
        trigger: r.get(3),
        trigger_ref: r.get(4),
        status: r.get(5),
        created_at: r.get(6),
        started_at: r.get(7),
        finished_at: r.get(8),
        duration_ms: us(r.get(9)),
        cpu_time_ms: us(r.get(10)),
        peak_memory_bytes: r.get(11),
        logs_truncated: r.get(12),
        error: jsonb::get_opt(r, 13),
        started_by: r.get(14),
        input: if full { jsonb::get_opt(r, 15) } else { None },
        output: if full { jsonb::get_opt(r, 17) } else { None },
        logs: if full { Some(jsonb::get(r, 19)) } else { None },
    }
}
