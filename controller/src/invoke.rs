//! The one invoke path. HTTP routes, the invoke API, cron slots, event
//! deliveries and manual runs all end in [`Controller::invoke`]: resolve the
//! live version, enforce enabled and quotas, record the execution, run it
//! in the runtime, record the result.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use chrono::Utc;
use quasm_runtime::{
    FunctionSpec, HandlerKind, HttpRequest, InvocationContext, InvocationObserver, InvocationResult, InvocationUser,
};
use uuid::Uuid;

use crate::cache::Deployed;
use crate::error::{ControllerError, Result};
use crate::executions::ExecutionRecord;
use crate::metrics::{InvocationLabels, TriggerLabels};
use crate::Controller;

/// What started an invocation.
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

/// How the execution is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record {
    /// Errors always, successes at the function's sample rate (or this
    /// override); written in batches. With `wait`, the call returns only
    /// once its record is written.
    Sampled { rate: Option<f32>, wait: bool },
    /// Written before the run starts and updated after: never lost.
    Durable,
}

/// One invocation request.
pub struct Call {
    pub tenant: String,
    pub function: String,
    pub trigger: Trigger,
    /// Route id, schedule slot, event id...
    pub trigger_ref: Option<String>,
    pub handler: Option<HandlerKind>,
    pub input: serde_json::Value,
    pub request: Option<HttpRequest>,
    pub record: Record,
    /// The execution's id when its row was created beforehand (async runs).
    pub execution_id: Option<Uuid>,
    /// Extra `ctx` fields (e.g. an event's attempt number).
    pub ctx_extra: serde_json::Map<String, serde_json::Value>,
    pub observer: Option<Arc<dyn InvocationObserver>>,
    pub cancel: Option<Arc<AtomicBool>>,
    /// The user or API key that started it (`ctx.user`); none for cron
    /// slots and event deliveries.
    pub user: Option<InvocationUser>,
}

impl Call {
    pub fn new(tenant: impl Into<String>, function: impl Into<String>, trigger: Trigger) -> Self {
        let durable = matches!(trigger, Trigger::Cron | Trigger::Event | Trigger::Manual);
        Self {
            tenant: tenant.into(),
            function: function.into(),
            trigger,
            trigger_ref: None,
            handler: None,
            input: serde_json::Value::Null,
            request: None,
            record: if durable { Record::Durable } else { Record::Sampled { rate: None, wait: false } },
            execution_id: None,
            ctx_extra: Default::default(),
            observer: None,
            cancel: None,
            user: None,
        }
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub execution_id: Uuid,
    pub version: i32,
    pub result: InvocationResult,
}

fn micros(d: u64) -> i64 {
    i64::try_from(d).unwrap_or(i64::MAX)
}

impl Controller {
    /// Runs `call` to completion. Errors are about the call itself (unknown
    /// or disabled function, quota); what the function did is in the result.
    pub async fn invoke(&self, mut call: Call) -> Result<Outcome> {
        let deployed = self.deployed(&call.tenant, &call.function).await?;
        if !deployed.enabled {
            return Err(ControllerError::Disabled(call.function));
        }
        let _permit = match self.quotas.acquire(&call.tenant, deployed.function_id, self.live_nodes()).await {
            Ok(p) => p,
            Err(e) => {
                self.metrics.throttled.get_or_create(&crate::metrics::ReasonLabels { reason: "concurrency" }).inc();
                return Err(e);
            }
        };
        let id = call.execution_id.unwrap_or_else(Uuid::now_v7);
        let created_at = Utc::now();
        let (trigger, mode) = (call.trigger, call.record);
        let tenant = std::mem::take(&mut call.tenant);
        let trigger_ref = call.trigger_ref.take();
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
        let live = (mode == Record::Durable).then(|| self.live.register(id));
        if let Some(l) = &live {
            call.observer.get_or_insert_with(|| l.run.clone());
            call.cancel.get_or_insert_with(|| l.run.cancel_flag());
        }
        if mode == Record::Durable {
            match call.execution_id {
                None => self.insert_record(&new_record("running")).await?,
                // Queued by `invoke_async`: now it runs.
                Some(id) => self.mark_running(id, created_at).await?,
            }
        }

        let request = quasm_runtime::InvokeRequest {
            kind: call.handler,
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
                extra: std::mem::take(&mut call.ctx_extra),
            },
            services: self.services.clone(),
            observer: call.observer.take(),
            cancel: call.cancel.take(),
            bindings: deployed.bindings.clone(),
            compatibility_date: Some(deployed.compatibility_date.clone()),
        };
        let result = self.runtime.invoke(&deployed.spec, request).await;

