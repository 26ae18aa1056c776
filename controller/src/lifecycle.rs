//! Platform lifecycle events: Quasm publishes what happens to a tenant's
//! functions into that tenant's event bus, as ordinary events of reserved
//! `quasm.*` types, so functions subscribe to them like to any event and
//! tenant webhooks (`crate::webhooks`) receive them.
//!
//! | type | when | published |
//! |---|---|---|
//! | `quasm.function.created` / `.updated` / `.deleted` | a function changes | in the change's transaction |
//! | `quasm.version.created` | a version is added (also version 1 of a new function) | in the change's transaction |
//! | `quasm.version.deployed` | a version becomes live (create, deploy, rollback) | in the change's transaction |
//! | `quasm.execution.failed` | an invocation ends in error, timeout or a limit | just after, in batches |
//! | `quasm.dead_letter.created` | an event delivery runs out of attempts | in the transaction that makes it dead |
//!
//! Configuration changes all pass through `Core::commit_change`
//! (`commit.rs`), which calls [`on_change`] before committing: the event
//! exists if and only if the change does. Failed executions are handed
//! over through a bounded queue (like alert outcomes) so a failing call is
//! never slowed down; a full queue drops the event and counts it.
//!
//! Loop rule: work caused by a lifecycle event never causes another one.
//! An execution triggered by a `quasm.*` event publishes no
//! `quasm.execution.failed`, and a delivery of a `quasm.*` event that ends as
//! a dead letter publishes no `quasm.dead_letter.created` (both stay visible
//! in the execution history, the dead letters and alerts). So a handler of
//! `quasm.execution.failed` that fails, or of `quasm.dead_letter.created`
//! whose deliveries die, ends the chain at once.
//!
//! Tenants cannot publish `quasm.*` types themselves ([`not_reserved`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use deadpool_postgres::GenericClient;
use prometheus_client::metrics::counter::Counter;
use quasm_runtime::{InvocationResult, Status};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::call::TriggerContext;
use crate::core::Core;
use crate::deployed::Deployed;
use crate::error::{ControllerError, Result};
use crate::events::{publish_in, PublishEvent};
use crate::Actor;

/// Event types starting with this are Quasm's own.
pub const RESERVED_PREFIX: &str = "quasm.";
/// Who publishes lifecycle events (the events' `published_by`).
const PUBLISHER: &str = "quasm";
/// Failed executions waiting to be published; beyond this they are dropped.
const QUEUE: usize = 10_000;
/// Most failures published in one transaction.
const BATCH: usize = 256;

pub const FUNCTION_CREATED: &str = "quasm.function.created";
pub const FUNCTION_UPDATED: &str = "quasm.function.updated";
pub const FUNCTION_DELETED: &str = "quasm.function.deleted";
pub const VERSION_CREATED: &str = "quasm.version.created";
pub const VERSION_DEPLOYED: &str = "quasm.version.deployed";
pub const EXECUTION_FAILED: &str = "quasm.execution.failed";
pub const DEAD_LETTER_CREATED: &str = "quasm.dead_letter.created";

/// Refuses reserved types in events tenants publish (`field` names it).
pub fn not_reserved(field: &str, event_type: &str) -> Result<()> {
    let head = event_type.get(..RESERVED_PREFIX.len()).unwrap_or("");
    if head.eq_ignore_ascii_case(RESERVED_PREFIX) {
        return Err(ControllerError::invalid(
            field,
            format!("{event_type:?}: types starting with {RESERVED_PREFIX:?} are reserved for Quasm's own events"),
        ));
    }
    Ok(())
}

fn is_lifecycle(event_type: &str) -> bool {
    event_type.starts_with(RESERVED_PREFIX)
}

async fn publish(db: &impl GenericClient, tenant: &str, event_type: &str, key: &str, payload: Value) -> Result<()> {
    let req =
        PublishEvent { event_type: event_type.to_owned(), payload, key: Some(key.to_owned()), idempotency_key: None };
    publish_in(db, tenant, PUBLISHER, &req).await?;
    Ok(())
}

/// The lifecycle events of one configuration change (an audit `action` on
/// `target` with its audit `details`), published on `tx` before it commits.
/// Changes that are not about functions or versions publish nothing.
pub(crate) async fn on_change(
    tx: &impl GenericClient,
    actor: &Actor,
    action: &str,
    target: &str,
    details: &Value,
) -> Result<()> {
    for (event_type, payload) in events_of_change(actor, action, target, details) {
        publish(tx, &actor.tenant, event_type, target, payload).await?;
    }
    Ok(())
}

