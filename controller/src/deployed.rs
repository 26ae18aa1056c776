//! A function's live version as invocations need it: bytecode, limits,
//! environment with decrypted secrets. Loaded once per node and cached
//! (see [`crate::cache`]) until the tenant's configuration changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use quasm_runtime::FunctionSpec;

use dashmap::DashMap;
use tokio::sync::OnceCell;

use crate::core::Core;
use crate::error::{ControllerError, Result};

/// A function's live version, ready to run.
pub struct Deployed {
    pub function_id: i64,
    pub name: String,
    pub enabled: bool,
    pub version: i32,
    pub spec: FunctionSpec,
    /// Variables and decrypted secrets, as the function's `env` sees them.
    pub env: BTreeMap<String, String>,
    pub success_sample_rate: f32,
    /// Service bindings it was granted.
    pub bindings: Vec<String>,
    /// `YYYY-MM-DD`: the gated behaviour it sees.
    pub compatibility_date: String,
}

/// The tenant's deployed functions by name, in its cached view.
#[derive(Default)]
struct CachedFunctions(DashMap<String, Arc<OnceCell<Arc<Deployed>>>>);

/// The live version of `tenant`/`name`, from the cache or loaded once.
pub(crate) async fn deployed(core: &Core, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
    let functions = core.cache.tenant(tenant).part::<CachedFunctions>();
    let cell = match functions.0.get(name) {
        Some(c) => c.clone(),
        None => functions.0.entry(name.to_owned()).or_default().clone(),
    };
    if let Some(d) = cell.get() {
        return Ok(d.clone());
    }
    cell.get_or_try_init(|| load(core, tenant, name)).await.cloned()
}

async fn load(core: &Core, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
    let db = core.db().await?;
    let f = core.function_row(&db, tenant, name, false).await?;
    let live = f.function.live_version.ok_or_else(|| ControllerError::not_found("live version of", name))?;
    let row = db
        .query_one(
            "SELECT bundle_key, guest_hash FROM versions WHERE function_id = $1 AND number = $2",
            &[&f.id, &live],
        )
        .await?;
    drop(db);
    let (key, guest_hash): (String, String) = (row.get(0), row.get(1));
    let bundle = core.load_bundle(&key).await?;
    // Bytecode is tied to the guest that compiled it; after an upgrade
    // of the guest, recompile from the stored source.
    let bytecode = if guest_hash == quasm_runtime::engine::guest_hash() {
        bundle.bytecode
    } else {
        let runtime = core.runtime.clone();
        let file = format!("{name}.js");
        tokio::task::spawn_blocking(move || runtime.compile(&bundle.source, &file))
            .await
            .map_err(|e| ControllerError::Internal(format!("compiler task: {e}")))?
            .map_err(|e| ControllerError::Internal(format!("recompiling {name}@{live}: {e}")))?
    };
    let mut env: BTreeMap<String, String> = f.function.env.clone();
    if let Some(sealed) = &f.sealed_secrets {
        env.extend(core.secrets.open(sealed)?);
    }
    // The key changes with any setting baked into the sandbox template
    // (the memory cap), so such a change never reuses old sandboxes.
    let key = format!("{tenant}/{}/{live}/{}", f.id, f.function.updated_at.timestamp_micros());
    let spec = FunctionSpec {
        key: key.into(),
        bytecode: bytecode.into(),
        limits: f.function.limits.clone(),
        isolation: f.function.isolation,
        host_rules: Arc::default(),
    };
    Ok(Arc::new(Deployed {
        function_id: f.id,
        name: f.function.name,
        enabled: f.function.enabled,
        version: live,
        spec,
        env,
        success_sample_rate: f.function.success_sample_rate,
        bindings: f.function.bindings,
        compatibility_date: f.function.compatibility_date.format("%Y-%m-%d").to_string(),
    }))
}