        let status = result.status.as_str();
        self.metrics.invocations.get_or_create(&InvocationLabels { trigger: trigger.as_str(), status }).inc();
        self.metrics
            .duration
            .get_or_create(&TriggerLabels { trigger: trigger.as_str() })
            .observe(result.duration_us as f64 / 1e6);
        self.observe_outcome(&tenant, &deployed, trigger, id, &result).await;

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
                result.response.as_ref().map(|r| serde_json::json!({"status": r.status, "body_bytes": r.body.len()}))
            });
            record.logs = serde_json::to_value(&result.logs).expect("logs serialise");
            record.logs_truncated = result.logs_truncated;
            record.error = result.error.as_ref().map(|e| serde_json::to_value(e).expect("error serialises"));
            match mode {
                Record::Durable => self.finish_record(record).await?,
                Record::Sampled { wait, .. } => {
                    self.recorder().push(record).await;
                    if wait {
                        self.recorder().flush().await;
                    }
                }
            }
        }
        Ok(Outcome { execution_id: id, version: deployed.version, result })
    }

    /// Starts `call` in the background; its record exists (status
    /// `queued`) when this returns, so its id can be polled at once.
    pub async fn invoke_async(self: &Arc<Self>, mut call: Call) -> Result<Uuid> {
        let deployed = self.deployed(&call.tenant, &call.function).await?;
        if !deployed.enabled {
            return Err(ControllerError::Disabled(call.function));
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        let input = (!call.input.is_null()).then(|| call.input.clone());
        let (trigger, trigger_ref) = (call.trigger, call.trigger_ref.clone());
        let mut record =
            ExecutionRecord::unfinished(id, &call.tenant, &deployed, trigger, trigger_ref, "queued", now, input);
        record.started_by = call.user.as_ref().map(|u| u.id.clone());
        self.insert_record(&record).await?;
        // Cancellable from now on, before it starts.
        self.live.queue(id);
        call.execution_id = Some(id);
        call.record = Record::Durable;
        let this = self.clone();
        self.spawn_run(async move {
            if let Err(e) = this.invoke(call).await {
                tracing::warn!(execution = %id, "async invocation failed to start: {e}");
                this.live.forget(id);
                let _ = this.fail_queued(id, &e).await;
            }
        });
        Ok(id)
    }

    async fn fail_queued(&self, id: Uuid, e: &ControllerError) -> Result<()> {
        let error = serde_json::json!({"name": "InvocationError", "message": e.to_string(), "stack": ""});
        self.db()
            .await?
            .execute(
                "UPDATE executions SET status = 'error', finished_at = now(), error = $2 WHERE id = $1",
                &[&id, &crate::store::jsonb::Jsonb(&error)],
            )
            .await?;
        Ok(())
    }

    /// The live version of `tenant`/`name`, from the cache or loaded once.
    pub async fn deployed(&self, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
        let cell = self.cache.tenant(tenant).function_cell(name);
        if let Some(d) = cell.get() {
            return Ok(d.clone());
        }
        cell.get_or_try_init(|| self.load_deployed(tenant, name)).await.cloned()
    }

    async fn load_deployed(&self, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
        let db = self.db().await?;
        let f = self.function_row(&db, tenant, name, false).await?;
        let live = f.function.live_version.ok_or_else(|| ControllerError::not_found("live version of", name))?;
        let row = db
            .query_one(
                "SELECT bundle_key, guest_hash FROM versions WHERE function_id = $1 AND number = $2",
                &[&f.id, &live],
            )
            .await?;
        drop(db);
        let (key, guest_hash): (String, String) = (row.get(0), row.get(1));
        let bundle = self.load_bundle(&key).await?;
        // Bytecode is tied to the guest that compiled it; after an upgrade
        // of the guest, recompile from the stored source.
        let bytecode = if guest_hash == quasm_runtime::engine::guest_hash() {
            bundle.bytecode
        } else {
            let runtime = self.runtime.clone();
            let file = format!("{name}.js");
            tokio::task::spawn_blocking(move || runtime.compile(&bundle.source, &file))
                .await
                .map_err(|e| ControllerError::Internal(format!("compiler task: {e}")))?
                .map_err(|e| ControllerError::Internal(format!("recompiling {name}@{live}: {e}")))?
        };
        let mut env: BTreeMap<String, String> = f.function.env.clone();
        if let Some(sealed) = &f.sealed_secrets {
            env.extend(self.secrets.open(sealed)?);
        }
        // The key changes with any setting baked into the sandbox template
        // (the memory cap), so such a change never reuses old sandboxes.
        let key = format!("{tenant}/{}/{live}/{}", f.id, f.function.updated_at.timestamp_micros());
        let spec = FunctionSpec {
            key: key.into(),
            bytecode: bytecode.into(),
            limits: f.function.limits.clone(),
            isolation: f.function.isolation,
            host_rules: Arc::default(),
        };
        Ok(Arc::new(Deployed {
            function_id: f.id,
            name: f.function.name,
            enabled: f.function.enabled,
            version: live,
            spec,
            env,
            success_sample_rate: f.function.success_sample_rate,
            bindings: f.function.bindings,
            compatibility_date: f.function.compatibility_date.format("%Y-%m-%d").to_string(),
        }))
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
