//! `GET /api/v1/stats`: the last 24 hours at a glance (the console's home
//! page), and `GET /api/v1/whoami`: who the credential is (the console
//! needs the tenant and role of an API key, which it cannot decode).

use hyper::StatusCode;

use super::Ctx;
use crate::problem::{json, Problem, Resp};

pub async fn get(ctx: &Ctx) -> Result<Resp, Problem> {
    Ok(json(StatusCode::OK, &ctx.gw.controller.tenants.stats(ctx.tenant()).await?))
}

/// Any valid credential may ask who it is, whatever its roles.
pub async fn whoami(ctx: &Ctx) -> Result<Resp, Problem> {
    let p = &ctx.principal;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "tenant": p.tenant,
            "subject": p.subject,
            "roles": p.roles,
            "role": p.highest_role(),
        }),
    ))
}
