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

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    tf_provider::serve("quasm", provider::QuasmProvider::default()).await
}
