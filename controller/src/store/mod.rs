//! Postgres, the source of truth: connection pool, migrations, and the
//! embedded cluster for zero-configuration starts.

pub mod embedded;
pub mod jsonb;
pub mod migrate;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {}", describe(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("database pool error: {0}")]
    Pool(String),
    #[error("migration {version} ({name}) failed: {}", describe(.source))]
    Migration { version: i64, name: &'static str, source: tokio_postgres::Error },
    #[error("the database is at schema version {found}, newer than this quasm knows ({known}); upgrade quasm")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("embedded Postgres: {0}")]
    Embedded(String),
}

/// tokio-postgres displays server errors as a bare "db error"; this adds
/// what Postgres said (message, detail, constraint).
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_owned();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(c) = db.constraint() {
                s.push_str(&format!(" [constraint {c}]"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// Takes a connection from `pool`, with Postgres' own words on failure.
pub async fn connect(pool: &deadpool_postgres::Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Db(e),
        other => StoreError::Pool(other.to_string()),
    })
}

/// A connection pool for `url` (a libpq-style URL or key=value string; a
/// `host=/some/dir` names a unix socket directory).
pub fn pool(url: &str, max_size: usize) -> Result<deadpool_postgres::Pool, StoreError> {
    let pg: tokio_postgres::Config = url.parse().map_err(StoreError::Db)?;
    let mgr = deadpool_postgres::Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast },
    );
    deadpool_postgres::Pool::builder(mgr).max_size(max_size).build().map_err(|e| StoreError::Pool(e.to_string()))
}
