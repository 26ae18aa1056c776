//! Functions, versions, deploy/rollback and synchronous/async invocation.

use hyper::StatusCode;
use quasm_controller::functions::{CreateFunction, UpdateFunction};
use quasm_controller::versions::CreateVersion;
use quasm_controller::Call;
use quasm_runtime::HandlerKind;
use serde::Deserialize;

use super::{number, Ctx};
use crate::auth::Role;
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let functions = ctx.gw.controller.functions.list(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "functions": functions })))
}

pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateFunction = ctx.json().await?;
    if !req.secrets.is_empty() {
        ctx.need(Role::Admin)?;
    }
    let f = ctx.gw.controller.functions.create(&ctx.actor(), req).await?;
    Ok(json(StatusCode::CREATED, &f))
}

pub async fn get(ctx: &Ctx, name: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.functions.get(ctx.tenant(), name).await?))
}

pub async fn update(ctx: &mut Ctx, name: &str) -> Result<Resp, Problem> {
    let req: UpdateFunction = ctx.json().await?;
    // The error names the strongest role the change needs.
    let needed = match (req.secrets.is_some(), req.enabled.is_some()) {
        (true, _) => Role::Admin,
        (false, true) => Role::Operator,
        _ => Role::Developer,
    };
    ctx.need(needed)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.functions.update(&ctx.actor(), name, req).await?))
}

pub async fn delete(ctx: &Ctx, name: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.functions.delete(&ctx.actor(), name).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn list_versions(ctx: &Ctx, name: &str) -> Result<Resp, Problem> {
    let versions = ctx.gw.controller.versions.list(ctx.tenant(), name).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "versions": versions })))
}

pub async fn create_version(ctx: &mut Ctx, name: &str) -> Result<Resp, Problem> {
    let req: CreateVersion = ctx.json().await?;
    if req.deploy != Some(false) && !ctx.principal.has(Role::Operator) {
        return Err(Problem::forbidden(Role::Operator)
            .with_details(serde_json::json!({"required_role": "operator",
                "hint": "deploying needs the operator role; send \"deploy\": false to add a version without deploying it"})));
    }
    let v = ctx.gw.controller.versions.create(&ctx.actor(), name, req).await?;
    Ok(json(StatusCode::CREATED, &v))
}

pub async fn get_version(ctx: &Ctx, name: &str, n: &str) -> Result<Resp, Problem> {
    let n: i32 = number("version", n)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.versions.get(ctx.tenant(), name, n, true).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployRequest {
    version: i32,
}

/// `audit` names the change in the audit log: `version.deploy` or
/// `version.rollback` (the same operation, told apart for people).
pub async fn deploy(ctx: &mut Ctx, name: &str, audit: &'static str) -> Result<Resp, Problem> {
    let req: DeployRequest = ctx.json().await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.versions.deploy(&ctx.actor(), name, req.version, audit).await?))
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

pub async fn invoke(ctx: &mut Ctx, name: &str) -> Result<Resp, Problem> {
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
    let call = Call::invoke(ctx.tenant(), name, ctx.principal.user(), handler, req.input);
    if req.run_async {
        let id = ctx.gw.controller.invoker.invoke_async(call).await?;
        return Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "execution_id": id })));
    }
    let out = ctx.gw.controller.invoker.invoke(call).await?;
    let r = out.result;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "execution_id": out.execution_id,
            "recorded": out.recorded,
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
