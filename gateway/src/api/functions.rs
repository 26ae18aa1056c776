//! Functions, versions, deploy/rollback and synchronous/async invocation.

use hyper::StatusCode;
use quasm_controller::functions::{CreateFunction, UpdateFunction};
use quasm_controller::versions::CreateVersion;
use quasm_controller::{Call, Trigger};
use quasm_runtime::HandlerKind;
use serde::Deserialize;

use super::{number, Ctx};
use crate::auth::Role;
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx<'_>) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    let functions = ctx.gw.controller.list_functions(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "functions": functions })))
}

pub async fn create(ctx: &mut Ctx<'_>) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let req: CreateFunction = ctx.json().await?;
    ctx.need(if req.secrets.is_empty() { Role::Developer } else { Role::Admin })?;
    let f = ctx.gw.controller.create_function(&ctx.actor(), req).await?;
    Ok(json(StatusCode::CREATED, &f))
}

pub async fn get(ctx: &Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.get_function(ctx.tenant(), name).await?))
}

pub async fn update(ctx: &mut Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let req: UpdateFunction = ctx.json().await?;
    // The error names the strongest role the change needs.
    let needed = match (req.secrets.is_some(), req.enabled.is_some()) {
        (true, _) => Role::Admin,
        (false, true) => Role::Operator,
        _ => Role::Developer,
    };
    ctx.need(needed)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.update_function(&ctx.actor(), name, req).await?))
}

pub async fn delete(ctx: &Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Operator)?;
    ctx.gw.controller.delete_function(&ctx.actor(), name).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn list_versions(ctx: &Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    let versions = ctx.gw.controller.list_versions(ctx.tenant(), name).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "versions": versions })))
}

pub async fn create_version(ctx: &mut Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let req: CreateVersion = ctx.json().await?;
    if req.deploy != Some(false) && !ctx.principal.has(Role::Operator) {
        return Err(Problem::forbidden(Role::Operator)
            .with_details(serde_json::json!({"required_role": "operator",
                "hint": "deploying needs the operator role; send \"deploy\": false to add a version without deploying it"})));
    }
    let v = ctx.gw.controller.create_version(&ctx.actor(), name, req).await?;
    Ok(json(StatusCode::CREATED, &v))
}

pub async fn get_version(ctx: &Ctx<'_>, name: &str, n: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    let n: i32 = number("version", n)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.get_version(ctx.tenant(), name, n, true).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployRequest {
    version: i32,
}

pub async fn deploy(ctx: &mut Ctx<'_>, name: &str, action: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Operator)?;
    let req: DeployRequest = ctx.json().await?;
    let audit = if action == "rollback" { "version.rollback" } else { "version.deploy" };
    Ok(json(StatusCode::OK, &ctx.gw.controller.deploy_version(&ctx.actor(), name, req.version, audit).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InvokeBody {
    #[serde(default)]
    input: serde_json::Value,
    #[serde(default, rename = "async")]
    run_async: bool,
    /// `run` (default), `scheduled` or `event`.
    handler: Option<String>,
}

pub async fn invoke(ctx: &mut Ctx<'_>, name: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let bytes = ctx.body().await?;
    let req: InvokeBody =
        if bytes.is_empty() { InvokeBody::default() } else { crate::body::json_with_user_data(&bytes, &["input"])? };
    let handler = match req.handler.as_deref() {
        None | Some("run") => HandlerKind::Run,
        Some("scheduled") => HandlerKind::Scheduled,
        Some("event") => HandlerKind::Event,
        Some(other) => {
            return Err(Problem::invalid("handler", format!("handler: {other:?} is not one of run, scheduled, event")))
        }
    };
    let mut call = Call::new(ctx.tenant(), name, Trigger::Invoke);
    call.handler = Some(handler);
    call.input = req.input;
    call.trigger_ref = Some(ctx.principal.subject.clone());
    call.user = Some(ctx.principal.user());
    if req.run_async {
        let id = ctx.gw.controller.invoke_async(call).await?;
        return Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "execution_id": id })));
    }
    // Always recorded (whatever the sample rate), and written before the
    // response, so the returned id can be fetched at once.
    call.record = quasm_controller::invoke::Record::Sampled { rate: Some(1.0), wait: true };
    let out = ctx.gw.controller.invoke(call).await?;
    let r = out.result;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "execution_id": out.execution_id,
            "version": out.version,
            "status": r.status,
            "output": r.output,
            "logs": r.logs,
            "logs_truncated": r.logs_truncated,
            "error": r.error,
            "duration_ms": r.duration_us as f64 / 1000.0,
            "cpu_time_ms": r.cpu_time_us as f64 / 1000.0,
            "peak_memory_bytes": r.peak_memory_bytes,
        }),
    ))
}
