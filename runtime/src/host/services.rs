//! Host services the controller provides to functions (`env.KV`, whose
//! trait lives in [`super::kv`], and `env.EVENTS`), behind small traits.
//! Calls are always scoped by the tenant of the invocation, never by
//! anything the function says.

use futures::future::BoxFuture;
use std::sync::Arc;

use parking_lot::Mutex;

use super::kv::{KvStore, MemoryKv};

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
