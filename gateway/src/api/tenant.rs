//! The caller's tenant: settings and audit log.

use hyper::StatusCode;

use super::Ctx;
use crate::problem::{json, Problem, Resp};

pub async fn get(ctx: &Ctx) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.tenants.get(ctx.tenant()).await?))
}

pub async fn update(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: serde_json::Map<String, serde_json::Value> = ctx.json().await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.tenants.update(&ctx.actor(), req).await?))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
}

pub async fn audit(ctx: &Ctx) -> Result<Resp, Problem> {
    let q: AuditQuery = crate::body::query(ctx.query.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "entries": ctx.gw.controller.tenants.audit(ctx.tenant(), limit).await? }),
    ))
}
