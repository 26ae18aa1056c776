//! Numbered SQL migrations from `migrations/`, applied at start-up and by
//! `quasm migrate`. Each runs in its own transaction and is recorded in
//! `quasm_schema_migrations`; an advisory lock makes concurrent starts of
//! several nodes apply each migration exactly once. Re-running is a no-op.

use tokio_postgres::Client;

use super::StoreError;

/// One migration: its number, name and SQL.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. New ones are appended, never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../../migrations/0001_init.sql") },
    Migration { version: 2, name: "platform", sql: include_str!("../../../migrations/0002_platform.sql") },
    Migration { version: 3, name: "nodes", sql: include_str!("../../../migrations/0003_nodes.sql") },
    Migration { version: 4, name: "schedules", sql: include_str!("../../../migrations/0004_schedules.sql") },
    Migration { version: 5, name: "events", sql: include_str!("../../../migrations/0005_events.sql") },
    Migration { version: 6, name: "alerts", sql: include_str!("../../../migrations/0006_alerts.sql") },
    Migration { version: 7, name: "kv", sql: include_str!("../../../migrations/0007_kv.sql") },
    Migration { version: 8, name: "crash_requeues", sql: include_str!("../../../migrations/0008_crash_requeues.sql") },
    Migration {
        version: 9,
        name: "route_strip_prefix",
        sql: include_str!("../../../migrations/0009_route_strip_prefix.sql"),
    },
    Migration { version: 10, name: "bindings", sql: include_str!("../../../migrations/0010_bindings.sql") },
    Migration { version: 11, name: "execution_user", sql: include_str!("../../../migrations/0011_execution_user.sql") },
    Migration {
        version: 12,
        name: "compatibility_date",
        sql: include_str!("../../../migrations/0012_compatibility_date.sql"),
    },
    Migration { version: 13, name: "webhooks", sql: include_str!("../../../migrations/0013_webhooks.sql") },
];

/// Arbitrary but fixed: the key of the advisory lock held while migrating.
const LOCK_KEY: i64 = 0x7175_6173_6d00_0001;

/// Applies the pending migrations; returns the versions it applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    let result = apply(client).await;
    // Released even when a migration failed; the session ends soon anyway.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
    result
}

async fn apply(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS quasm_schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
    let current: i64 =
        client.query_one("SELECT COALESCE(MAX(version), 0) FROM quasm_schema_migrations", &[]).await?.get(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::SchemaTooNew { found: current, known });
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = client.transaction().await?;
        let fail = |source| StoreError::Migration { version: m.version, name: m.name, source };
        tx.batch_execute(m.sql).await.map_err(fail)?;
        tx.execute("INSERT INTO quasm_schema_migrations (version, name) VALUES ($1, $2)", &[&m.version, &m.name])
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied.push(m.version);
    }
    Ok(applied)
}

/// The schema version the database is at (0 if never migrated).
pub async fn current_version(client: &Client) -> Result<i64, StoreError> {
    let exists: bool = client.query_one("SELECT to_regclass('quasm_schema_migrations') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client.query_one("SELECT COALESCE(MAX(version), 0) FROM quasm_schema_migrations", &[]).await?.get(0))
}
