//! Functions: a tenant's named scripts with their settings. Creating one
//! also creates version 1 and makes it live (see `versions.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use deadpool_postgres::GenericClient;
use quasm_runtime::{Isolation, Limits};
use serde::{Deserialize, Serialize};

use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::versions::Versions;
use crate::{validate, Actor};

/// `POST /api/v1/functions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFunction {
    pub name: String,
    pub code: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::serde_strict::option_object")]
    pub limits: Option<Limits>,
    pub enabled: Option<bool>,
    pub isolation: Option<Isolation>,
    pub success_sample_rate: Option<f32>,
    /// Service bindings the function may use (`env.NAME`).
    #[serde(default)]
    pub bindings: Vec<String>,
    /// `YYYY-MM-DD`; default: today (UTC).
    pub compatibility_date: Option<String>,
    /// Message of version 1.
    pub message: Option<String>,
}

/// `PATCH /api/v1/functions/{name}`: only the fields present change.
/// `secrets` merges: a `null` value deletes that secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateFunction {
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, String>>,
    pub secrets: Option<BTreeMap<String, Option<String>>>,
    /// Merged into the current limits: fields left out keep their value.
    pub limits: Option<serde_json::Map<String, serde_json::Value>>,
    pub enabled: Option<bool>,
    pub isolation: Option<Isolation>,
    pub success_sample_rate: Option<f32>,
    pub bindings: Option<Vec<String>>,
    pub compatibility_date: Option<String>,
}

/// A function as the API shows it. Secrets appear by name only.
#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub limits: Limits,
    pub env: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    pub isolation: Isolation,
    pub live_version: Option<i32>,
    pub success_sample_rate: f32,
    pub bindings: Vec<String>,
    /// Which gated behaviour changes of the in-function API it sees.
    pub compatibility_date: chrono::NaiveDate,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A function row with what the invoke path needs beyond the API view.
pub(crate) struct FunctionRow {
    pub id: i64,
    pub function: Function,
    pub sealed_secrets: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, name, description, tags, enabled, limits, env, secrets, isolation, live_version, \
                       success_sample_rate, created_at, updated_at, bindings, compatibility_date";

fn parse_isolation(s: &str) -> Isolation {
    if s == "warm" {
        Isolation::Warm
    } else {
        Isolation::Fresh
    }
}

fn isolation_str(i: Isolation) -> &'static str {
    match i {
        Isolation::Fresh => "fresh",
        Isolation::Warm => "warm",
    }
}

/// A function's row, as every service that acts on a function reads it.
impl Core {
    pub(crate) fn function_from_row(&self, r: &tokio_postgres::Row) -> Result<FunctionRow> {
        let limits: serde_json::Value = r.get(5);
        let env: serde_json::Value = r.get(6);
        let sealed: Option<Vec<u8>> = r.get(7);
        let secrets = match &sealed {
            Some(s) => self.secrets.open(s)?.into_keys().collect(),
            None => Vec::new(),
        };
        let corrupt = |what: &str, e: serde_json::Error| ControllerError::Internal(format!("stored {what}: {e}"));
        Ok(FunctionRow {
            id: r.get(0),
            sealed_secrets: sealed,
            function: Function {
                name: r.get(1),
                description: r.get(2),
                tags: r.get(3),
                enabled: r.get(4),
                limits: serde_json::from_value(limits).map_err(|e| corrupt("limits", e))?,
                env: serde_json::from_value(env).map_err(|e| corrupt("env", e))?,
                secrets,
                isolation: parse_isolation(r.get(8)),
                live_version: r.get(9),
                success_sample_rate: r.get(10),
                created_at: r.get(11),
                updated_at: r.get(12),
                bindings: r.get(13),
                compatibility_date: r.get(14),
            },
        })
    }

