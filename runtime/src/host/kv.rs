//! `env.KV`: the guest-facing operations, their validation, how they run
//! against a [`KvStore`] backend, and their errors.
//!
//! The guest (prelude.js) starts `kv_get`, `kv_put`, `kv_delete` and
//! `kv_list` operations; [`KvOp::parse`] turns one into a checked operation
//! and [`KvOp::run`] performs it, always scoped by the invocation's tenant,
//! never by anything the function says. Backends: Postgres in the
//! controller, [`MemoryKv`] for `quasm run` and tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// The longest key, in bytes (as in Workers KV).
pub const MAX_KEY_BYTES: usize = 512;
/// The most keys one `list()` page returns.
pub const MAX_LIST_LIMIT: usize = 1000;

/// What can go wrong with a KV operation. The messages reach JS developers
/// as is, so they say what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("bad host-call argument: {0}")]
    BadArgument(#[from] serde_json::Error),
    #[error("KV key must not be empty")]
    EmptyKey,
    #[error("KV key is {0} bytes; the maximum is {MAX_KEY_BYTES}")]
    KeyTooLong(usize),
    #[error("KV key must not contain the NUL character (\\u0000)")]
    NulInKey,
    #[error("KV list prefix must not contain the NUL character (\\u0000)")]
    NulInPrefix,
    #[error("expirationTtl must be at least 1 second, got {0}")]
    BadTtl(f64),
    /// The backend failed; `op` is the method (`get`, `put`...). The
    /// backend logs the cause: the function never sees internals.
    #[error("env.KV.{op} failed: storage unavailable")]
    Unavailable { op: &'static str },
}

/// One page of `env.KV.list()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvPage {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

/// Tenant-scoped key-value storage behind `env.KV`. Keys and arguments
/// arrive validated by [`KvOp::parse`].
pub trait KvStore: Send + Sync {
    fn get(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, KvError>>;
    fn put(
        &self,
        tenant: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), KvError>>;
    fn delete(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<(), KvError>>;
    fn list(
        &self,
        tenant: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> BoxFuture<'static, Result<KvPage, KvError>>;
}

/// A checked `env.KV` operation.
#[derive(Debug)]
pub enum KvOp {
    Get { key: String },
    Put { key: String, value: Vec<u8>, ttl: Option<Duration> },
    Delete { key: String },
    List { prefix: String, limit: usize, cursor: Option<String> },
}

/// What a finished operation hands back to the guest: JSON meta and,
/// for `get`, the value's bytes.
pub type KvReply = (Vec<u8>, Option<Vec<u8>>);

impl KvOp {
    /// The operation the guest started as `name` (without its `kv_` prefix)
    /// with JSON `arg` and raw `bytes`; `None` if `name` is no KV operation.
    pub fn parse(name: &[u8], arg: &[u8], bytes: Vec<u8>) -> Option<Result<Self, KvError>> {
        #[derive(Deserialize)]
        struct Key {
            key: String,
        }
        #[derive(Deserialize)]
        struct Put {
            key: String,
            expiration_ttl: Option<f64>,
        }
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            prefix: Option<String>,
            #[serde(default)]
            limit: Option<usize>,
            #[serde(default)]
            cursor: Option<String>,
        }
        let op = || -> Result<Self, KvError> {
            Ok(match name {
                b"get" => Self::Get { key: checked_key(serde_json::from_slice::<Key>(arg)?.key)? },
                b"delete" => Self::Delete { key: checked_key(serde_json::from_slice::<Key>(arg)?.key)? },
                b"put" => {
                    let p: Put = serde_json::from_slice(arg)?;
                    let ttl = match p.expiration_ttl {
                        Some(t) if !(t.is_finite() && t >= 1.0) => return Err(KvError::BadTtl(t)),
                        t => t.map(Duration::from_secs_f64),
                    };
                    Self::Put { key: checked_key(p.key)?, value: bytes, ttl }
                }
                _ => {
                    let l: List = serde_json::from_slice(arg)?;
                    if l.prefix.as_deref().is_some_and(|p| p.contains('\0')) {
                        return Err(KvError::NulInPrefix);
                    }
                    Self::List {
                        prefix: l.prefix.unwrap_or_default(),
                        limit: l.limit.unwrap_or(MAX_LIST_LIMIT).clamp(1, MAX_LIST_LIMIT),
                        cursor: l.cursor,
                    }
                }
            })
        };
        matches!(name, b"get" | b"put" | b"delete" | b"list").then(op)
    }

    /// Performs the operation for `tenant` on `store`.
    pub fn run(self, tenant: &str, store: &Arc<dyn KvStore>) -> BoxFuture<'static, Result<KvReply, KvError>> {
        let json = |v: serde_json::Value| serde_json::to_vec(&v).expect("serialisable");
        match self {
            Self::Get { key } => {
                let f = store.get(tenant, &key);
                Box::pin(async move {
                    Ok(match f.await? {
                        Some(v) => (json(serde_json::json!({"found": true})), Some(v)),
                        None => (json(serde_json::json!({"found": false})), None),
                    })
                })
            }
            Self::Put { key, value, ttl } => {
                let f = store.put(tenant, &key, value, ttl);
                Box::pin(async move { f.await.map(|()| (b"{}".to_vec(), None)) })
            }
            Self::Delete { key } => {
                let f = store.delete(tenant, &key);
                Box::pin(async move { f.await.map(|()| (b"{}".to_vec(), None)) })
            }
            Self::List { prefix, limit, cursor } => {
                let f = store.list(tenant, &prefix, limit, cursor);
                Box::pin(async move {
                    let page = f.await?;
                    let keys: Vec<_> = page.keys.iter().map(|k| serde_json::json!({"name": k})).collect();
                    let meta = serde_json::json!({
                        "keys": keys, "list_complete": page.cursor.is_none(), "cursor": page.cursor,
                    });
                    Ok((json(meta), None))
                })
            }
        }
    }
}

fn checked_key(key: String) -> Result<String, KvError> {
    if key.is_empty() {
        return Err(KvError::EmptyKey);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KvError::KeyTooLong(key.len()));
    }
    if key.contains('\0') {
        return Err(KvError::NulInKey);
    }
    Ok(key)
}

/// In-process KV: for `quasm run`, tests and single-node experiments.
/// (tenant, key) -> (value, expiry).
type KvMap = BTreeMap<(String, String), (Vec<u8>, Option<Instant>)>;

#[derive(Default)]
pub struct MemoryKv {
    map: Arc<Mutex<KvMap>>,
}

impl KvStore for MemoryKv {
    fn get(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, KvError>> {
        let mut map = self.map.lock();
        let k = (tenant.to_owned(), key.to_owned());
        let v = match map.get(&k) {
            Some((_, Some(exp))) if *exp <= Instant::now() => {
                map.remove(&k);
                None
            }
            Some((v, _)) => Some(v.clone()),
            None => None,
        };
        Box::pin(async move { Ok(v) })
    }

    fn put(
        &self,
        tenant: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), KvError>> {
        let exp = ttl.map(|t| Instant::now() + t);
        self.map.lock().insert((tenant.to_owned(), key.to_owned()), (value, exp));
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<(), KvError>> {
        self.map.lock().remove(&(tenant.to_owned(), key.to_owned()));
        Box::pin(async { Ok(()) })
    }

    fn list(
        &self,
        tenant: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> BoxFuture<'static, Result<KvPage, KvError>> {
        let map = self.map.lock();
        let now = Instant::now();
        let start = cursor.unwrap_or_default();
        let mut keys: Vec<String> = map
            .range((tenant.to_owned(), start.clone())..)
            .take_while(|((t, _), _)| t == tenant)
            .filter(|((_, k), (_, exp))| k.starts_with(prefix) && *k > start && exp.is_none_or(|e| e > now))
            .map(|((_, k), _)| k.clone())
            .take(limit + 1)
            .collect();
        let cursor = if keys.len() > limit {
            keys.truncate(limit);
            keys.last().cloned()
        } else {
            None
        };
        Box::pin(async move { Ok(KvPage { keys, cursor }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, arg: &str) -> Result<KvOp, KvError> {
        KvOp::parse(name.as_bytes(), arg.as_bytes(), Vec::new()).expect("a KV operation")
    }

    #[test]
    fn parsing_checks_keys_ttls_and_prefixes() {
        assert!(KvOp::parse(b"fetch", b"{}", Vec::new()).is_none());
        assert!(matches!(parse("get", r#"{"key":""}"#), Err(KvError::EmptyKey)));
        let long = format!(r#"{{"key":"{}"}}"#, "k".repeat(513));
        assert_eq!(parse("delete", &long).unwrap_err().to_string(), "KV key is 513 bytes; the maximum is 512");
        assert!(matches!(parse("put", r#"{"key":"a\u0000b"}"#), Err(KvError::NulInKey)));
        assert!(matches!(parse("put", r#"{"key":"k","expiration_ttl":0.5}"#), Err(KvError::BadTtl(_))));
        assert!(matches!(parse("list", r#"{"prefix":"\u0000"}"#), Err(KvError::NulInPrefix)));
        assert!(matches!(parse("get", "[]"), Err(KvError::BadArgument(_))));
        match parse("list", r#"{"limit":5000}"#).unwrap() {
            KvOp::List { limit, prefix, cursor } => assert_eq!((limit, prefix.as_str(), cursor), (1000, "", None)),
            other => panic!("{other:?}"),
        }
        match parse("put", r#"{"key":"k","expiration_ttl":60}"#).unwrap() {
            KvOp::Put { ttl, .. } => assert_eq!(ttl, Some(Duration::from_secs(60))),
            other => panic!("{other:?}"),
        }
    }
}
