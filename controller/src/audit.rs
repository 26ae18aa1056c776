//! The audit log: every change to a tenant's configuration, with who made
//! it. Written in the same transaction as the change itself.

use deadpool_postgres::GenericClient;
use serde::Serialize;

use crate::error::Result;

pub async fn record(
    db: &impl GenericClient,
    tenant: &str,
    actor: &str,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    db.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant, &actor, &action, &target, &details],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The newest entries of `tenant`, newest first.
pub async fn list(db: &impl GenericClient, tenant: &str, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = db
        .query(
            "SELECT id, actor, action, target, details, at FROM audit_log
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
            &[&tenant, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            actor: r.get(1),
            action: r.get(2),
            target: r.get(3),
            details: r.get(4),
            at: r.get(5),
        })
        .collect())
}

impl crate::tenants::Tenants {
    /// The audit log of `tenant`, newest first.
    pub async fn audit(&self, tenant: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let db = self.core.db().await?;
        list(&db, tenant, limit).await
    }
}
