//! Host services the controller provides to functions (`env.KV`,
//! `env.EVENTS`), behind small traits. Calls are always scoped by the tenant
//! of the invocation, never by anything the function says.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One page of `env.KV.list()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvPage {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

/// Tenant-scoped key-value storage behind `env.KV`.
pub trait KvStore: Send + Sync {
    fn get(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, String>>;
    fn put(
        &self,
        tenant: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), String>>;
    fn delete(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<(), String>>;
    fn list(
        &self,
        tenant: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> BoxFuture<'static, Result<KvPage, String>>;
}

/// Publishes tenant events for `env.EVENTS.publish`; returns the event id.
pub trait EventPublisher: Send + Sync {
    fn publish(
        &self,
        tenant: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, Result<String, String>>;
}

/// The services one invocation may use.
#[derive(Clone)]
pub struct Services {
    pub kv: Arc<dyn KvStore>,
    pub events: Arc<dyn EventPublisher>,
}

impl Default for Services {
    fn default() -> Self {
        Self { kv: Arc::new(MemoryKv::default()), events: Arc::new(MemoryEvents::default()) }
    }
}

/// In-process KV: for `quasm run`, tests and single-node experiments.
/// (tenant, key) -> (value, expiry).
type KvMap = BTreeMap<(String, String), (Vec<u8>, Option<Instant>)>;

#[derive(Default)]
pub struct MemoryKv {
    map: Arc<Mutex<KvMap>>,
}

impl KvStore for MemoryKv {
    fn get(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, String>> {
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
    ) -> BoxFuture<'static, Result<(), String>> {
        let exp = ttl.map(|t| Instant::now() + t);
        self.map.lock().insert((tenant.to_owned(), key.to_owned()), (value, exp));
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, tenant: &str, key: &str) -> BoxFuture<'static, Result<(), String>> {
        self.map.lock().remove(&(tenant.to_owned(), key.to_owned()));
        Box::pin(async { Ok(()) })
    }

    fn list(
        &self,
        tenant: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> BoxFuture<'static, Result<KvPage, String>> {
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

/// A published event, as recorded by [`MemoryEvents`].
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedEvent {
    pub id: String,
    pub tenant: String,
    pub event_type: String,
    pub payload: serde_json::Value,
}

/// Records published events in memory.
#[derive(Default, Clone)]
pub struct MemoryEvents {
    pub published: Arc<Mutex<Vec<PublishedEvent>>>,
}

impl EventPublisher for MemoryEvents {
    fn publish(
        &self,
        tenant: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, Result<String, String>> {
        let mut list = self.published.lock();
        let id = format!("evt_{}", list.len() + 1);
        list.push(PublishedEvent {
            id: id.clone(),
            tenant: tenant.to_owned(),
            event_type: event_type.to_owned(),
            payload,
        });
        Box::pin(async move { Ok(id) })
    }
}
