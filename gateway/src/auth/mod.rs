//! Authentication for the gateway: who is calling, for which tenant, with
//! which role.
//!
//! - [`bearer`] takes the token out of an `Authorization` header value;
//! - [`JwtVerifier`] checks it against the configured keys (HS256 secret, PEM
//!   public keys, a JWKS file) and returns a [`Principal`];
//! - [`Principal::has`] / [`Principal::require`] answer "may it do this?"
//!   using the ordered [`Role`]s;
//! - [`JwtSigner`] and [`load_or_create_hs256_secret`] back the embedded
//!   default key that `quasm token create` signs with.
//!
//! Token claims: `sub` (required), `tenant` (required, a tenant id),
//! `roles` (array of role names) and/or `role` (one name), `exp` (required),
//! `nbf`, `iat`, `iss` and `aud` (checked when configured).

mod bearer;
mod claims;
mod error;
mod keyfile;
mod keys;
mod role;
mod sign;
mod verify;

pub use bearer::bearer;
pub use claims::is_valid_tenant_id;
pub use error::AuthError;
pub use keyfile::{load_or_create_hs256_secret, HS256_KEY_FILE};
pub use role::{ParseRoleError, Principal, Role};
pub use sign::JwtSigner;
pub use verify::{JwtConfig, JwtVerifier, MAX_LEEWAY_SECS};
