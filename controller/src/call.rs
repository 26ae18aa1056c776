//! [`Call`], one invocation request, built by the constructor of the
//! trigger that starts it; and [`TriggerContext`], what that trigger tells
//! the execution record and the function's `ctx`. A trigger's data is typed
//! here once, instead of strings and JSON assembled at each call site.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use quasm_runtime::{HandlerKind, HttpRequest, InvocationObserver, InvocationUser};
use serde_json::{Map, Value};
use uuid::Uuid;

/// What kind of trigger started an invocation (metrics label, record column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Http,
    Invoke,
    Cron,
    Event,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::Invoke => "invoke",
            Trigger::Cron => "cron",
            Trigger::Event => "event",
            Trigger::Manual => "manual",
        }
    }
}

/// What started an invocation, with the data the record and `ctx` get.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerContext {
    /// A public route matched. `caller`: the credential's subject on `jwt`
    /// and `api_key` routes; `original_url`: the URL as received when the
    /// route strips `/fn/{tenant}` from `request.url`.
    Http { route_id: i64, params: BTreeMap<String, String>, caller: Option<String>, original_url: Option<String> },
    /// `POST /functions/{name}/invoke` by `caller`.
    Invoke { caller: String },
    /// A manual run (`POST /functions/{name}/runs`) started by `caller`.
    Manual { caller: String },
    /// One slot of a schedule.
    Cron { schedule_id: i64, slot_at: DateTime<Utc> },
    /// One attempt at delivering an event.
    Event { event_id: Uuid, attempt: i32 },
}

impl TriggerContext {
    pub fn trigger(&self) -> Trigger {
        match self {
            TriggerContext::Http { .. } => Trigger::Http,
            TriggerContext::Invoke { .. } => Trigger::Invoke,
            TriggerContext::Manual { .. } => Trigger::Manual,
            TriggerContext::Cron { .. } => Trigger::Cron,
            TriggerContext::Event { .. } => Trigger::Event,
        }
    }

    /// The record's `trigger_ref`: the route id, the caller, the schedule
    /// slot (see [`cron_reference`]) or the event id.
    pub fn reference(&self) -> String {
        match self {
            TriggerContext::Http { route_id, .. } => route_id.to_string(),
            TriggerContext::Invoke { caller } | TriggerContext::Manual { caller } => caller.clone(),
            TriggerContext::Cron { schedule_id, slot_at } => cron_reference(*schedule_id, *slot_at),
            TriggerContext::Event { event_id, .. } => event_id.to_string(),
        }
    }

    /// The fields this trigger adds to the function's `ctx` (besides the
    /// invocation id, tenant, function, version and trigger every call has):
    /// `ctx.params` and `ctx.caller` on routes, `ctx.attempt` on events.
    pub(crate) fn ctx_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        match self {
            TriggerContext::Http { params, caller, original_url, .. } => {
                let params = params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                fields.insert("params".into(), Value::Object(params));
                if let Some(caller) = caller {
                    fields.insert("caller".into(), Value::String(caller.clone()));
                }
                if let Some(url) = original_url {
                    fields.insert("original_url".into(), Value::String(url.clone()));
                }
            }
            TriggerContext::Event { attempt, .. } => {
                fields.insert("attempt".into(), (*attempt).into());
            }
            TriggerContext::Invoke { .. } | TriggerContext::Manual { .. } | TriggerContext::Cron { .. } => {}
        }
        fields
    }
}

/// A schedule slot's `trigger_ref`, by which a node taking over a slot
/// finds whether it already ran.
pub fn cron_reference(schedule_id: i64, slot_at: DateTime<Utc>) -> String {
    format!("schedule:{schedule_id}:{}", slot_at.to_rfc3339())
}

/// What a matched route adds to a [`Call::http`].
pub struct HttpRoute {
    pub route_id: i64,
    pub params: BTreeMap<String, String>,
    /// Who called a `jwt` or `api_key` route.
    pub user: Option<InvocationUser>,
    /// Set when the function's `request.url` is not the URL as received.
    pub original_url: Option<String>,
    /// The route's success sample rate (the function's when `None`).
    pub sample_rate: Option<f32>,
}

/// How the execution is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record {
    /// Errors always, successes at the function's sample rate (or this
    /// override); written in batches. With `visible`, the caller is handed
    /// the execution id: until its batch is written, this node answers
    /// `GET /executions/{id}` from the recorder's queue (the call does not
    /// wait for the write).
    Sampled { rate: Option<f32>, visible: bool },
    /// Written before the run starts and updated after: never lost.
    Durable,
}

/// One invocation request. Built with the constructor of its trigger, which
/// sets the handler, the input and how the execution is recorded.
pub struct Call {
    pub tenant: String,
    pub function: String,
    pub trigger: TriggerContext,
    pub handler: HandlerKind,
    pub input: Value,
    pub request: Option<HttpRequest>,
    pub record: Record,
    /// The execution's id when its row was created beforehand (async runs).
    pub execution_id: Option<Uuid>,
    pub observer: Option<Arc<dyn InvocationObserver>>,
    pub cancel: Option<Arc<AtomicBool>>,
    /// The user or API key that started it (`ctx.user`, the record's
    /// `started_by`); none for cron slots, event deliveries and public
    /// routes.
    pub user: Option<InvocationUser>,
}