    pub(crate) async fn function_row(
        &self,
        db: &impl GenericClient,
        tenant: &str,
        name: &str,
        for_update: bool,
    ) -> Result<FunctionRow> {
        let lock = if for_update { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT {COLUMNS} FROM functions WHERE tenant_id = $1 AND name = $2{lock}");
        let row =
            db.query_opt(&sql, &[&tenant, &name]).await?.ok_or_else(|| ControllerError::not_found("function", name))?;
        self.function_from_row(&row)
    }
}

/// Functions: create (with version 1), read, change, delete.
pub struct Functions {
    pub(crate) core: Arc<Core>,
    pub(crate) versions: Arc<Versions>,
}

impl Functions {
    fn check_limits(&self, limits: &Limits) -> Result<()> {
        self.core.runtime.maxima().validate(limits).map_err(|m| {
            let field = m.split(' ').next().unwrap_or("limits").to_owned();
            ControllerError::invalid(field, m)
        })
    }

    /// Creates a function and its version 1, live.
    pub async fn create(&self, actor: &Actor, req: CreateFunction) -> Result<Function> {
        validate::name("name", &req.name)?;
        validate::description(&req.description)?;
        validate::tags(&req.tags)?;
        validate::variables("env", &req.env)?;
        validate::variables("secrets", &req.secrets)?;
        validate::distinct(&req.env, req.secrets.keys())?;
        validate::code(&req.code)?;
        let limits = req.limits.unwrap_or_default();
        self.check_limits(&limits)?;
        let rate = req.success_sample_rate.unwrap_or(1.0);
        validate::sample_rate("success_sample_rate", rate)?;
        crate::bindings::check(self.core.runtime.bindings(), &actor.tenant, &req.bindings)?;
        let compatibility_date = match &req.compatibility_date {
            Some(d) => crate::compat::date(d)?,
            None => chrono::Utc::now().date_naive(),
        };
        // Compile and store the bundle before touching the database: a
        // crash in between leaves only an unreferenced blob.
        let prepared = self.versions.prepare(&req.name, &req.code).await?;
        let sealed = if req.secrets.is_empty() { None } else { Some(self.core.secrets.seal(&req.secrets)?) };

        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let env = serde_json::to_value(&req.env).expect("map");
        let limits_json = serde_json::to_value(&limits).expect("limits");
        let isolation = isolation_str(req.isolation.unwrap_or_default());
        let row = tx
            .query_opt(
                "INSERT INTO functions (tenant_id, name, description, tags, enabled, limits, env, secrets, isolation,
                                        success_sample_rate, live_version, bindings, compatibility_date)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)
                 ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id",
                &[
                    &actor.tenant,
                    &req.name,
                    &req.description,
                    &req.tags,
                    &req.enabled.unwrap_or(true),
                    &limits_json,
                    &env,
                    &sealed,
                    &isolation,
                    &rate,
                    &req.bindings,
                    &compatibility_date,
                ],
            )
            .await?
            .ok_or_else(|| ControllerError::Conflict { what: "function", name: req.name.clone() })?;
        let id: i64 = row.get(0);
        self.versions.insert(&tx, id, 1, &prepared, &actor.subject, req.message.as_deref().unwrap_or("")).await?;
        let details = serde_json::json!({"version": 1});
        self.core.commit_change(tx, actor, "function.create", &req.name, details, Notice::Caches).await?;
        // Read back on the same connection: a request holding one while
        // waiting for a second would starve the pool under concurrency.
        Ok(self.core.function_row(&db, &actor.tenant, &req.name, false).await?.function)
    }

    pub async fn get(&self, tenant: &str, name: &str) -> Result<Function> {
        let db = self.core.db().await?;
        Ok(self.core.function_row(&db, tenant, name, false).await?.function)
    }

    pub async fn list(&self, tenant: &str) -> Result<Vec<Function>> {
        let db = self.core.db().await?;
        let rows = db
            .query(&format!("SELECT {COLUMNS} FROM functions WHERE tenant_id = $1 ORDER BY name"), &[&tenant])
            .await?;
        rows.iter().map(|r| self.core.function_from_row(r).map(|f| f.function)).collect()
    }

    pub async fn update(&self, actor: &Actor, name: &str, req: UpdateFunction) -> Result<Function> {
        if let Some(d) = &req.description {
            validate::description(d)?;
        }
        if let Some(t) = &req.tags {
            validate::tags(t)?;
        }
        if let Some(e) = &req.env {
            validate::variables("env", e)?;
        }
        if let Some(r) = req.success_sample_rate {
            validate::sample_rate("success_sample_rate", r)?;
        }
        if let Some(b) = &req.bindings {
            crate::bindings::check(self.core.runtime.bindings(), &actor.tenant, b)?;
        }
        let compatibility_date = req.compatibility_date.as_deref().map(crate::compat::date).transpose()?;
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let current = self.core.function_row(&tx, &actor.tenant, name, true).await?;
        let mut f = current.function;
        let mut sealed = current.sealed_secrets;
        let mut changed: Vec<&str> = Vec::new();
        if let Some(d) = req.description {
            f.description = d;
            changed.push("description");
        }
        if let Some(t) = req.tags {
            f.tags = t;
            changed.push("tags");
        }
        if let Some(e) = req.env {
            f.env = e;
            changed.push("env");
        }
        if let Some(patch) = req.limits {
            let mut merged = match serde_json::to_value(&f.limits).expect("limits serialise") {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("limits are an object"),
            };
            merged.extend(patch);
            f.limits = serde_json::from_value(serde_json::Value::Object(merged))
                .map_err(|e| ControllerError::invalid("limits", format!("limits: {e}")))?;
            self.check_limits(&f.limits)?;
            changed.push("limits");
        }
        if let Some(e) = req.enabled {
            f.enabled = e;
            changed.push("enabled");
        }
        if let Some(i) = req.isolation {
            f.isolation = i;
            changed.push("isolation");
        }
        if let Some(r) = req.success_sample_rate {
            f.success_sample_rate = r;
            changed.push("success_sample_rate");
        }
        if let Some(b) = req.bindings {
            f.bindings = b;
            changed.push("bindings");
        }
        if let Some(d) = compatibility_date {
            f.compatibility_date = d;
            changed.push("compatibility_date");
        }
        if let Some(updates) = req.secrets {
            let mut all = match &sealed {
                Some(s) => self.core.secrets.open(s)?,
                None => BTreeMap::new(),
            };
            for (k, v) in updates {
                match v {
                    Some(v) => all.insert(k, v),
                    None => all.remove(&k),
                };
            }
            validate::variables("secrets", &all)?;
            validate::distinct(&f.env, all.keys())?;
            sealed = if all.is_empty() { None } else { Some(self.core.secrets.seal(&all)?) };
            changed.push("secrets");
        }
        if changed.contains(&"env") && !changed.contains(&"secrets") {
            if let Some(s) = &sealed {
                validate::distinct(&f.env, self.core.secrets.open(s)?.keys())?;
            }
        }
        tx.execute(
            "UPDATE functions SET description = $3, tags = $4, env = $5, limits = $6, enabled = $7, isolation = $8,
                    success_sample_rate = $9, secrets = $10, bindings = $11, compatibility_date = $12,
                    updated_at = now()
             WHERE tenant_id = $1 AND name = $2",
            &[
                &actor.tenant,
                &name,
                &f.description,
                &f.tags,
                &serde_json::to_value(&f.env).expect("map"),
                &serde_json::to_value(&f.limits).expect("limits"),
                &f.enabled,
                &isolation_str(f.isolation),
                &f.success_sample_rate,
                &sealed,
                &f.bindings,
                &f.compatibility_date,
            ],
        )
        .await?;
        let details = serde_json::json!({"fields": changed});
        self.core.commit_change(tx, actor, "function.update", name, details, Notice::Caches).await?;
        // Read back on the same connection (see create).
        Ok(self.core.function_row(&db, &actor.tenant, name, false).await?.function)
    }

    /// Deletes a function with its versions, routes and execution history.
    pub async fn delete(&self, actor: &Actor, name: &str) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let n = tx.execute("DELETE FROM functions WHERE tenant_id = $1 AND name = $2", &[&actor.tenant, &name]).await?;
        if n == 0 {
            return Err(ControllerError::not_found("function", name));
        }
        self.core.commit_change(tx, actor, "function.delete", name, serde_json::Value::Null, Notice::Caches).await?;
        Ok(())
    }
}

/// Tenants exist from their first write; credentials name them.
pub(crate) async fn ensure_tenant(db: &impl GenericClient, tenant: &str) -> Result<()> {
    validate::name("tenant", tenant)?;
    db.execute("INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING", &[&tenant]).await?;
    Ok(())
}
