//! WHATWG URL parsing for the guest's `URL` class, done by the `url` crate so
//! the sandbox gets a complete, spec-conformant parser for free.

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Deserialize)]
pub struct ParseArgs {
    pub input: String,
    pub base: Option<String>,
}

#[derive(Deserialize)]
pub struct SetArgs {
    pub href: String,
    pub component: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct Parts {
    href: String,
    origin: String,
    protocol: String,
    username: String,
    password: String,
    host: String,
    hostname: String,
    port: String,
    pathname: String,
    search: String,
    hash: String,
}

fn parts(u: &Url) -> Parts {
    use url::quirks;
    Parts {
        href: quirks::href(u).to_owned(),
        origin: quirks::origin(u),
        protocol: quirks::protocol(u).to_owned(),
        username: quirks::username(u).to_owned(),
        password: quirks::password(u).to_owned(),
        host: quirks::host(u).to_owned(),
        hostname: quirks::hostname(u).to_owned(),
        port: quirks::port(u).to_owned(),
        pathname: quirks::pathname(u).to_owned(),
        search: quirks::search(u).to_owned(),
        hash: quirks::hash(u).to_owned(),
    }
}

pub fn parse(args: ParseArgs) -> Result<Vec<u8>, String> {
    let url = match &args.base {
        Some(b) => {
            let base = Url::parse(b).map_err(|e| format!("Invalid base URL {b:?}: {e}"))?;
            base.join(&args.input)
        }
        None => Url::parse(&args.input),
    }
    .map_err(|e| format!("Invalid URL {:?}: {e}", args.input))?;
    Ok(serde_json::to_vec(&parts(&url)).expect("serialisable"))
}

/// Applies a URL setter with the WHATWG rules (invalid values are ignored,
/// as the standard says, except `href`, which throws).
pub fn set(args: SetArgs) -> Result<Vec<u8>, String> {
    use url::quirks;
    let mut u = Url::parse(&args.href).map_err(|e| format!("Invalid URL {:?}: {e}", args.href))?;
    let v = args.value.as_str();
    match args.component.as_str() {
        "href" => quirks::set_href(&mut u, v).map_err(|e| format!("Invalid URL {v:?}: {e}"))?,
        "protocol" => {
            let _ = quirks::set_protocol(&mut u, v);
        }
        "username" => {
            let _ = quirks::set_username(&mut u, v);
        }
        "password" => {
            let _ = quirks::set_password(&mut u, v);
        }
        "host" => {
            let _ = quirks::set_host(&mut u, v);
        }
        "hostname" => {
            let _ = quirks::set_hostname(&mut u, v);
        }
        "port" => {
            let _ = quirks::set_port(&mut u, v);
        }
        "pathname" => quirks::set_pathname(&mut u, v),
        "search" => quirks::set_search(&mut u, v),
        "hash" => quirks::set_hash(&mut u, v),
        other => return Err(format!("unknown URL component {other:?}")),
    }
    Ok(serde_json::to_vec(&parts(&u)).expect("serialisable"))
}
