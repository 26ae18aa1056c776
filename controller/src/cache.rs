//! What the invoke path reads on every call, cached per tenant: deployed
//! functions (live version's bytecode, env with decrypted secrets, limits),
//! the route table and the enabled alert rules. A change to a tenant drops its whole view (see
//! `changes.rs`); the next call reloads it from Postgres and the blob store.

use std::collections::BTreeMap;
use std::sync::Arc;

use dashmap::DashMap;
use quasm_runtime::FunctionSpec;
use tokio::sync::OnceCell;

use crate::alerts::ActiveRule;
use crate::api_keys::KeyGrant;
use crate::routes::RouteTable;

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

#[derive(Default)]
pub struct TenantView {
    pub(crate) functions: DashMap<String, Arc<OnceCell<Arc<Deployed>>>>,
    pub(crate) routes: OnceCell<Arc<RouteTable>>,
    /// Enabled alert rules: empty for most tenants, which then cost the
    /// invoke path one lookup.
    pub(crate) alert_rules: OnceCell<Arc<Vec<ActiveRule>>>,
}

#[derive(Default)]
pub struct Cache {
    tenants: DashMap<String, Arc<TenantView>>,
    /// Verified API keys by id.
    api_keys: DashMap<String, Arc<KeyGrant>>,
}

impl Cache {
    pub fn tenant(&self, tenant: &str) -> Arc<TenantView> {
        if let Some(v) = self.tenants.get(tenant) {
            return v.clone();
        }
        self.tenants.entry(tenant.to_owned()).or_default().clone()
    }

    /// Drops the view of `tenant`. Loads already under way finish into the
    /// detached view and are never seen again.
    pub fn invalidate(&self, tenant: &str) {
        self.tenants.remove(tenant);
        self.api_keys.retain(|_, g| g.tenant != tenant);
    }

    pub fn clear(&self) {
        self.tenants.clear();
        self.api_keys.clear();
    }

    pub(crate) fn api_key(&self, id: &str) -> Option<Arc<KeyGrant>> {
        self.api_keys.get(id).map(|g| g.clone())
    }

    pub(crate) fn put_api_key(&self, grant: Arc<KeyGrant>) {
        self.api_keys.insert(grant.id.clone(), grant);
    }
}

impl TenantView {
    pub(crate) fn function_cell(&self, name: &str) -> Arc<OnceCell<Arc<Deployed>>> {
        if let Some(c) = self.functions.get(name) {
            return c.clone();
        }
        self.functions.entry(name.to_owned()).or_default().clone()
    }
}
