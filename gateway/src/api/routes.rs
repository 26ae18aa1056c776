//! HTTP routes of the tenant's functions.

use hyper::StatusCode;
use quasm_controller::routes::CreateRoute;

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let routes = ctx.gw.controller.routes.list(ctx.tenant()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "routes": routes })))
}

pub async fn create(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: CreateRoute = ctx.json().await?;
    Ok(json(StatusCode::CREATED, &ctx.gw.controller.routes.create(&ctx.actor(), req).await?))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.routes.delete(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
