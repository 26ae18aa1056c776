//! Cron schedules of a function, their recorded slots and a preview of
//! the next fire times.

use hyper::StatusCode;
use quasm_controller::schedules::{CreateSchedule, RunQuery, UpdateSchedule};

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx, function: &str) -> Result<Resp, Problem> {
    let schedules = ctx.gw.controller.schedules.list(ctx.tenant(), function).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "schedules": schedules })))
}

pub async fn create(ctx: &mut Ctx, function: &str) -> Result<Resp, Problem> {
    let req: CreateSchedule = ctx.json_with_user_data(&["input"]).await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.schedules.create(&ctx.actor(), function, req).await?))
}

pub async fn get(ctx: &Ctx, function: &str, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.schedules.get(ctx.tenant(), function, number("id", id)?).await?))
}

pub async fn update(ctx: &mut Ctx, function: &str, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let req: UpdateSchedule = ctx.json_with_user_data(&["input"]).await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.schedules.update(&ctx.actor(), function, id, req).await?))
}

pub async fn delete(ctx: &Ctx, function: &str, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.schedules.delete(&ctx.actor(), function, number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn runs(ctx: &Ctx, function: &str, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let q: RunQuery = crate::body::query(ctx.query.as_deref())?;
    let runs = ctx.gw.controller.schedules.runs(ctx.tenant(), function, id, q).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "runs": runs })))
}

#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    count: Option<usize>,
}

pub async fn preview(ctx: &Ctx, function: &str, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let q: PreviewQuery = crate::body::query(ctx.query.as_deref())?;
    let next = ctx.gw.controller.schedules.preview(ctx.tenant(), function, id, q.count.unwrap_or(5)).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "next": next })))
}
