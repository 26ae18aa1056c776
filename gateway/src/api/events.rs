//! Publishing events.

use hyper::StatusCode;
use quasm_controller::events::PublishEvent;

use super::Ctx;
use crate::auth::Role;
use crate::problem::{json, Problem, Resp};

/// 202 with the new event's id; 200 with the first event's id when the
/// idempotency key was used before.
pub async fn publish(ctx: &mut Ctx<'_>) -> Result<Resp, Problem> {
    ctx.need(Role::Developer)?;
    let req: PublishEvent = ctx.json().await?;
    let published = ctx.gw.controller.publish_event(ctx.tenant(), &ctx.principal.subject, req).await?;
    let status = if published.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(json(status, &published))
}
