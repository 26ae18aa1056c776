//! Alerts on failures: rules (per function, or every function of a tenant;
//! CRUD and validation in `rules.rs`), the hand-off from the invoke path,
//! delivery and the notification history.
//!
//! The invoke path calls [`Alerts::observe_outcome`] once per finished
//! invocation. With no enabled rule for the tenant (read from the tenant's
//! cached view) that is a map lookup; otherwise the outcome goes into a
//! bounded queue and a background task applies it to each rule's state
//! (`evaluate.rs`) and sends what it decides (`channels.rs`, `email.rs`).
//! A full queue drops the outcome (counted) rather than slow the caller.

pub(crate) mod channels;
pub mod email;
pub mod evaluate;
mod rules;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use chrono::{DateTime, Utc};
use prometheus_client::metrics::counter::Counter;
use quasm_runtime::{InvocationResult, Status};
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::call::Trigger;
use crate::core::Core;
use crate::deployed::Deployed;
use crate::error::{ControllerError, Result};

pub use email::SmtpConfig;
pub(crate) use rules::{check_url, generate_secret};
pub use rules::{AlertRule, Channel, ChannelSpec, CreateAlertRule, UpdateAlertRule};

/// Outcomes waiting for the alert task; beyond this they are dropped.
const QUEUE: usize = 10_000;
/// Deliveries in flight at once; more wait for a slot.
const DELIVERIES: usize = 32;

/// Why a notification was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A failed invocation (`on_failure`).
    Failure,
    /// A failing streak reached `consecutive_failures`.
    Consecutive,
    /// The first success after a notified failing streak.
    Recovery,
    /// Sent on request (`POST /alerts/{id}/test`).
    Test,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Consecutive => "consecutive",
            Kind::Recovery => "recovery",
            Kind::Test => "test",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "consecutive" => Kind::Consecutive,
            "recovery" => Kind::Recovery,
            "test" => Kind::Test,
            _ => Kind::Failure,
        }
    }
}

/// One notification sent (or attempted).
#[derive(Debug, Clone, Serialize)]
pub struct AlertNotification {
    pub id: i64,
    pub rule_id: i64,
    pub kind: Kind,
    pub function: Option<String>,
    pub execution_id: Option<Uuid>,
    pub message: String,
    pub delivered: bool,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// An enabled rule, as the invoke path needs it.
#[derive(Debug)]
pub(crate) struct ActiveRule {
    id: i64,
    /// `None`: every function of the tenant.
    function_id: Option<i64>,
}

/// One finished invocation that some rules watch.
#[derive(Debug)]
pub(crate) struct Observed {
    pub tenant: String,
    pub rules: Vec<i64>,
    pub function_id: i64,
    pub function: String,
    pub version: i32,
    pub trigger: Trigger,
    pub execution_id: Uuid,
    pub failed: bool,
    pub status: &'static str,
    pub error: Option<String>,
}

/// What a notification says; rendered per channel.
#[derive(Debug, Clone)]
pub(crate) struct Alert {
    pub kind: Kind,
    pub rule: String,
    pub tenant: String,
    pub function: Option<String>,
    pub version: Option<i32>,
    pub trigger: Option<&'static str>,
    pub status: Option<&'static str>,
    pub error: Option<String>,
    pub execution_id: Option<Uuid>,
    pub consecutive: i32,
    pub suppressed: i32,
    pub at: DateTime<Utc>,
}

impl Alert {
    fn what(&self) -> String {
        let f = self.function.as_deref().unwrap_or("*");
        match self.version {
            Some(v) => format!("{}/{f} v{v}", self.tenant),
            None => format!("{}/{f}", self.tenant),
        }
    }

    /// One line for humans (Slack text, email subject).
    pub fn summary(&self) -> String {
        let what = self.what();
        let status = self.status.unwrap_or("error");
        match self.kind {
            Kind::Failure => format!("{what} failed ({status})"),
            Kind::Consecutive => format!("{what} failed {} times in a row ({status})", self.consecutive),
            Kind::Recovery => format!("{what} recovered after {} consecutive failures", self.consecutive),
            Kind::Test => format!("test notification of alert rule {:?} ({})", self.rule, self.tenant),
        }
    }

