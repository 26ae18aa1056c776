//! `terraform-provider-quasm`: the Terraform provider for Quasm, speaking
//! plugin protocol v6 (via the `tf-provider` crate). Terraform starts it;
//! it is not meant to be run by hand.

mod client;
mod data_sources;
mod json_attr;
mod provider;
mod resources;
mod shared;
mod validate;

fn main() -> anyhow::Result<()> {
    // tf-provider appends a captured backtrace to every diagnostic when
    // backtraces are on (RUST_BACKTRACE=1 in a developer's shell): users
    // would see it under each plan error. Set before any thread exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    // A workspace build unifies rustls's features: both `ring` and
    // `aws-lc-rs` are on, and rustls then refuses to guess a default
    // provider for the plugin's mTLS server. Name one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tf_provider::serve("quasm", provider::QuasmProvider::default()))
}