/// What [`on_change`] publishes, from what `commit_change` records in the
/// audit log (`functions.rs`, `versions.rs`).
fn events_of_change(actor: &Actor, action: &str, function: &str, details: &Value) -> Vec<(&'static str, Value)> {
    let who = actor.subject.as_str();
    let version = |k: &str| details.get(k).and_then(Value::as_i64);
    match action {
        "function.create" => {
            let v = version("version").unwrap_or(1);
            vec![
                (FUNCTION_CREATED, json!({"function": function, "version": v, "actor": who})),
                (VERSION_CREATED, json!({"function": function, "version": v, "deployed": true, "actor": who})),
                (
                    VERSION_DEPLOYED,
                    json!({"function": function, "version": v, "previous_version": null, "rollback": false,
                           "actor": who}),
                ),
            ]
        }
        "function.update" => {
            let fields = details.get("fields").cloned().unwrap_or_else(|| json!([]));
            vec![(FUNCTION_UPDATED, json!({"function": function, "fields": fields, "actor": who}))]
        }
        "function.delete" => vec![(FUNCTION_DELETED, json!({"function": function, "actor": who}))],
        "version.create" => {
            let v = version("version");
            let deployed = details.get("deployed").and_then(Value::as_bool).unwrap_or(false);
            let mut out = vec![(
                VERSION_CREATED,
                json!({"function": function, "version": v, "deployed": deployed, "actor": who}),
            )];
            if deployed {
                // The version it replaced is not in the details: v - 1 is
                // not necessarily it (after a rollback), so say nothing.
                out.push((
                    VERSION_DEPLOYED,
                    json!({"function": function, "version": v, "previous_version": null, "rollback": false,
                           "actor": who}),
                ));
            }
            out
        }
        "version.deploy" | "version.rollback" => vec![(
            VERSION_DEPLOYED,
            json!({"function": function, "version": version("to"), "previous_version": version("from"),
                   "rollback": action == "version.rollback", "actor": who}),
        )],
        _ => Vec::new(),
    }
}

// ------------------------------------------------------ failed executions

/// One failed invocation, waiting to be published.
#[derive(Debug)]
pub(crate) struct Failed {
    tenant: String,
    function: String,
    version: i32,
    execution_id: Uuid,
    trigger: &'static str,
    /// The event that triggered it, and the delivery attempt.
    event: Option<(Uuid, i32)>,
    status: &'static str,
    error: Option<Value>,
}

/// The queue from the invoke path to the publisher task.
pub struct Lifecycle {
    core: Arc<Core>,
    queue: mpsc::Sender<Failed>,
    receiver: parking_lot::Mutex<Option<mpsc::Receiver<Failed>>>,
    /// Failures queued or being published (shutdown waits for 0).
    in_flight: Arc<AtomicUsize>,
    dropped: Counter,
}

impl Lifecycle {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let dropped = Counter::default();
        core.metrics.register(
            "lifecycle_events_dropped",
            "quasm.execution.failed events not published: queue full",
            dropped.clone(),
        );
        Self { core, queue, receiver: parking_lot::Mutex::new(Some(receiver)), in_flight: Default::default(), dropped }
    }
}

/// Starts the task that publishes `quasm.execution.failed`.
pub(crate) fn start(lifecycle: &Arc<Lifecycle>) {
    if let Some(rx) = lifecycle.receiver.lock().take() {
        tokio::spawn(run(Arc::downgrade(lifecycle), rx));
    }
}

async fn run(controller: Weak<Lifecycle>, mut rx: mpsc::Receiver<Failed>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        let Some(c) = controller.upgrade() else { return };
        let mut wait = std::time::Duration::from_millis(100);
        for _ in 0..5 {
            match c.publish_failures(&batch).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!("publishing {} quasm.execution.failed events: {e}; retrying", batch.len());
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
        c.in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
        batch.clear();
    }
}

impl Lifecycle {
    /// The invoke path's hook: queues `quasm.execution.failed` when the
    /// invocation failed (error, timeout, memory, limits; not cancelled).
    pub(crate) fn observe_failure(
        &self,
        tenant: &str,
        deployed: &Deployed,
        trigger: &TriggerContext,
        execution_id: Uuid,
        result: &InvocationResult,
    ) {
        if matches!(result.status, Status::Ok | Status::Cancelled) {
            return;
        }
        let event = match trigger {
            TriggerContext::Event { event_id, attempt } => Some((*event_id, *attempt)),
            _ => None,
        };
        let failed = Failed {
            tenant: tenant.to_owned(),
            function: deployed.name.clone(),
            version: deployed.version,
            execution_id,
            trigger: trigger.trigger().as_str(),
            event,
            status: result.status.as_str(),
            error: result.error.as_ref().map(|e| json!({"name": e.name, "message": e.message})),
        };
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(failed).is_err() {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.dropped.inc();
        }
    }

