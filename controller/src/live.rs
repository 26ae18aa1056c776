//! Executions running on this node that can be watched and cancelled:
//! every durable run (async invokes, manual runs, cron slots, event
//! deliveries) is registered here from the moment its record exists until
//! its final record is written.
//!
//! - Watching: logs and `ctx.progress` updates are kept (up to a cap) and
//!   broadcast, so a watcher that connects late still sees what happened
//!   so far; when the run ends the broadcast closes and the watcher reads
//!   the final record. A watcher on another node polls the record instead
//!   (see the gateway's stream endpoint).
//! - Resuming: each event is stamped with how many logs and progress
//!   updates the run had emitted up to and including it, so a watcher that
//!   reconnects (SSE `Last-Event-ID`) can skip what it already has, even
//!   once the run is over and only its recorded logs remain.
//! - Cancelling: each run has a flag the runtime polls; a cancel request
//!   sets it here, or reaches the node running it through
//!   `NOTIFY quasm_cancel, '<execution id>'`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use dashmap::DashMap;
use parking_lot::Mutex;
use quasm_runtime::{InvocationObserver, LogEntry};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::changes::{self, channel};
use crate::error::{ControllerError, Result};

/// Events kept for late watchers; beyond this they see only new ones.
const HISTORY_CAP: usize = 1000;

/// What a watcher receives while a run is going.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    Log(LogEntry),
    Progress { percent: f64, message: Option<String> },
}

/// A run's place in its sequence of events: the number of logs and of
/// progress updates emitted so far (after an event: including it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub logs: u64,
    pub progress: u64,
}

impl Position {
    /// Events emitted up to this position.
    pub fn seq(self) -> u64 {
        self.logs + self.progress
    }
}

/// An event with its position.
#[derive(Debug, Clone)]
pub struct Stamped {
    pub at: Position,
    pub event: LiveEvent,
}

#[derive(Default)]
struct History {
    /// The first [`HISTORY_CAP`] events.
    kept: Vec<Stamped>,
    /// Position after the last event emitted.
    at: Position,
}

/// One run on this node.
pub struct LiveRun {
    cancel: Arc<AtomicBool>,
    history: Mutex<History>,
    events: broadcast::Sender<Stamped>,
}

impl LiveRun {
    fn new() -> Self {
        Self { cancel: Arc::default(), history: Mutex::default(), events: broadcast::channel(256).0 }
    }

    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    fn emit(&self, event: LiveEvent) {
        let mut history = self.history.lock();
        match event {
            LiveEvent::Log(_) => history.at.logs += 1,
            LiveEvent::Progress { .. } => history.at.progress += 1,
        }
        let e = Stamped { at: history.at, event };
        if history.kept.len() < HISTORY_CAP {
            history.kept.push(e.clone());
        }
        // Sent under the lock: receivers see events in position order.
        // No watcher is fine.
        let _ = self.events.send(e);
    }
}

impl InvocationObserver for LiveRun {
    fn log(&self, entry: &LogEntry) {
        self.emit(LiveEvent::Log(entry.clone()));
    }

    fn progress(&self, percent: f64, message: Option<&str>) {
        self.emit(LiveEvent::Progress { percent, message: message.map(str::to_owned) });
    }
}

/// The registry of this node's live runs.
#[derive(Default)]
pub struct LiveRuns {
    runs: DashMap<Uuid, Arc<LiveRun>>,
}

/// Unregisters its run when dropped (after the final record is written).
pub(crate) struct LiveGuard<'a> {
    runs: &'a LiveRuns,
    id: Uuid,
    pub run: Arc<LiveRun>,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.runs.runs.remove(&self.id);
    }
}

impl LiveRuns {
    /// Registers `id` (or returns its registration, made when it was
    /// queued).
    pub(crate) fn register(&self, id: Uuid) -> LiveGuard<'_> {
        let run = self.runs.entry(id).or_insert_with(|| Arc::new(LiveRun::new())).clone();
        LiveGuard { runs: self, id, run }
    }

    /// Registers a queued run; the registration lives until its
    /// [`LiveRuns::register`] guard drops.
    pub(crate) fn queue(&self, id: Uuid) {
        self.runs.entry(id).or_insert_with(|| Arc::new(LiveRun::new()));
    }

    /// Drops a queued registration whose run never started.
    pub(crate) fn forget(&self, id: Uuid) {
        self.runs.remove(&id);
    }

    /// What happened so far and the events to come, if `id` runs here.
    pub fn watch(&self, id: Uuid) -> Option<Watch> {
        let run = self.runs.get(&id)?.clone();
        // Subscribing under the history lock: no event is missed or doubled.
        let history = run.history.lock();
        let rx = run.events.subscribe();
        Some(Watch { history: history.kept.clone(), at: history.at, events: rx, run: Arc::downgrade(&run) })
    }

    /// Sets the cancel flag of `id` if it runs here (`payload` is the id
    /// as text, from a NOTIFY).
    pub(crate) fn cancel_here(&self, payload: &str) -> bool {
        let Ok(id) = payload.parse::<Uuid>() else { return false };
        match self.runs.get(&id) {
            Some(run) => {
                run.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// A watcher's view of a live run.
pub struct Watch {
    /// The kept events so far (the first [`HISTORY_CAP`]).
    pub history: Vec<Stamped>,
    /// Position after the last event emitted before subscribing.
    pub at: Position,
    /// The events to come; closed when the run's final record is written.
    pub events: broadcast::Receiver<Stamped>,
    /// Weak: the broadcast closes when the run's last strong reference
    /// (its registration) goes.
    run: Weak<LiveRun>,
}

impl Watch {
    /// The kept events after `seq`, to catch up after the receiver lagged.
    pub fn kept_after(&self, seq: u64) -> Vec<Stamped> {
        match self.run.upgrade() {
            Some(run) => run.history.lock().kept.iter().filter(|e| e.at.seq() > seq).cloned().collect(),
            None => Vec::new(),
        }
    }
}

/// The answer to a cancel request.
#[derive(Debug, Serialize)]
pub struct CancelAccepted {
    pub execution_id: Uuid,
    /// `cancelling`: the request was passed to the run; its final status
    /// (normally `cancelled`) follows shortly.
    pub status: &'static str,
}

impl crate::executions::Executions {
    /// The live-run registry of this node.
    pub fn live(&self) -> &LiveRuns {
        &self.live
    }

    /// Cancels a queued or running execution of `tenant`, on whichever
    /// node runs it.
    pub async fn cancel(&self, tenant: &str, id: Uuid) -> Result<CancelAccepted> {
        let db = self.core.db().await?;
        let row = db
            .query_opt("SELECT status FROM executions WHERE tenant_id = $1 AND id = $2", &[&tenant, &id])
            .await?
            .ok_or_else(|| ControllerError::not_found("execution", id.to_string()))?;
        let status: String = row.get(0);
        if status != "queued" && status != "running" {
            return Err(ControllerError::WrongState(format!(
                "execution {id} already finished with status {status}; nothing to cancel"
            )));
        }
        if !self.live.cancel_here(&id.to_string()) {
            changes::notify(&db, channel::CANCEL, &id.to_string()).await?;
        }
        Ok(CancelAccepted { execution_id: id, status: "cancelling" })
    }
}
