//! Tenant webhooks, their delivery history and redelivery. Reads need
//! viewer; changes, secret rotation and redelivery need operator (as alert
//! rules do: they send requests to tenant-chosen addresses).

use hyper::StatusCode;
use quasm_controller::webhooks::{CreateWebhook, DeliveryQuery, UpdateWebhook};

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let hooks = ctx.gw.controller.webhooks.list(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "webhooks": hooks })))
}

/// 201 with the webhook and its `signing_secret` (shown this once).
pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateWebhook = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.webhooks.create(&ctx.actor(), req).await?))
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.webhooks.get(ctx.tenant(), number("id", id)?).await?))
}

pub async fn update(ctx: &mut Ctx, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let req: UpdateWebhook = ctx.json().await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.webhooks.update(&ctx.actor(), id, req).await?))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.webhooks.delete(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// 200 with the webhook and its new `signing_secret` (shown this once).
pub async fn rotate_secret(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.webhooks.rotate_secret(&ctx.actor(), number("id", id)?).await?))
}

pub async fn deliveries(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    let q: DeliveryQuery = crate::body::query(ctx.query.as_deref())?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.webhooks.deliveries(ctx.tenant(), id, q).await?))
}

pub async fn delivery(ctx: &Ctx, id: &str, delivery: &str) -> Result<Resp, Problem> {
    let (id, delivery) = (number("id", id)?, number("delivery_id", delivery)?);
    Ok(json(StatusCode::OK, &ctx.gw.controller.webhooks.delivery(ctx.tenant(), id, delivery).await?))
}

/// 202 with the new delivery (pending), sent by the workers.
pub async fn redeliver(ctx: &Ctx, id: &str, delivery: &str) -> Result<Resp, Problem> {
    let (id, delivery) = (number("id", id)?, number("delivery_id", delivery)?);
    Ok(json(StatusCode::ACCEPTED, &ctx.gw.controller.webhooks.redeliver(&ctx.actor(), id, delivery).await?))
}