    /// Publishes a batch in one transaction, leaving out executions
    /// triggered by lifecycle events (the loop rule).
    async fn publish_failures(&self, batch: &[Failed]) -> Result<()> {
        let event_ids: Vec<Uuid> = batch.iter().filter_map(|f| f.event.map(|e| e.0)).collect();
        let mut db = self.core.db().await?;
        let mut types = std::collections::HashMap::new();
        if !event_ids.is_empty() {
            for r in db.query("SELECT id, type FROM events WHERE id = ANY($1)", &[&event_ids]).await? {
                types.insert(r.get::<_, Uuid>(0), r.get::<_, String>(1));
            }
        }
        let tx = db.transaction().await?;
        let mut published = 0;
        for f in batch {
            let event_type = f.event.and_then(|(id, _)| types.get(&id));
            if event_type.is_some_and(|t| is_lifecycle(t)) {
                continue;
            }
            let mut payload = json!({
                "execution_id": f.execution_id,
                "function": f.function,
                "version": f.version,
                "trigger": f.trigger,
                "status": f.status,
                "error": f.error,
            });
            if let Some((id, attempt)) = f.event {
                payload["event"] = json!({"id": id, "type": event_type, "attempt": attempt});
            }
            publish(&tx, &f.tenant, EXECUTION_FAILED, &f.function, payload).await?;
            published += 1;
        }
        tx.commit().await?;
        tracing::debug!(published, of = batch.len(), "quasm.execution.failed published");
        Ok(())
    }

    /// Waits (up to `limit`) for queued failures to be published (shutdown).
    pub(crate) async fn drain(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "shutdown: {} quasm.execution.failed events not published after {limit:?}",
                    self.in_flight.load(Ordering::SeqCst)
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

// ------------------------------------------------------------ dead letters

/// Publishes `quasm.dead_letter.created` for the event deliveries `ids`
/// that just became dead letters, on the transaction that made them so.
/// Deliveries of lifecycle events are left out (the loop rule).
pub(crate) async fn announce_dead_letters(tx: &impl GenericClient, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = tx
        .query(
            "SELECT d.id, d.tenant_id, f.name, d.subscription_id, d.attempt, d.last_error, d.last_execution_id,
                    e.id, e.type
             FROM deliveries d JOIN events e ON e.id = d.event_id JOIN functions f ON f.id = d.function_id
             WHERE d.id = ANY($1) AND d.status = 'dead'",
            &[&ids],
        )
        .await?;
    let mut seen = HashSet::new();
    for r in rows {
        let (id, event_type): (i64, String) = (r.get(0), r.get(8));
        if is_lifecycle(&event_type) || !seen.insert(id) {
            continue;
        }
        let (tenant, function): (String, String) = (r.get(1), r.get(2));
        let payload = json!({
            "dead_letter_id": id,
            "function": function,
            "subscription_id": r.get::<_, i64>(3),
            "attempts": r.get::<_, i32>(4),
            "last_error": crate::store::jsonb::get_opt(&r, 5),
            "last_execution_id": r.get::<_, Option<Uuid>>(6),
            "event": {"id": r.get::<_, Uuid>(7), "type": event_type},
        });
        publish(tx, &tenant, DEAD_LETTER_CREATED, &function, payload).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_types_are_refused_naming_the_field() {
        for bad in ["quasm.function.created", "QUASM.x", "Quasm.anything"] {
            let e = not_reserved("events[1].type", bad).unwrap_err().to_string();
            assert!(e.starts_with("events[1].type: "), "{e}");
        }
        for ok in ["quasm", "quasmx.a", "order.quasm.x", "q"] {
            assert!(not_reserved("type", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn changes_map_to_lifecycle_events() {
        let a = Actor::new("acme", "alice");
        let types = |action: &str, details: Value| -> Vec<&str> {
            events_of_change(&a, action, "hello", &details).into_iter().map(|(t, _)| t).collect()
        };
        assert_eq!(
            types("function.create", json!({"version": 1})),
            [FUNCTION_CREATED, VERSION_CREATED, VERSION_DEPLOYED]
        );
        assert_eq!(types("version.create", json!({"version": 2, "deployed": false})), [VERSION_CREATED]);
        assert_eq!(
            types("version.create", json!({"version": 2, "deployed": true})),
            [VERSION_CREATED, VERSION_DEPLOYED]
        );
        let rollback = events_of_change(&a, "version.rollback", "hello", &json!({"from": 3, "to": 1}));
        assert_eq!(
            rollback[0].1,
            json!({"function": "hello", "version": 1, "previous_version": 3, "rollback": true, "actor": "alice"})
        );
        assert!(types("route.create", json!({})).is_empty());
        assert!(types("webhook.create", json!({})).is_empty());
    }
}
