//! The one invoke path. HTTP routes, the invoke API, cron slots, event
//! deliveries and manual runs all end in [`Invoker::invoke`]: resolve the
//! live version, enforce enabled and quotas, record the execution, run it
//! in the runtime, record the result.

use std::sync::Arc;

use chrono::Utc;
use quasm_runtime::{InvocationContext, InvocationResult};
use uuid::Uuid;

use crate::alerts::Alerts;
use crate::call::{Call, Record};
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::executions::ExecutionRecord;
use crate::executions::Executions;
use crate::metrics::{InvocationLabels, TriggerLabels};
use crate::quota;

#[derive(Debug)]
pub struct Outcome {
    pub execution_id: Uuid,
    pub version: i32,
    pub result: InvocationResult,
    /// Whether the execution has a record (failures always do, successes
    /// as sampled): its id can be looked up.
    pub recorded: bool,
}

fn micros(d: u64) -> i64 {
    i64::try_from(d).unwrap_or(i64::MAX)
}

/// The invoke path and what it enforces: quotas, the services functions
/// reach (`env.EVENTS`, `env.KV`), recording, alert hand-off.
pub struct Invoker {
    pub(crate) core: Arc<Core>,
    pub(crate) executions: Arc<Executions>,
    pub(crate) alerts: Arc<Alerts>,
    /// `quasm.execution.failed` on its way to the event bus.
    pub(crate) lifecycle: Arc<crate::lifecycle::Lifecycle>,
    quotas: quota::Quotas,
    services: quasm_runtime::Services,
}

impl Invoker {
    pub(crate) fn new(
        core: Arc<Core>,
        executions: Arc<Executions>,
        alerts: Arc<Alerts>,
        lifecycle: Arc<crate::lifecycle::Lifecycle>,
    ) -> Self {
        let services = quasm_runtime::Services {
            events: Arc::new(crate::events::FunctionEvents(Arc::downgrade(&core))),
            kv: Arc::new(crate::kv::PostgresKv { db: core.db.clone() }),
        };
        Self { quotas: quota::Quotas::new(core.config.quotas.clone()), core, executions, alerts, lifecycle, services }
    }

    /// Runs `call` to completion. Errors are about the call itself (unknown
    /// or disabled function, quota); what the function did is in the result.
    pub async fn invoke(&self, mut call: Call) -> Result<Outcome> {
        let deployed = crate::deployed::deployed(&self.core, &call.tenant, &call.function).await?;
        if !deployed.enabled {
            return Err(ControllerError::Disabled(call.function));
        }
        let _permit = match self.quotas.acquire(&call.tenant, deployed.function_id, self.core.live_nodes()).await {
            Ok(p) => p,
            Err(e) => {
                self.core
                    .metrics
                    .throttled
                    .get_or_create(&crate::metrics::ReasonLabels { reason: "concurrency" })
                    .inc();
                return Err(e);
            }
        };
        let id = call.execution_id.unwrap_or_else(Uuid::now_v7);
        let created_at = Utc::now();
        let (trigger, mode) = (call.trigger.trigger(), call.record);
        let tenant = std::mem::take(&mut call.tenant);
        let trigger_ref = Some(call.trigger.reference());
        let input = std::mem::take(&mut call.input);
        let saved_input = (!input.is_null()).then(|| input.clone());
        let started_by = call.user.as_ref().map(|u| u.id.clone());
        // Built only when it is written: most successful calls of a sampled
        // route are never recorded.
        let new_record = |status: &'static str| {
            let input = saved_input.clone();
            let mut r = ExecutionRecord::unfinished(
                id,
                &tenant,
                &deployed,
                trigger,
                trigger_ref.clone(),
                status,
                created_at,
                input,
            );
            r.started_by.clone_from(&started_by);
            r
        };
        // Durable runs can be watched and cancelled until their final
        // record is written (the guard unregisters on return).
        let live = (mode == Record::Durable).then(|| self.executions.live.register(id));
        if let Some(l) = &live {
            call.observer.get_or_insert_with(|| l.run.clone());
            call.cancel.get_or_insert_with(|| l.run.cancel_flag());
        }
        if mode == Record::Durable {
            match call.execution_id {
                None => self.executions.insert_record(&new_record("running")).await?,
                // Queued by `invoke_async`: now it runs.
                Some(id) => self.executions.mark_running(id, created_at).await?,
            }
        }

        let request = quasm_runtime::InvokeRequest {
            kind: Some(call.handler),
            input,
            request: call.request.take(),
            env: deployed.env.clone(),
            ctx: InvocationContext {
                invocation_id: id.to_string(),
                tenant: tenant.clone(),
                function: deployed.name.clone(),
                version: deployed.version as u64,
                trigger: trigger.as_str().to_owned(),
                user: call.user.take(),
                extra: call.trigger.ctx_fields(),
            },
            services: self.services.clone(),
            observer: call.observer.take(),
            cancel: call.cancel.take(),
            bindings: deployed.bindings.clone(),
            compatibility_date: Some(deployed.compatibility_date.clone()),
        };
        let result = self.core.runtime.invoke(&deployed.spec, request).await;

