//! The store against real Postgres: the embedded cluster from scratch, and
//! migrations (idempotent, concurrent-safe) on a fresh database.

use quasm_controller::store::{self, embedded::EmbeddedPostgres, migrate};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The machine's Postgres (CI starts one): `QUASM_TEST_DATABASE_URL` or
/// 127.0.0.1:5432 as `postgres`. Each call creates a fresh database.
async fn fresh_database() -> String {
    let admin = std::env::var("QUASM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".into());
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("test Postgres reachable");
    tokio::spawn(conn);
    let name = format!("quasm_test_{}_{}", std::process::id(), rand_suffix());
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    format!("{admin} dbname={name}")
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    h.finish() % 1_000_000_000
}

#[test]
fn migrations_apply_once_and_are_idempotent() {
    rt().block_on(async {
        let url = fresh_database().await;
        let pool = store::pool(&url, 4).unwrap();
        let mut c = pool.get().await.unwrap();
        assert_eq!(migrate::current_version(&c).await.unwrap(), 0);
        let applied = migrate::migrate(&mut c).await.unwrap();
        assert_eq!(applied, all_versions());
        assert!(migrate::migrate(&mut c).await.unwrap().is_empty(), "second run applies nothing");
        assert_eq!(migrate::current_version(&c).await.unwrap(), *all_versions().last().unwrap());
        // The schema is there.
        c.execute("INSERT INTO tenants (id) VALUES ('acme')", &[]).await.unwrap();
        let bad = c.execute("INSERT INTO functions (tenant_id, name) VALUES ('acme', 'Bad Name!')", &[]).await;
        let e = store::StoreError::from(bad.unwrap_err()).to_string();
        assert!(e.contains("violates check constraint") && e.contains("function_name_valid"), "{e}");
    });
}

#[test]
fn concurrent_migrations_apply_each_version_once() {
    let url = rt().block_on(fresh_database());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                rt().block_on(async {
                    let (mut c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                    tokio::spawn(conn);
                    migrate::migrate(&mut c).await.unwrap()
                })
            })
        })
        .collect();
    let applied: Vec<i64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(applied, all_versions(), "exactly one node applied each migration");
}

#[test]
fn a_database_newer_than_this_build_is_refused() {
    rt().block_on(async {
        let url = fresh_database().await;
        let (mut c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        migrate::migrate(&mut c).await.unwrap();
        c.execute("INSERT INTO quasm_schema_migrations (version, name) VALUES (999, 'future')", &[]).await.unwrap();
        let e = migrate::migrate(&mut c).await.unwrap_err();
        assert!(e.to_string().contains("upgrade quasm"), "{e}");
    });
}

#[test]
fn embedded_cluster_starts_from_nothing_and_restarts() {
    let dir = tempfile::Builder::new().prefix("qpg").tempdir_in("/tmp").unwrap();
    let pg = EmbeddedPostgres::start(dir.path()).unwrap();
    let url = pg.url();
    rt().block_on(async {
        let pool = store::pool(&url, 2).unwrap();
        let mut c = pool.get().await.unwrap();
        assert_eq!(migrate::migrate(&mut c).await.unwrap(), all_versions());
    });
    // Starting again over a running cluster is fine; so is a stop + start.
    let again = EmbeddedPostgres::start(dir.path()).unwrap();
    again.stop().unwrap();
    let restarted = EmbeddedPostgres::start(dir.path()).unwrap();
    rt().block_on(async {
        let pool = store::pool(&restarted.url(), 2).unwrap();
        let c = pool.get().await.unwrap();
        assert_eq!(
            migrate::current_version(&c).await.unwrap(),
            *all_versions().last().unwrap(),
            "data survived the restart"
        );
    });
    restarted.stop().unwrap();
    drop(pg);
}

/// Every migration this build knows, in order.
fn all_versions() -> Vec<i64> {
    migrate::MIGRATIONS.iter().map(|m| m.version).collect()
}
