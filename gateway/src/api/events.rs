//! Publishing events.

use hyper::StatusCode;
use quasm_controller::events::PublishEvent;
use serde::Deserialize;

use super::Ctx;
use crate::problem::{json, Problem, Resp};

/// 202 with the new event's id; 200 with the first event's id when the
/// idempotency key was used before.
pub async fn publish(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: PublishEvent = ctx.json_with_user_data(&["payload"]).await?;
    let published = ctx.gw.controller.events.publish(ctx.tenant(), &ctx.principal.subject, req).await?;
    let status = if published.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(json(status, &published))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    #[serde(deserialize_with = "quasm_controller::serde_strict::list_of_objects")]
    events: Vec<PublishEvent>,
}

/// `POST /events/batch` {events: [...]}: 202 with one result per event, in
/// order; all are published in one transaction, or none.
pub async fn publish_batch(ctx: &mut Ctx) -> Result<Resp, Problem> {
    let req: Batch = ctx.json_with_user_data(&["events[].payload"]).await?;
    let published = ctx.gw.controller.events.publish_many(ctx.tenant(), &ctx.principal.subject, &req.events).await?;
    Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "events": published })))
}