impl Call {
    fn new(tenant: String, function: String, trigger: TriggerContext, handler: HandlerKind, record: Record) -> Self {
        Self {
            tenant,
            function,
            trigger,
            handler,
            input: Value::Null,
            request: None,
            record,
            execution_id: None,
            observer: None,
            cancel: None,
            user: None,
        }
    }

    /// A request on a public route, into the `fetch` handler; recorded at
    /// the route's sample rate (the function's when `None`).
    pub fn http(
        tenant: impl Into<String>,
        function: impl Into<String>,
        route: HttpRoute,
        request: HttpRequest,
    ) -> Self {
        let HttpRoute { route_id, params, user, original_url, sample_rate } = route;
        let caller = user.as_ref().map(|u| u.id.clone());
        let trigger = TriggerContext::Http { route_id, params, caller, original_url };
        let record = Record::Sampled { rate: sample_rate, visible: false };
        let mut call = Self::new(tenant.into(), function.into(), trigger, HandlerKind::Fetch, record);
        call.request = Some(request);
        call.user = user;
        call
    }

    /// `POST .../invoke`: `handler` with `input`. Failures are always
    /// recorded, successes at the function's `success_sample_rate` (1 unless
    /// set: every call), as the API documents; a kept record can be fetched
    /// at once (from the recorder's queue until it is written). A host that
    /// calls embedded logic thousands of times a second samples it as it
    /// would a route. An async invoke turns durable (`Invoker::invoke_async`).
    pub fn invoke(
        tenant: impl Into<String>,
        function: impl Into<String>,
        user: InvocationUser,
        handler: HandlerKind,
        input: Value,
    ) -> Self {
        let trigger = TriggerContext::Invoke { caller: user.id.clone() };
        let record = Record::Sampled { rate: None, visible: true };
        let mut call = Self::new(tenant.into(), function.into(), trigger, handler, record);
        call.input = input;
        call.user = Some(user);
        call
    }

    /// A manual run of the `run` handler, recorded durably (watchable and
    /// cancellable while it runs).
    pub fn manual(tenant: impl Into<String>, function: impl Into<String>, user: InvocationUser, input: Value) -> Self {
        let trigger = TriggerContext::Manual { caller: user.id.clone() };
        let mut call = Self::new(tenant.into(), function.into(), trigger, HandlerKind::Run, Record::Durable);
        call.input = input;
        call.user = Some(user);
        call
    }

    /// One schedule slot, into the `scheduled` handler; `input` is the
    /// controller object the handler receives (cron, time, zone...).
    pub fn cron(
        tenant: impl Into<String>,
        function: impl Into<String>,
        schedule_id: i64,
        slot_at: DateTime<Utc>,
        input: Value,
    ) -> Self {
        let trigger = TriggerContext::Cron { schedule_id, slot_at };
        let mut call = Self::new(tenant.into(), function.into(), trigger, HandlerKind::Scheduled, Record::Durable);
        call.input = input;
        call
    }

    /// One delivery attempt, into the `event` handler; `input` is the event.
    /// Written in batches (COPY) and flushed by the event completer before
    /// the delivery is marked: as durable as [`Record::Durable`] for the
    /// outcome, at a fraction of its two round trips per run.
    pub fn event(
        tenant: impl Into<String>,
        function: impl Into<String>,
        event_id: Uuid,
        attempt: i32,
        input: Value,
    ) -> Self {
        let trigger = TriggerContext::Event { event_id, attempt };
        let record = Record::Sampled { rate: Some(1.0), visible: false };
        let mut call = Self::new(tenant.into(), function.into(), trigger, HandlerKind::Event, record);
        call.input = input;
        call
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_trigger_gives_its_reference_and_ctx_fields() {
        let http = TriggerContext::Http {
            route_id: 7,
            params: BTreeMap::from([("id".to_owned(), "42".to_owned())]),
            caller: Some("alice".into()),
            original_url: None,
        };
        assert_eq!(http.trigger(), Trigger::Http);
        assert_eq!(http.reference(), "7");
        assert_eq!(Value::Object(http.ctx_fields()), serde_json::json!({"params": {"id": "42"}, "caller": "alice"}));

        let event = TriggerContext::Event { event_id: Uuid::nil(), attempt: 3 };
        assert_eq!(event.reference(), Uuid::nil().to_string());
        assert_eq!(Value::Object(event.ctx_fields()), serde_json::json!({"attempt": 3}));

        let slot_at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().with_timezone(&Utc);
        let cron = TriggerContext::Cron { schedule_id: 9, slot_at };
        assert_eq!(cron.reference(), "schedule:9:2026-01-02T03:04:05+00:00");
        assert!(cron.ctx_fields().is_empty());
        assert_eq!(TriggerContext::Manual { caller: "bob".into() }.reference(), "bob");
    }
}
