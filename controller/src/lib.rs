//! Quasm's control plane. So far: the Postgres store (migrations and the
//! embedded cluster `quasm serve` manages when no database URL is given) and
//! the blob store for function bundles.
//! Functions, versions, triggers and executions build on it.

pub mod blob;
pub mod store;
