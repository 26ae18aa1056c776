//! Immutable versions and the deployment pointer. A version's bundle is
//! written to the blob store first; only then is its row inserted, in the
//! transaction that may also make it live. A crash in between leaves an
//! unreferenced blob and no visible half-version.

use std::sync::Arc;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::commit::Notice;
use crate::core::Core;
use crate::error::{ControllerError, Result};
use crate::{validate, Actor};

/// `POST /api/v1/functions/{name}/versions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    pub code: String,
    pub message: Option<String>,
    /// Make the new version live (default true).
    pub deploy: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub number: i32,
    pub content_hash: String,
    pub author: String,
    pub message: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub live: bool,
    /// Present when one version is fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A compiled bundle already in the blob store, ready to be referenced.
pub(crate) struct PreparedVersion {
    pub content_hash: String,
    pub bundle_key: String,
}

/// Test hook: `QUASM_FAILPOINT=after_bundle_put` aborts the process between
/// storing a bundle and committing its version, to prove a crash there
/// leaves no half-version.
fn failpoint(name: &str) {
    if std::env::var("QUASM_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}

fn hash_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Versions: immutable snapshots of a function's code; one is live.
pub struct Versions {
    pub(crate) core: Arc<Core>,
}

impl Versions {
    /// Compiles `code` (syntax errors come back with line and column) and
    /// stores the bundle under its content hash.
    pub(crate) async fn prepare(&self, function: &str, code: &str) -> Result<PreparedVersion> {
        validate::code(code)?;
        let runtime = self.core.runtime.clone();
        let (source, file) = (code.to_owned(), format!("{function}.js"));
        let bytecode = tokio::task::spawn_blocking(move || runtime.compile(&source, &file))
            .await
            .map_err(|e| ControllerError::Internal(format!("compiler task: {e}")))?
            .map_err(|e| match e {
                quasm_runtime::RuntimeError::Compile(c) => ControllerError::Compile(c),
                other => ControllerError::Internal(other.to_string()),
            })?;
        let bundle = Bundle { source: code.to_owned(), bytecode }.encode();
        let bundle_key = crate::blob::content_key("bundles", &bundle);
        self.core.blobs.put(&bundle_key, bundle).await?;
        failpoint("after_bundle_put");
        Ok(PreparedVersion { content_hash: hash_hex(code.as_bytes()), bundle_key })
    }

    pub(crate) async fn insert(
        &self,
        db: &impl GenericClient,
        function_id: i64,
        number: i32,
        v: &PreparedVersion,
        author: &str,
        message: &str,
    ) -> Result<()> {
        if message.len() > 4096 {
            return Err(ControllerError::invalid("message", "at most 4096 bytes"));
        }
        db.execute(
            "INSERT INTO versions (function_id, number, content_hash, bundle_key, guest_hash, author, message)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &function_id,
                &number,
                &v.content_hash,
                &v.bundle_key,
                &quasm_runtime::engine::guest_hash(),
                &author,
                &message,
            ],
        )
        .await?;
        Ok(())
    }

    /// Adds a version; by default it becomes live.
    pub async fn create(&self, actor: &Actor, function: &str, req: CreateVersion) -> Result<Version> {
        // Fail fast on a missing function before compiling.
        // Unknown function: 404 before compiling anything.
        self.core.function_row(&self.core.db().await?, &actor.tenant, function, false).await?;
        let prepared = self.prepare(function, &req.code).await?;
        let deploy = req.deploy.unwrap_or(true);
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        // The row lock serialises version numbering per function.
        let f = self.core.function_row(&tx, &actor.tenant, function, true).await?;
        let next: i32 = tx
            .query_one("SELECT coalesce(max(number), 0) + 1 FROM versions WHERE function_id = $1", &[&f.id])
            .await?
            .get(0);
        self.insert(&tx, f.id, next, &prepared, &actor.subject, req.message.as_deref().unwrap_or("")).await?;
        if deploy {
            tx.execute("UPDATE functions SET live_version = $2, updated_at = now() WHERE id = $1", &[&f.id, &next])
                .await?;
        }
        let details = serde_json::json!({"version": next, "deployed": deploy});
        self.core.commit_change(tx, actor, "version.create", function, details, Notice::Caches).await?;
        // Read back on the same connection (see create_function).
        self.version_on(&db, &actor.tenant, function, next, false).await
    }

    pub async fn list(&self, tenant: &str, function: &str) -> Result<Vec<Version>> {
        let db = self.core.db().await?;
        let f = self.core.function_row(&db, tenant, function, false).await?;
        let rows = db
            .query(
                "SELECT number, content_hash, author, message, created_at FROM versions
                 WHERE function_id = $1 ORDER BY number DESC",
                &[&f.id],
            )
            .await?;
        Ok(rows.iter().map(|r| version_from_row(r, f.function.live_version, None)).collect())
    }

    /// One version; with `with_code`, its source from the blob store.
    pub async fn get(&self, tenant: &str, function: &str, number: i32, with_code: bool) -> Result<Version> {
        let db = self.core.db().await?;
        self.version_on(&db, tenant, function, number, with_code).await
    }

    async fn version_on(
        &self,
        db: &impl GenericClient,
        tenant: &str,
        function: &str,
        number: i32,
        with_code: bool,
    ) -> Result<Version> {
        let f = self.core.function_row(db, tenant, function, false).await?;
        let row = db
            .query_opt(
                "SELECT number, content_hash, author, message, created_at, bundle_key FROM versions
                 WHERE function_id = $1 AND number = $2",
                &[&f.id, &number],
            )
            .await?
            .ok_or_else(|| ControllerError::not_found("version", format!("{function}@{number}")))?;
        let code = if with_code { Some(self.core.load_bundle(row.get(5)).await?.source) } else { None };
        Ok(version_from_row(&row, f.function.live_version, code))
    }

    /// Makes an existing version live (deploy or rollback).
    pub async fn deploy(&self, actor: &Actor, function: &str, number: i32, action: &str) -> Result<Version> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let f = self.core.function_row(&tx, &actor.tenant, function, true).await?;
        let exists = tx
            .query_opt("SELECT 1 FROM versions WHERE function_id = $1 AND number = $2", &[&f.id, &number])
            .await?
            .is_some();
        if !exists {
            return Err(ControllerError::not_found("version", format!("{function}@{number}")));
        }
        tx.execute("UPDATE functions SET live_version = $2, updated_at = now() WHERE id = $1", &[&f.id, &number])
            .await?;
        let details = serde_json::json!({"from": f.function.live_version, "to": number});
        self.core.commit_change(tx, actor, action, function, details, Notice::Caches).await?;
        // Read back on the same connection (see create_function).
        self.version_on(&db, &actor.tenant, function, number, false).await
    }
}

fn version_from_row(r: &tokio_postgres::Row, live: Option<i32>, code: Option<String>) -> Version {
    let number: i32 = r.get(0);
    Version {
        number,
        content_hash: r.get(1),
        author: r.get(2),
        message: r.get(3),
        created_at: r.get(4),
        live: live == Some(number),
        code,
    }
}

impl Core {
    pub(crate) async fn load_bundle(&self, key: &str) -> Result<Bundle> {
        let bytes = self
            .blobs
            .get(key)
            .await?
            .ok_or_else(|| ControllerError::Internal(format!("bundle {key} is missing from the blob store")))?;
        Bundle::decode(&bytes).ok_or_else(|| ControllerError::Internal(format!("bundle {key} is corrupt")))
    }
}
