//! Execution history.

use hyper::StatusCode;
use quasm_controller::executions::ExecutionQuery;

use super::Ctx;
use crate::problem::{json, Problem, Resp};

pub async fn list(ctx: &Ctx) -> Result<Resp, Problem> {
    let q: ExecutionQuery = crate::body::query(ctx.query.as_deref())?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.executions.list(ctx.tenant(), q).await?))
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Resp, Problem> {
    let id: uuid::Uuid =
        id.parse().map_err(|_| Problem::invalid("id", format!("id: {id:?} is not an execution id")))?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.executions.get(ctx.tenant(), id).await?))
}
