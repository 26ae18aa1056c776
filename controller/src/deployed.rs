//! A function's live version as invocations need it: bytecode, limits,
//! environment with decrypted secrets. Loaded once per node and cached
//! (see [`crate::cache`]) until the tenant's configuration changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use quasm_runtime::FunctionSpec;

use crate::error::{ControllerError, Result};
use crate::Controller;

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

impl Controller {
    /// The live version of `tenant`/`name`, from the cache or loaded once.
    pub async fn deployed(&self, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
        let cell = self.cache.tenant(tenant).function_cell(name);
        if let Some(d) = cell.get() {
            return Ok(d.clone());
        }
        cell.get_or_try_init(|| self.load_deployed(tenant, name)).await.cloned()
    }

    async fn load_deployed(&self, tenant: &str, name: &str) -> Result<Arc<Deployed>> {
        let db = self.db().await?;
        let f = self.function_row(&db, tenant, name, false).await?;
        let live = f.function.live_version.ok_or_else(|| ControllerError::not_found("live version of", name))?;
        let row = db
            .query_one(
                "SELECT bundle_key, guest_hash FROM versions WHERE function_id = $1 AND number = $2",
                &[&f.id, &live],
            )
            .await?;
        drop(db);
        let (key, guest_hash): (String, String) = (row.get(0), row.get(1));
        let bundle = self.load_bundle(&key).await?;
        // Bytecode is tied to the guest that compiled it; after an upgrade
        // of the guest, recompile from the stored source.
        let bytecode = if guest_hash == quasm_runtime::engine::guest_hash() {
            bundle.bytecode
        } else {
            let runtime = self.runtime.clone();
            let file = format!("{name}.js");
            tokio::task::spawn_blocking(move || runtime.compile(&bundle.source, &file))
                .await
                .map_err(|e| ControllerError::Internal(format!("compiler task: {e}")))?
                .map_err(|e| ControllerError::Internal(format!("recompiling {name}@{live}: {e}")))?
        };
        let mut env: BTreeMap<String, String> = f.function.env.clone();
        if let Some(sealed) = &f.sealed_secrets {
            env.extend(self.secrets.open(sealed)?);
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
}