    /// The full message: summary, then the details.
    pub fn text(&self) -> String {
        let mut t = format!("[quasm] {}", self.summary());
        if let Some(e) = &self.error {
            t += &format!("\nerror: {e}");
        }
        if let Some(tr) = self.trigger {
            t += &format!("\ntrigger: {tr}");
        }
        if let Some(id) = self.execution_id {
            t += &format!("\nexecution: {id}");
        }
        if self.suppressed > 0 {
            t += &format!("\nand {} more failures since the last alert (rate limit)", self.suppressed);
        }
        t += &format!("\nrule: {}", self.rule);
        // A notice for people (and a text column): a NUL the function put
        // in its error message is shown as U+FFFD rather than failing it.
        t.replace('\0', "\u{FFFD}")
    }

    /// The generic webhook's body.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.kind,
            "rule": self.rule,
            "tenant": self.tenant,
            "function": self.function,
            "version": self.version,
            "trigger": self.trigger,
            "status": self.status,
            "error": self.error,
            "execution_id": self.execution_id,
            "consecutive_failures": self.consecutive,
            "suppressed": self.suppressed,
            "at": self.at,
            "text": self.text(),
        })
    }
}

/// The tenant's enabled rules, in its cached view: empty for most tenants,
/// which then cost the invoke path one lookup.
#[derive(Default)]
struct CachedRules(tokio::sync::OnceCell<Arc<Vec<ActiveRule>>>);

/// Alerts: rules and their notifications, and the machinery behind them:
/// the queue to the background task, the mailer, counters.
pub struct Alerts {
    pub(crate) core: Arc<Core>,
    queue: mpsc::Sender<Observed>,
    /// Taken once by [`start`].
    receiver: parking_lot::Mutex<Option<mpsc::Receiver<Observed>>>,
    mailer: Option<email::Mailer>,
    deliveries: Arc<tokio::sync::Semaphore>,
    /// Outcomes queued or being evaluated, plus notifications being sent:
    /// shutdown waits for this to reach 0 so no alert is lost at SIGTERM.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    dropped: Counter,
    sent: Counter,
    failed: Counter,
}

impl Alerts {
    pub(crate) fn new(core: Arc<Core>, smtp: Option<&SmtpConfig>) -> Result<Self> {
        let metrics = &core.metrics;
        let (queue, receiver) = mpsc::channel(QUEUE);
        let mailer = smtp.map(email::Mailer::new).transpose()?;
        let (dropped, sent, failed) = (Counter::default(), Counter::default(), Counter::default());
        metrics.register("alert_outcomes_dropped", "Outcomes not evaluated for alerts: queue full", dropped.clone());
        metrics.register("alert_notifications_delivered", "Alert notifications delivered", sent.clone());
        metrics.register(
            "alert_notifications_failed",
            "Alert notifications that could not be delivered",
            failed.clone(),
        );
        Ok(Self {
            core,
            queue,
            receiver: parking_lot::Mutex::new(Some(receiver)),
            mailer,
            deliveries: Arc::new(tokio::sync::Semaphore::new(DELIVERIES)),
            in_flight: Default::default(),
            dropped,
            sent,
            failed,
        })
    }
}

