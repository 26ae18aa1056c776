//! `quasm migrate`: applies pending schema migrations, to an external
//! database (`--database-url`) or to the embedded cluster under the data
//! directory (created if missing).

use std::path::PathBuf;
use std::process::ExitCode;

use quasm_controller::store::{self, embedded::EmbeddedPostgres, migrate};

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// Postgres to migrate; without it, the embedded cluster under --data-dir.
    #[arg(long, env = "QUASM_DATABASE_URL")]
    database_url: Option<String>,
    /// Where embedded state (Postgres cluster, blobs, keys) lives.
    #[arg(long, env = "QUASM_DATA_DIR", default_value_os_t = super::default_data_dir())]
    data_dir: PathBuf,
}

pub fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let (url, embedded) = match args.database_url {
        Some(url) => (url, None),
        None => {
            let pg = EmbeddedPostgres::start(&args.data_dir.join("postgres"))?;
            (pg.url(), Some(pg))
        }
    };
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let applied = tokio.block_on(async {
        let pool = store::pool(&url, 1)?;
        let mut client = store::connect(&pool).await?;
        let applied = migrate::migrate(&mut client).await?;
        let now = migrate::current_version(&client).await?;
        Ok::<_, store::StoreError>((applied, now))
    });
    if let Some(pg) = embedded {
        pg.stop()?;
    }
    let (applied, now) = applied?;
    if applied.is_empty() {
        println!("schema is up to date (version {now})");
    } else {
        println!("applied migrations {applied:?}; schema is at version {now}");
    }
    Ok(ExitCode::SUCCESS)
}
