//! Tenant settings (admin only): so far the execution retention.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::functions::ensure_tenant;
use crate::Actor;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Days executions are kept; absent means the operator's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct Tenant {
    pub id: String,
    pub settings: TenantSettings,
    /// The retention in force (the setting or the operator's default).
    pub effective_retention_days: u32,
}

/// Tenants: their settings (retention, rate limits) and usage figures.
pub struct Tenants {
    pub(crate) core: Arc<Core>,
}

impl Tenants {
    pub async fn get(&self, tenant: &str) -> Result<Tenant> {
        let db = self.core.db().await?;
        let settings = match db.query_opt("SELECT settings FROM tenants WHERE id = $1", &[&tenant]).await? {
            Some(r) => serde_json::from_value(r.get(0))
                .map_err(|e| ControllerError::Internal(format!("tenant settings: {e}")))?,
            None => TenantSettings::default(),
        };
        Ok(self.tenant_view(tenant, settings))
    }

    fn tenant_view(&self, tenant: &str, settings: TenantSettings) -> Tenant {
        let effective = settings.retention_days.unwrap_or(self.core.config.default_retention_days);
        Tenant { id: tenant.to_owned(), settings, effective_retention_days: effective }
    }

    /// Merges `patch` into the tenant's settings: fields left out keep
    /// their value, a `null` resets one to the operator's default.
    pub async fn update(&self, actor: &Actor, patch: serde_json::Map<String, serde_json::Value>) -> Result<Tenant> {
        let mut merged = match serde_json::to_value(self.get(&actor.tenant).await?.settings) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        for (k, v) in patch {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        let settings: TenantSettings = serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| {
            let msg = e.to_string();
            let field = msg.split('`').nth(1).filter(|_| msg.starts_with("unknown field")).unwrap_or("settings");
            ControllerError::invalid(field, msg.clone())
        })?;
        if let Some(d) = settings.retention_days {
            if !(1..=3650).contains(&d) {
                return Err(ControllerError::invalid("retention_days", "must be between 1 and 3650"));
            }
        }
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let json = serde_json::to_value(&settings).expect("settings serialise");
        tx.execute("UPDATE tenants SET settings = $2 WHERE id = $1", &[&actor.tenant, &json]).await?;
        self.core.commit_change(tx, actor, "tenant.update", &actor.tenant, json, Notice::Nobody).await?;
        Ok(self.tenant_view(&actor.tenant, settings))
    }
}
