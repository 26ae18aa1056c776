//! `GET /api/v1/types`: the in-function API's TypeScript declarations
//! (`sdk-js/types/quasm.d.ts`) followed by those of the service bindings the
//! caller's tenant may use, so editors (the console's Monaco among them)
//! complete `env.HOST.` and its typed methods.

use hyper::StatusCode;

use super::Ctx;
use crate::problem::{Problem, Resp};

/// The in-function API, as published in `@quasm/sdk/function-types`.
const QUASM_D_TS: &str = include_str!("../../../sdk-js/types/quasm.d.ts");

pub async fn get(ctx: &Ctx) -> Result<Resp, Problem> {
    let bindings = ctx.gw.controller.runtime().bindings().declarations(ctx.tenant());
    let mut body = String::with_capacity(QUASM_D_TS.len() + bindings.len() + 128);
    body.push_str(QUASM_D_TS);
    if !bindings.is_empty() {
        body.push_str("\n// ---------------------------------------------------------------------------\n");
        body.push_str("// Service bindings of this tenant\n");
        body.push_str("// ---------------------------------------------------------------------------\n\n");
        body.push_str(&bindings);
    }
    Ok(hyper::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/typescript; charset=utf-8")
        .body(crate::problem::full(body))
        .expect("valid response"))
}
