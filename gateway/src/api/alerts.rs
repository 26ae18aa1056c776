//! Alert rules and their notification history. Reads need viewer; changes
//! and test sends need operator (as routes do: they decide what happens
//! when functions run, and send requests to tenant-chosen addresses).

use hyper::StatusCode;
use quasm_controller::alerts::{CreateAlertRule, UpdateAlertRule};

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<i64>,
}

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let rules = ctx.gw.controller.alerts.list_rules(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "alerts": rules })))
}

pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateAlertRule = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.alerts.create_rule(&ctx.actor(), req).await?))
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.alerts.get_rule(ctx.tenant(), number("id", id)?).await?))
}

pub async fn update(ctx: &mut Ctx, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let req: UpdateAlertRule = ctx.json().await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.alerts.update_rule(&ctx.actor(), id, req).await?))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.alerts.delete_rule(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn test(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let sent = ctx.gw.controller.alerts.test_rule(ctx.tenant(), number("id", id)?).await?;
    Ok(json(StatusCode::OK, &sent))
}

pub async fn notifications(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let q: HistoryQuery = crate::body::query(ctx.query.as_deref())?;
    let list = ctx.gw.controller.alerts.notifications(ctx.tenant(), number("id", id)?, q.limit.unwrap_or(100)).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "notifications": list })))
}
