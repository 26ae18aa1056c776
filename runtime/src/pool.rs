//! The warm pool: per function version, a template (post-load snapshot) and
//! idle sandboxes ready to run. Sandboxes are keyed by version (which names
//! its tenant), so they are never shared across versions or tenants.
//! Bounded per version and overall; the least recently used go first.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::engine::{Engine, Template};
use crate::error::RuntimeError;
use crate::instance::Instance;

#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Idle sandboxes kept per version.
    pub max_idle_per_version: usize,
    /// Idle sandboxes kept overall.
    pub max_idle_total: usize,
    /// Idle sandboxes unused this long are dropped (templates with them).
    pub idle_ttl: Duration,
    /// Idle sandboxes per version kept hot (their touched pages stay mapped,
    /// so their next call takes no page faults). Sandboxes are reused last in,
    /// first out, so these serve steady traffic; the rest give their memory
    /// back when they go idle.
    pub hot_per_version: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { max_idle_per_version: 16, max_idle_total: 2000, idle_ttl: Duration::from_secs(300), hot_per_version: 4 }
    }
}

struct Slot {
    template: Arc<Template>,
    /// Idle sandboxes and the thread that last ran each.
    idle: Vec<(ThreadId, Instance)>,
    last_used: Instant,
}

impl Slot {
    /// The most recently used idle sandbox that last ran on this thread, else
    /// the most recently used one: a sandbox's pages (its private copies and
    /// the image it resets from) are then likely still in this core's caches.
    fn take_idle(&mut self) -> Option<Instance> {
        let me = std::thread::current().id();
        let i = self.idle.iter().rposition(|(t, _)| *t == me).or_else(|| self.idle.len().checked_sub(1))?;
        Some(self.idle.remove(i).1)
    }
}

#[derive(Default)]
struct Inner {
    slots: HashMap<Arc<str>, Slot>,
    idle_total: usize,
}

/// Pool statistics for metrics.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PoolStats {
    pub versions: usize,
    pub idle_instances: usize,
}

pub struct Pool {
    inner: Mutex<Inner>,
    config: PoolConfig,
}

/// A sandbox checked out of the pool.
pub struct Lease {
    pub key: Arc<str>,
    pub instance: Instance,
    /// The template the sandbox belongs to.
    pub template: Arc<Template>,
    /// True when this checkout had to load the version (a cold start).
    pub cold: bool,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        Self { inner: Mutex::new(Inner::default()), config }
    }

    /// Takes an idle sandbox of `key`, or creates one (loading the version
    /// from `bytecode` if it has no template yet).
    pub fn checkout(
        &self,
        engine: &Engine,
        key: &Arc<str>,
        bytecode: &[u8],
        memory_limit_bytes: u64,
    ) -> Result<Lease, RuntimeError> {
        let template = {
            let mut inner = self.inner.lock();
            let mut hit = None;
            let mut template = None;
            if let Some(slot) = inner.slots.get_mut(key) {
                if slot.template.memory_limit_bytes == memory_limit_bytes {
                    slot.last_used = Instant::now();
                    hit = slot.take_idle();
                    template = Some(slot.template.clone());
                }
            }
            if let Some(instance) = hit {
                inner.idle_total -= 1;
                let template = template.expect("a hit has a template");
                return Ok(Lease { key: key.clone(), instance, template, cold: false });
            }
            template
        };
        // Slow paths run outside the lock.
        if let Some(t) = template {
            let instance = engine.instantiate(&t)?;
            return Ok(Lease { key: key.clone(), instance, template: t, cold: false });
        }
        let (template, instance) = engine.prepare(bytecode, memory_limit_bytes)?;
        let mut inner = self.inner.lock();
        let slot = Slot { template: template.clone(), idle: Vec::new(), last_used: Instant::now() };
        if let Some(old) = inner.slots.insert(key.clone(), slot) {
            inner.idle_total -= old.idle.len();
        }
        Ok(Lease { key: key.clone(), instance, template, cold: true })
    }

    /// Returns a sandbox. `fresh` resets it to the version's snapshot (the
    /// default isolation); poisoned sandboxes are dropped.
    pub fn checkin(&self, lease: Lease, fresh: bool) {
        let Lease { key, mut instance, template, .. } = lease;
        if instance.poisoned {
            return;
        }
        let idle_now = {
            let inner = self.inner.lock();
            match inner.slots.get(&key) {
                // A sandbox of a replaced template (limits changed) is not reused.
                Some(slot) if Arc::ptr_eq(&slot.template, &template) => slot.idle.len(),
                _ => return,
            }
        };
        if fresh {
            let image = template.try_snapshot();
            let r = if instance.on_base(image.as_ref()) {
                // The first sandbox of a new version ran on the base image
                // plus its own changes; resetting moves it onto the version's
                // image once that is built, else it is dropped.
                match image {
                    Some(image) => instance.adopt_snapshot(image),
                    None => return,
                }
            } else if idle_now < self.config.hot_per_version {
                instance.reset()
            } else {
                instance.reset_cold()
            };
            if r.is_err() {
                return;
            }
        }
        // Warm sandboxes keep their state (a first sandbox stays on the base
        // image until its first reset).
        let mut inner = self.inner.lock();
        let total = inner.idle_total;
        let Some(slot) = inner.slots.get_mut(&key) else { return };
        if slot.idle.len() >= self.config.max_idle_per_version {
            return;
        }
        slot.idle.push((std::thread::current().id(), instance));
        slot.last_used = Instant::now();
        inner.idle_total += 1;
        if total + 1 > self.config.max_idle_total {
            Self::evict_lru(&mut inner);
        }
    }

    fn evict_lru(inner: &mut Inner) {
        let victim = inner
            .slots
            .iter()
            .filter(|(_, s)| !s.idle.is_empty())
            .min_by_key(|(_, s)| s.last_used)
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            if let Some(slot) = inner.slots.get_mut(&k) {
                // The bottom of the stack: the idle sandbox unused longest.
                slot.idle.remove(0);
                inner.idle_total -= 1;
            }
        }
    }

    /// Drops sandboxes and templates idle for longer than the TTL. Returns
    /// how many sandboxes were dropped.
    pub fn evict_idle(&self) -> usize {
        let now = Instant::now();
        let ttl = self.config.idle_ttl;
        let mut inner = self.inner.lock();
        let mut dropped = 0;
        inner.slots.retain(|_, s| {
            if now.duration_since(s.last_used) >= ttl {
                dropped += s.idle.len();
                false
            } else {
                true
            }
        });
        inner.idle_total -= dropped;
        dropped
    }

    /// Forgets a version (e.g. after its function was deleted).
    pub fn remove(&self, key: &str) {
        let mut inner = self.inner.lock();
        if let Some(s) = inner.slots.remove(key) {
            inner.idle_total -= s.idle.len();
        }
    }

    pub fn stats(&self) -> PoolStats {
        let inner = self.inner.lock();
        PoolStats { versions: inner.slots.len(), idle_instances: inner.idle_total }
    }
}
