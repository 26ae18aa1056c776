//! API keys: long-lived credentials for services. A key is
//! `qk_<id>_<secret>`; only the id and the SHA-256 of the secret are
//! stored, so the key is shown once, at creation. Keys carry roles and may
//! expire. Verified keys are cached until their tenant changes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::functions::ensure_tenant;
use crate::Actor;

/// Role names, lowest first; each includes the ones before it.
pub const ROLES: &[&str] = &["viewer", "developer", "operator", "admin"];

/// `POST /api/v1/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    pub roles: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The response to a creation: the only time the full key is shown.
#[derive(Debug, Serialize)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    pub key: String,
}

/// What a verified key grants.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub tenant: String,
    pub id: String,
    pub roles: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    secret_hash: Vec<u8>,
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(b).to_vec()
}

fn random_hex(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| ControllerError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

/// Splits `qk_<id>_<secret>`.
fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("qk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && secret.len() == 64).then_some((id, secret))
}

pub fn looks_like_api_key(s: &str) -> bool {
    s.starts_with("qk_")
}

fn validate_roles(roles: &[String]) -> Result<()> {
    if roles.is_empty() {
        return Err(ControllerError::invalid("roles", format!("give at least one of {}", ROLES.join(", "))));
    }
    for (i, r) in roles.iter().enumerate() {
        if !ROLES.contains(&r.as_str()) {
            return Err(ControllerError::invalid(
                format!("roles[{i}]"),
                format!("{r:?} is not one of {}", ROLES.join(", ")),
            ));
        }
    }
    Ok(())
}

/// API keys: long-lived credentials of a tenant, verified per request.
pub struct ApiKeys {
    pub(crate) core: Arc<Core>,
}

impl ApiKeys {
    pub async fn create(&self, actor: &Actor, req: CreateApiKey) -> Result<CreatedApiKey> {
        if req.name.trim().is_empty() || req.name.len() > 128 {
            return Err(ControllerError::invalid("name", "1-128 characters"));
        }
        validate_roles(&req.roles)?;
        if req.expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(ControllerError::invalid("expires_at", "is in the past"));
        }
        let id = random_hex(8)?;
        let secret = random_hex(32)?;
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let row = tx
            .query_one(
                "INSERT INTO api_keys (id, tenant_id, name, secret_hash, roles, created_by, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at",
                &[
                    &id,
                    &actor.tenant,
                    &req.name,
                    &sha256(secret.as_bytes()),
                    &req.roles,
                    &actor.subject,
                    &req.expires_at,
                ],
            )
            .await?;
        let details = serde_json::json!({"name": req.name, "roles": req.roles});
        self.core.commit_change(tx, actor, "api_key.create", &id, details, Notice::Nobody).await?;
        Ok(CreatedApiKey {
            key: format!("qk_{id}_{secret}"),
            api_key: ApiKey {
                id,
                name: req.name,
                roles: req.roles,
                created_by: actor.subject.clone(),
                created_at: row.get(0),
                expires_at: req.expires_at,
            },
        })
    }

    pub async fn list(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        let db = self.core.db().await?;
        let rows = db
            .query(
                "SELECT id, name, roles, created_by, created_at, expires_at FROM api_keys
                 WHERE tenant_id = $1 ORDER BY created_at",
                &[&tenant],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ApiKey {
                id: r.get(0),
                name: r.get(1),
                roles: r.get(2),
                created_by: r.get(3),
                created_at: r.get(4),
                expires_at: r.get(5),
            })
            .collect())
    }

    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let n = tx.execute("DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2", &[&actor.tenant, &id]).await?;
        if n == 0 {
            return Err(ControllerError::not_found("API key", id));
        }
        // Every node drops the cached key.
        self.core.commit_change(tx, actor, "api_key.delete", id, serde_json::Value::Null, Notice::Caches).await?;
        Ok(())
    }

    /// Checks a presented key. `None`: unknown, wrong secret or expired
    /// (deliberately not told apart to the caller).
    pub async fn verify(&self, key: &str) -> Result<Option<KeyGrant>> {
        let Some((id, secret)) = parse(key) else { return Ok(None) };
        let grant = match self.core.cache.by_id::<KeyGrant>(id) {
            Some(g) => g,
            None => {
                let db = self.core.db().await?;
                let Some(r) = db
                    .query_opt("SELECT tenant_id, roles, expires_at, secret_hash FROM api_keys WHERE id = $1", &[&id])
                    .await?
                else {
                    return Ok(None);
                };
                let g = Arc::new(KeyGrant {
                    tenant: r.get(0),
                    id: id.to_owned(),
                    roles: r.get(1),
                    expires_at: r.get(2),
                    secret_hash: r.get(3),
                });
                self.core.cache.put_by_id(id, &g.tenant, g.clone());
                g
            }
        };
        // Hashes are compared, so timing reveals nothing about the secret.
        let ok = sha256(secret.as_bytes()) == grant.secret_hash && grant.expires_at.is_none_or(|t| t > Utc::now());
        Ok(ok.then(|| (*grant).clone()))
    }
}
