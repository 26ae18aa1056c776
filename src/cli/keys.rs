//! `quasm keys rotate`: adds a new key signing binding tokens. The previous
//! key stays in `/.well-known/jwks.json` (tokens live at most 5 minutes);
//! older ones are removed. Running servers sharing the data directory pick
//! the new key up within seconds.

use std::process::ExitCode;

use quasm_runtime::host::bindings::keys::KeyRing;

use crate::config::Settings;

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Start signing binding tokens with a new key; prints its key id.
    Rotate {
        #[command(flatten)]
        settings: Settings,
    },
}

pub fn keys(args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Rotate { settings } => {
            let s = settings.load()?;
            let kid = KeyRing::rotate(&s.binding_keys_dir())?;
            println!("{kid}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