impl Alerts {
    /// Waits (up to `limit`) until every queued outcome is evaluated and
    /// every notification it caused is sent; called at shutdown, after the
    /// runs that produce outcomes have ended.
    pub(crate) async fn drain(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "shutdown: {} alert outcomes or notifications still pending after {limit:?}",
                    self.in_flight.load(Ordering::SeqCst)
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Starts the background task that evaluates queued outcomes.
pub(crate) fn start(alerts: &Arc<Alerts>) {
    if let Some(rx) = alerts.receiver.lock().take() {
        tokio::spawn(run(Arc::downgrade(alerts), rx));
    }
}

/// Runs until the alerts service is dropped.
async fn run(alerts: Weak<Alerts>, mut rx: mpsc::Receiver<Observed>) {
    use futures::future::{BoxFuture, FutureExt, Shared};
    let mut batch = Vec::with_capacity(256);
    // The last delivery of each rule: the next one waits for it, so one
    // rule's notifications go out in the order they were decided (never a
    // recovery before its failure) while other rules' go in parallel.
    let mut last: HashMap<i64, Shared<BoxFuture<'static, ()>>> = HashMap::new();
    loop {
        if rx.recv_many(&mut batch, 256).await == 0 {
            return;
        }
        let Some(c) = alerts.upgrade() else { return };
        for (rule, o) in coalesce(&batch) {
            match c.evaluate(rule, o).await {
                Ok(Some(n)) => {
                    let alert = Alert {
                        kind: n.kind,
                        rule: String::new(),
                        tenant: o.tenant.clone(),
                        function: Some(o.function.clone()),
                        version: Some(o.version),
                        trigger: Some(o.trigger.as_str()),
                        status: Some(o.status),
                        error: o.error.clone(),
                        execution_id: Some(o.execution_id),
                        consecutive: n.consecutive,
                        suppressed: n.suppressed,
                        at: Utc::now(),
                    };
                    // Deliveries (timeouts, retries) must not hold up the
                    // evaluation of other outcomes.
                    let c = c.clone();
                    let slots = c.deliveries.clone();
                    c.in_flight.fetch_add(1, Ordering::SeqCst);
                    let previous = last.remove(&rule);
                    let delivery = async move {
                        if let Some(p) = previous {
                            p.await;
                        }
                        let _slot = slots.acquire_owned().await;
                        if let Err(e) = c.notify(rule, alert).await {
                            tracing::warn!(rule, "alert notification: {e}");
                        }
                        c.in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                    .boxed()
                    .shared();
                    last.insert(rule, delivery.clone());
                    tokio::spawn(delivery);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(rule, "evaluating an alert rule: {e}"),
            }
        }
        c.in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
        batch.clear();
        last.retain(|_, d| d.peek().is_none());
    }
}

/// `(rule, outcome)` pairs to evaluate, in order. A success right after a
/// success of the same (rule, function) changes nothing, so under load a
/// busy healthy function costs one evaluation per batch, not per call.
fn coalesce(batch: &[Observed]) -> Vec<(i64, &Observed)> {
    let mut last_failed: HashMap<(i64, i64), bool> = HashMap::new();
    let mut out = Vec::new();
    for o in batch {
        for &rule in &o.rules {
            let prev = last_failed.insert((rule, o.function_id), o.failed);
            if !o.failed && prev == Some(false) {
                continue;
            }
            out.push((rule, o));
        }
    }
    out
}

fn notification_from_row(r: &tokio_postgres::Row) -> AlertNotification {
    AlertNotification {
        id: r.get(0),
        rule_id: r.get(1),
        kind: Kind::parse(r.get(2)),
        function: r.get(3),
        execution_id: r.get(4),
        message: r.get(5),
        delivered: r.get(6),
        error: r.get(7),
        at: r.get(8),
    }
}

impl Alerts {
    /// The notifications of rule `id`, newest first.
    pub async fn notifications(&self, tenant: &str, id: i64, limit: i64) -> Result<Vec<AlertNotification>> {
        self.get_rule(tenant, id).await?;
        let db = self.core.db().await?;
        let rows = db
            .query(
                "SELECT id, rule_id, kind, function_name, execution_id, message, delivered, error, at
                 FROM alert_notifications WHERE tenant_id = $1 AND rule_id = $2 ORDER BY id DESC LIMIT $3",
                &[&tenant, &id, &limit.clamp(1, 1000)],
            )
            .await?;
        Ok(rows.iter().map(notification_from_row).collect())
    }

    /// Sends a test notification through rule `id`'s channel now (enabled
    /// or not, no rate limit) and returns how it went.
    pub async fn test_rule(&self, tenant: &str, id: i64) -> Result<AlertNotification> {
        let rule = self.get_rule(tenant, id).await?;
        let alert = Alert {
            kind: Kind::Test,
            rule: rule.name.clone(),
            tenant: tenant.to_owned(),
            function: rule.function.clone(),
            version: None,
            trigger: None,
            status: None,
            error: None,
            execution_id: None,
            consecutive: 0,
            suppressed: 0,
            at: Utc::now(),
        };
        self.notify(id, alert).await
    }

    /// Delivers `alert` through rule `rule_id`'s channel and records the
    /// attempt in the history.
    async fn notify(&self, rule_id: i64, mut alert: Alert) -> Result<AlertNotification> {
        let db = self.core.db().await?;
        let Some(row) = db
            .query_opt(
                "SELECT name, channel_kind, channel_target, webhook_secret FROM alert_rules
                 WHERE id = $1 AND tenant_id = $2",
                &[&rule_id, &alert.tenant],
            )
            .await?
        else {
            return Err(ControllerError::not_found("alert rule", rule_id.to_string()));
        };
        drop(db);
        alert.rule = row.get(0);
        let channel = Channel::from_columns(row.get(1), row.get(2));
        let sealed: Option<Vec<u8>> = row.get(3);
        let secret = match &sealed {
            Some(s) => self.core.secrets.open(s)?.remove("hmac"),
            None => None,
        };
        let outcome = match &channel {
            Channel::Slack { url } => channels::slack(self.core.runtime.fetcher(), url, &alert).await,
            Channel::Webhook { url } => {
                let secret = secret.unwrap_or_default();
                channels::webhook(self.core.runtime.fetcher(), url, secret.as_bytes(), &alert).await
            }
            Channel::Email { to } => match &self.mailer {
                Some(m) => m.send(to, &alert).await,
                None => Err("no SMTP server is configured (operator setting smtp_url)".to_owned()),
            },
        };
        match &outcome {
            Ok(()) => self.sent.inc(),
            Err(e) => {
                tracing::warn!(rule = rule_id, tenant = %alert.tenant, "alert delivery failed: {e}");
                self.failed.inc()
            }
        };
        let error = outcome.err();
        let message = alert.text();
        let row = self
            .core
            .db()
            .await?
            .query_one(
                "INSERT INTO alert_notifications
                     (tenant_id, rule_id, function_name, kind, execution_id, message, delivered, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING id, rule_id, kind, function_name, execution_id, message, delivered, error, at",
                &[
                    &alert.tenant,
                    &rule_id,
                    &alert.function,
                    &alert.kind.as_str(),
                    &alert.execution_id,
                    &message,
                    &error.is_none(),
                    &error.as_ref().map(|e| e.replace('\0', "\u{FFFD}")),
                ],
            )
            .await?;
        Ok(notification_from_row(&row))
    }

    /// The invoke path's hook: hands a finished invocation to the alert
    /// task if an enabled rule watches the function. Cancelled invocations
    /// (the caller went away) say nothing about the function's health and
    /// are ignored.
    pub(crate) async fn observe_outcome(
        &self,
        tenant: &str,
        deployed: &Deployed,
        trigger: Trigger,
        execution_id: Uuid,
        result: &InvocationResult,
    ) {
        let failed = match result.status {
            Status::Ok => false,
            Status::Cancelled => return,
            Status::Error | Status::Timeout | Status::OutOfMemory | Status::LimitExceeded => true,
        };
        let rules = match self.active_rules(tenant).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(tenant, "loading alert rules: {e}");
                return;
            }
        };
        if rules.is_empty() {
            return;
        }
        let watching: Vec<i64> =
            rules.iter().filter(|r| r.function_id.is_none_or(|f| f == deployed.function_id)).map(|r| r.id).collect();
        if watching.is_empty() {
            return;
        }
        let observed = Observed {
            tenant: tenant.to_owned(),
            rules: watching,
            function_id: deployed.function_id,
            function: deployed.name.clone(),
            version: deployed.version,
            trigger,
            execution_id,
            failed,
            status: result.status.as_str(),
            error: result.error.as_ref().map(|e| format!("{}: {}", e.name, e.message)),
        };
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(observed).is_err() {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.dropped.inc();
        }
    }

    /// The tenant's enabled rules, cached in its view until it changes.
    async fn active_rules(&self, tenant: &str) -> Result<Arc<Vec<ActiveRule>>> {
        let view = self.core.cache.tenant(tenant).part::<CachedRules>();
        if let Some(r) = view.0.get() {
            return Ok(r.clone());
        }
        view.0
            .get_or_try_init(|| async {
                let rows = self
                    .core
                    .db()
                    .await?
                    .query(
                        "SELECT id, function_id FROM alert_rules WHERE tenant_id = $1 AND enabled ORDER BY id",
                        &[&tenant],
                    )
                    .await?;
                let rules = rows.iter().map(|r| ActiveRule { id: r.get(0), function_id: r.get(1) }).collect();
                Ok::<_, ControllerError>(Arc::new(rules))
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(function_id: i64, failed: bool, rules: Vec<i64>) -> Observed {
        Observed {
            tenant: "t".into(),
            rules,
            function_id,
            function: "f".into(),
            version: 1,
            trigger: Trigger::Http,
            execution_id: Uuid::now_v7(),
            failed,
            status: if failed { "error" } else { "ok" },
            error: None,
        }
    }

    #[test]
    fn runs_of_successes_collapse_per_rule_and_function() {
        let batch = vec![
            observed(1, false, vec![10]),
            observed(1, false, vec![10]),
            observed(2, false, vec![10]),
            observed(1, true, vec![10, 11]),
            observed(1, false, vec![10, 11]),
            observed(1, false, vec![10, 11]),
        ];
        let got: Vec<(i64, i64, bool)> =
            coalesce(&batch).into_iter().map(|(r, o)| (r, o.function_id, o.failed)).collect();
        assert_eq!(got, [(10, 1, false), (10, 2, false), (10, 1, true), (11, 1, true), (10, 1, false), (11, 1, false)]);
    }
}
