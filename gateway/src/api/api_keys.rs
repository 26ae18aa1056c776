//! API keys (admin only). The full key is in the creation response only.

use hyper::StatusCode;
use quasm_controller::api_keys::CreateApiKey;

use super::Ctx;
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let keys = ctx.gw.controller.api_keys.list(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "api_keys": keys })))
}

pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateApiKey = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.api_keys.create(&ctx.actor(), req).await?))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.api_keys.delete(&ctx.actor(), id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
