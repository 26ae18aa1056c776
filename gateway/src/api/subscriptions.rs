//! Event subscriptions.

use hyper::StatusCode;
use quasm_controller::events::subscriptions::CreateSubscription;

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let subscriptions = ctx.gw.controller.events.list_subscriptions(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "subscriptions": subscriptions })))
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.events.get_subscription(ctx.tenant(), number("id", id)?).await?))
}

pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateSubscription = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.events.create_subscription(&ctx.actor(), req).await?))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.events.delete_subscription(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
