//! `env.KV` backed by Postgres (table `kv`), so every node sees the same
//! values and they survive restarts. Keys are scoped by the invocation's
//! tenant, never by anything the function says. Expired entries are
//! invisible at once and deleted by the retention task.

use std::time::Duration;

use futures::future::BoxFuture;
use quasm_runtime::{KvError, KvPage, KvStore};

use crate::store::{connect, describe};

pub(crate) struct PostgresKv {
    pub db: deadpool_postgres::Pool,
}

/// What the function sees when storage fails: never internals (logged here).
fn failed(op: &'static str, e: impl std::fmt::Display) -> KvError {
    tracing::warn!("env.KV.{op}: {e}");
    KvError::Unavailable { op }
}

const LIVE: &str = "(expires_at IS NULL OR expires_at > now())";

impl KvStore for PostgresKv {
    fn get(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, KvError>> {
        let (db, tenant, key) = (self.db.clone(), tenant.to_owned(), key.to_owned());
        Box::pin(async move {
            let c = connect(&db).await.map_err(|e| failed("get", e))?;
            let row = c
                .query_opt(
                    &format!("SELECT value FROM kv WHERE tenant_id = $1 AND key = $2 AND {LIVE}"),
                    &[&tenant, &key],
                )
                .await
                .map_err(|e| failed("get", describe(&e)))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn put(
        &self,
        tenant: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), KvError>> {
        let (db, tenant, key) = (self.db.clone(), tenant.to_owned(), key.to_owned());
        let ttl = ttl.map(|t| t.as_secs_f64());
        Box::pin(async move {
            let c = connect(&db).await.map_err(|e| failed("put", e))?;
            c.execute(
                "INSERT INTO kv (tenant_id, key, value, expires_at)
                 VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                 ON CONFLICT (tenant_id, key) DO UPDATE
                 SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, updated_at = now()",
                &[&tenant, &key, &value, &ttl],
            )
            .await
            .map_err(|e| failed("put", describe(&e)))?;
            Ok(())
        })
    }

    fn delete(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<(), KvError>> {
        let (db, tenant, key) = (self.db.clone(), tenant.to_owned(), key.to_owned());
        Box::pin(async move {
            let c = connect(&db).await.map_err(|e| failed("delete", e))?;
            c.execute("DELETE FROM kv WHERE tenant_id = $1 AND key = $2", &[&tenant, &key])
                .await
                .map_err(|e| failed("delete", describe(&e)))?;
            Ok(())
        })
    }

    fn list(
        &self,
        tenant: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> BoxFuture<'static, Result<KvPage, KvError>> {
        let (db, tenant) = (self.db.clone(), tenant.to_owned());
        // LIKE with the prefix's own wildcards escaped.
        let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let after = cursor.unwrap_or_default();
        let fetch = limit as i64 + 1;
        Box::pin(async move {
            let c = connect(&db).await.map_err(|e| failed("list", e))?;
            let rows = c
                .query(
                    &format!(
                        "SELECT key FROM kv WHERE tenant_id = $1 AND key LIKE $2 AND key COLLATE \"C\" > $3 AND {LIVE}
                         ORDER BY key COLLATE \"C\" LIMIT $4"
                    ),
                    &[&tenant, &pattern, &after, &fetch],
                )
                .await
                .map_err(|e| failed("list", describe(&e)))?;
            let mut keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            let cursor = crate::page::next_cursor(&mut keys, limit, String::clone);
            Ok(KvPage { keys, cursor })
        })
    }
}
