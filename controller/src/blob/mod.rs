//! The blob store: function bundles (source, bytecode) under content-hash
//! keys. Backends sit behind [`BlobStore`]: a local directory by default
//! ([`fs::FsBlobStore`]), an S3-compatible bucket in production.

pub mod fs;
pub mod s3;

use futures::future::BoxFuture;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BlobError {
    #[error("invalid blob key {0:?}: use [a-z0-9._-] segments separated by '/'")]
    InvalidKey(String),
    #[error("blob store I/O error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("S3 error on {key}: {message}")]
    S3 { key: String, message: String },
}

/// Stores immutable blobs by key. A `put` is atomic: a reader sees the whole
/// blob or nothing, even if the process dies mid-write.
pub trait BlobStore: Send + Sync {
    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<(), BlobError>>;
    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, BlobError>>;
    fn delete(&self, key: &str) -> BoxFuture<'static, Result<(), BlobError>>;
    /// Where the blobs are, as every node sharing a database must see the
    /// same (`local directory /var/lib/quasm/blobs on host a`, `S3 ...`).
    fn location(&self) -> String;
}

/// The key of `bytes` stored as `kind` (e.g. `bundles`):
/// `kind/sha256/ab/abcdef...`, so equal content is stored once.
pub fn content_key(kind: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    format!("{kind}/sha256/{}/{hex}", &hex[..2])
}

/// Keys are relative paths of simple segments: no `..`, no absolute paths,
/// no hidden or empty segments.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.to_owned()))
    }
}
