//! Dead letters: event deliveries that ran out of attempts.

use hyper::StatusCode;
use quasm_controller::events::dead_letters::DeadLetterQuery;

use super::{number, Ctx};
use crate::problem::{empty, json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let q: DeadLetterQuery = crate::body::query(ctx.query.as_deref())?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.events.list_dead_letters(ctx.tenant(), q).await?))
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.events.get_dead_letter(ctx.tenant(), number("id", id)?).await?))
}

/// 202: queued again, delivered by the workers.
pub async fn replay(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let id = number("id", id)?;
    ctx.gw.controller.events.replay_dead_letter(&ctx.actor(), id).await?;
    Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "id": id, "status": "pending" })))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    ctx.gw.controller.events.delete_dead_letter(&ctx.actor(), number("id", id)?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