        let status = result.status.as_str();
        self.core.metrics.invocations.get_or_create(&InvocationLabels { trigger: trigger.as_str(), status }).inc();
        self.core
            .metrics
            .duration
            .get_or_create(&TriggerLabels { trigger: trigger.as_str() })
            .observe(result.duration_us as f64 / 1e6);
        self.alerts.observe_outcome(&tenant, &deployed, trigger, id, &result).await;
        self.lifecycle.observe_failure(&tenant, &deployed, &call.trigger, id, &result);

        let keep = match mode {
            Record::Durable => true,
            Record::Sampled { rate, .. } => {
                result.status != quasm_runtime::Status::Ok || sampled(id, rate.unwrap_or(deployed.success_sample_rate))
            }
        };
        if keep {
            let mut record = new_record(status);
            record.finished_at = Some(Utc::now());
            record.duration_us = Some(micros(result.duration_us));
            record.cpu_time_us = Some(micros(result.cpu_time_us));
            record.peak_memory_bytes = Some(micros(result.peak_memory_bytes));
            record.output = result.output.clone().or_else(|| {
                result.response.as_ref().map(|r| match r.streamed_bytes {
                    Some(n) => serde_json::json!({"status": r.status, "body_bytes": n, "streamed": true}),
                    None => serde_json::json!({"status": r.status, "body_bytes": r.body.len()}),
                })
            });
            record.logs = serde_json::to_value(&result.logs).expect("logs serialise");
            record.logs_truncated = result.logs_truncated;
            record.error = result.error.as_ref().map(|e| serde_json::to_value(e).expect("error serialises"));
            match mode {
                Record::Durable => self.executions.finish_record(record).await?,
                Record::Sampled { visible: false, .. } => self.executions.recorder().push(record).await,
                // Not waiting for the write keeps invokes off the recorder's
                // latency (a COPY batch of route traffic may be ahead).
                Record::Sampled { visible: true, .. } => self.executions.recorder().push_visible(record).await,
            }
        }
        Ok(Outcome { execution_id: id, version: deployed.version, result, recorded: keep })
    }

    /// Starts `call` in the background; its record exists (status
    /// `queued`) when this returns, so its id can be polled at once.
    pub async fn invoke_async(self: &Arc<Self>, mut call: Call) -> Result<Uuid> {
        let deployed = crate::deployed::deployed(&self.core, &call.tenant, &call.function).await?;
        if !deployed.enabled {
            return Err(ControllerError::Disabled(call.function));
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        let input = (!call.input.is_null()).then(|| call.input.clone());
        let (trigger, trigger_ref) = (call.trigger.trigger(), Some(call.trigger.reference()));
        let mut record =
            ExecutionRecord::unfinished(id, &call.tenant, &deployed, trigger, trigger_ref, "queued", now, input);
        record.started_by = call.user.as_ref().map(|u| u.id.clone());
        self.executions.insert_record(&record).await?;
        // Cancellable from now on, before it starts.
        self.executions.live.queue(id);
        call.execution_id = Some(id);
        call.record = Record::Durable;
        let this = self.clone();
        self.core.spawn_run(async move {
            if let Err(e) = this.invoke(call).await {
                tracing::warn!(execution = %id, "async invocation failed to start: {e}");
                this.executions.live.forget(id);
                let _ = this.fail_queued(id, &e).await;
            }
        });
        Ok(id)
    }

    async fn fail_queued(&self, id: Uuid, e: &ControllerError) -> Result<()> {
        let error = serde_json::json!({"name": "InvocationError", "message": e.to_string(), "stack": ""});
        self.core
            .db()
            .await?
            .execute(
                "UPDATE executions SET status = 'error', finished_at = now(), error = $2 WHERE id = $1",
                &[&id, &crate::store::jsonb::Jsonb(&error)],
            )
            .await?;
        Ok(())
    }
}

/// Deterministic per execution: the id's random tail decides.
fn sampled(id: Uuid, rate: f32) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 {
        return false;
    }
    let r = (id.as_u128() as u32) as f64 / u32::MAX as f64;
    r < rate as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn sampling_follows_the_rate() {
        let kept = (0..20_000).filter(|_| super::sampled(uuid::Uuid::now_v7(), 0.25)).count();
        assert!((4000..6000).contains(&kept), "{kept}");
        assert!(super::sampled(uuid::Uuid::now_v7(), 1.0));
        assert!(!super::sampled(uuid::Uuid::now_v7(), 0.0));
    }
}
