//! Event subscriptions.

use hyper::StatusCode;
use quasm_controller::subscriptions::CreateSubscription;

use super::{number, Ctx};
use crate::auth::Role;
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx<'_>) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    let subscriptions = ctx.gw.controller.list_subscriptions(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "subscriptions": subscriptions })))
}

pub async fn get(ctx: &Ctx<'_>, id: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Viewer)?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.get_subscription(ctx.tenant(), number("id", id)?).await?))
}

pub async fn create(ctx: &mut Ctx<'_>) -> Result<Resp, Problem> {
    ctx.need(Role::Operator)?;
    let req: CreateSubscription = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.create_subscription(&ctx.actor(), req).await?))
}

pub async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<Resp, Problem> {
    ctx.need(Role::Operator)?;
    ctx.gw.controller.delete_subscription(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
