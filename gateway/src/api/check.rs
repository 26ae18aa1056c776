//! `POST /check`: the engine's syntax errors for code not yet saved, so
//! editors can mark them as the user types.

use hyper::StatusCode;
use serde::Deserialize;

use super::Ctx;
use crate::problem::{json, Problem, Resp};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    code: String,
}

pub async fn check(ctx: &mut Ctx) -> Result<Resp, Problem> {
    ctx.gw.rate_limit_checks(ctx.tenant())?;
    let req: CheckBody = ctx.json().await?;
    Ok(json(StatusCode::OK, &ctx.gw.controller.versions.check(&req.code).await?))
}
