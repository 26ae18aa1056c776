//! The warm pool: per function version, a template (its image: the pages
//! its loading changed, layered over the shared base snapshot) and idle
//! sandboxes ready to run. Sandboxes are keyed by version (which names its
//! tenant), so they are never shared across versions or tenants.
//!
//! What stays resident is bounded, so a node can hold many more functions
//! than it runs at once:
//! - a few idle sandboxes per version, and a bounded number overall, stay
//!   *hot*: reset in place, their pages mapped, so the next call takes no
//!   page faults;
//! - the other idle sandboxes are *parked*: memory and mappings given back,
//!   only the wasmer instance kept (no instantiation on their next call);
//! - versions (templates with their sandboxes) are bounded too, least
//!   recently used first, and dropped after an idle TTL; a dropped version
//!   loads again from bytecode on its next call (a cold start);
//! - a busy version (at least [`FLATTEN_AFTER_CALLS`] fresh calls between
//!   two sweeps) gets its image flattened into one file, up to
//!   `max_flat_versions` of them: its sandboxes then map one file instead of
//!   the base plus each run of the layer, which makes every reset and
//!   instantiation cheaper; the flat image is dropped once the version's
//!   sandboxes are all parked.
//!
//! Checkouts and checkins apply the bounds; a background thread (see
//! [`Pool::spawn_sweeper`]) applies the TTLs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::engine::{Engine, FlatShare, Template};
use crate::error::RuntimeError;
use crate::instance::Instance;

#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Idle sandboxes kept per version.
    pub max_idle_per_version: usize,
    /// Idle sandboxes kept overall (hot and parked).
    pub max_idle_total: usize,
    /// Idle sandboxes per version kept hot (their touched pages stay mapped,
    /// so their next call takes no page faults). Sandboxes are reused last in,
    /// first out, so these serve steady traffic; the rest are parked.
    pub hot_per_version: usize,
    /// Idle sandboxes kept hot overall.
    pub max_hot_total: usize,
    /// Hot sandboxes unused this long are parked.
    pub hot_ttl: Duration,
    /// Versions (templates) kept; the least recently used go first.
    pub max_versions: usize,
    /// Versions unused this long are dropped with their sandboxes.
    pub idle_ttl: Duration,
    /// Busy versions given a flat image (about 2 MiB each).
    pub max_flat_versions: usize,
}

/// Fresh calls between two sweeps (about a second apart) that make a
/// version busy enough for a flat image.
pub const FLATTEN_AFTER_CALLS: u32 = 64;

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_idle_per_version: 16,
            max_idle_total: 2000,
            hot_per_version: 4,
            max_hot_total: 64,
            hot_ttl: Duration::from_secs(1),
            max_versions: 2000,
            idle_ttl: Duration::from_secs(300),
            max_flat_versions: 16,
        }
    }
}

/// An idle sandbox.
struct Idle {
    instance: Instance,
    /// The thread that last ran it.
    thread: ThreadId,
    since: Instant,
    /// Its module state is kept between calls (warm isolation).
    warm: bool,
}

impl Idle {
    fn hot(&self) -> bool {
        !self.instance.parked
    }
}

struct Slot {
    template: Arc<Template>,
    /// Idle sandboxes, least recently used first.
    idle: Vec<Idle>,
    last_used: Instant,
}

impl Slot {
    /// The most recently used hot sandbox that last ran on this thread (its
    /// pages are likely still in this core's caches), else the most recently
    /// used hot one, else a parked one.
    fn take_idle(&mut self) -> Option<Idle> {
        let me = std::thread::current().id();
        let i = self
            .idle
            .iter()
            .rposition(|s| s.hot() && s.thread == me)
            .or_else(|| self.idle.iter().rposition(Idle::hot))
            .or_else(|| self.idle.len().checked_sub(1))?;
        Some(self.idle.remove(i))
    }

    fn hot(&self) -> usize {
        self.idle.iter().filter(|s| s.hot()).count()
    }
}

#[derive(Default)]
struct Inner {
    slots: HashMap<Arc<str>, Slot>,
    idle_total: usize,
    hot_total: usize,
}

impl Inner {
    fn forget(&mut self, slot: &Slot) {
        self.idle_total -= slot.idle.len();
        self.hot_total -= slot.hot();
    }

    fn remove_slot(&mut self, key: &str) {
        if let Some(s) = self.slots.remove(key) {
            self.forget(&s);
        }
    }

    /// Drops the least recently used versions beyond `max`.
    fn evict_versions(&mut self, max: usize) {
        if self.slots.len() <= max {
            return;
        }
        let mut by_age: Vec<(Instant, Arc<str>)> = self.slots.iter().map(|(k, s)| (s.last_used, k.clone())).collect();
        by_age.sort_unstable_by_key(|(t, _)| *t);
        let excess = self.slots.len() - max;
        for (_, k) in by_age.into_iter().take(excess) {
            self.remove_slot(&k);
        }
    }

    /// Drops the idle sandbox unused longest of the least recently used
    /// version that has one.
    fn evict_idle_lru(&mut self) {
        let victim = self
            .slots
            .iter()
            .filter(|(_, s)| !s.idle.is_empty())
            .min_by_key(|(_, s)| s.last_used)
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            if let Some(slot) = self.slots.get_mut(&k) {
                let gone = slot.idle.remove(0);
                self.idle_total -= 1;
                self.hot_total -= usize::from(gone.hot());
            }
        }
    }
}

/// Pool statistics for metrics.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PoolStats {
    pub versions: usize,
    pub idle_instances: usize,
    pub hot_instances: usize,
    /// Versions with a flat image (or one being built).
    pub flat_versions: usize,
}

pub struct Pool {
    inner: Arc<Mutex<Inner>>,
    config: PoolConfig,
    /// Flat images kept or being built.
    flat_budget: Arc<AtomicUsize>,
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
        Self { inner: Arc::new(Mutex::new(Inner::default())), config, flat_budget: Default::default() }
    }

    /// Starts the thread that applies the TTLs ([`Pool::sweep`]) about once
    /// a second until the pool is dropped. A server starts it; without it
    /// the pool stays bounded but nothing expires.
    pub fn spawn_sweeper(&self) {
        let inner = Arc::downgrade(&self.inner);
        let config = self.config.clone();
        let tick = config.hot_ttl.min(config.idle_ttl).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let spawned = std::thread::Builder::new().name("quasm-pool-sweeper".into()).spawn(move || loop {
            std::thread::sleep(tick);
            let Some(inner) = Weak::upgrade(&inner) else { return };
            sweep(&mut inner.lock(), &config);
        });
        if let Err(e) = spawned {
            tracing::warn!("no pool sweeper thread ({e}): idle sandboxes stay bounded but never expire");
        }
    }

    /// Applies the TTLs once: drops versions idle for `idle_ttl`, parks hot
    /// sandboxes idle for `hot_ttl`.
    pub fn sweep(&self) {
        sweep(&mut self.inner.lock(), &self.config);
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
            if let Some(idle) = hit {
                inner.idle_total -= 1;
                inner.hot_total -= usize::from(idle.hot());
                drop(inner);
                let mut instance = idle.instance;
                let t = template.clone().expect("a hit has a template");
                // A sandbox that cannot map its image again is dropped; a
                // new one is made below.
                if !instance.parked || instance.unpark().is_ok() {
                    return Ok(Lease { key: key.clone(), instance, template: t, cold: false });
                }
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
            inner.forget(&old);
        }
        inner.evict_versions(self.config.max_versions);
        Ok(Lease { key: key.clone(), instance, template, cold: true })
    }

    /// Returns a sandbox. `fresh` resets it to the version's snapshot (the
    /// default isolation); poisoned sandboxes are dropped. It stays hot if
    /// the version and the pool have room for one more, else it is parked
    /// (a warm sandbox then loses its state, as a recycled Lambda would).
    pub fn checkin(&self, lease: Lease, fresh: bool) {
        let Lease { key, mut instance, template, .. } = lease;
        if instance.poisoned {
            return;
        }
        let hot = {
            let inner = self.inner.lock();
            match inner.slots.get(&key) {
                // A sandbox of a replaced template (limits changed) is not reused.
                Some(slot) if Arc::ptr_eq(&slot.template, &template) => {
                    slot.hot() < self.config.hot_per_version && inner.hot_total < self.config.max_hot_total
                }
                _ => return,
            }
        };
        let r = if !hot {
            // Parked on the version's layered image (never the flat one, so
            // parked sandboxes do not keep a dropped flat image alive): a
            // first sandbox still on the base image is dropped if that is
            // not built yet.
            match template.try_snapshot() {
                Some(image) => instance.park(image),
                None => return,
            }
        } else if !fresh {
            // Warm sandboxes keep their state (a first sandbox stays on the
            // base image until it is reset or parked).
            Ok(())
        } else {
            let calls = template.recent_calls.fetch_add(1, Ordering::Relaxed) + 1;
            if calls == FLATTEN_AFTER_CALLS {
                if let Some(share) = FlatShare::take(&self.flat_budget, self.config.max_flat_versions) {
                    template.flatten_in_background(share);
                }
            }
            let image = template.best_image();
            if instance.behind(image.as_ref()) {
                // The first sandbox of a new version ran on the base image
                // plus its own changes, or the version's image changed
                // (flattened, or back to layered): resetting moves it onto
                // the current one, or drops it if none is built yet.
                match image {
                    Some(image) => instance.adopt_snapshot(image),
                    None => return,
                }
            } else {
                instance.reset()
            }
        };
        if r.is_err() {
            return;
        }
        let mut inner = self.inner.lock();
        let total = inner.idle_total;
        let Some(slot) = inner.slots.get_mut(&key) else { return };
        if slot.idle.len() >= self.config.max_idle_per_version || !Arc::ptr_eq(&slot.template, &template) {
            return;
        }
        slot.idle.push(Idle { instance, thread: std::thread::current().id(), since: Instant::now(), warm: !fresh });
        slot.last_used = Instant::now();
        inner.idle_total += 1;
        inner.hot_total += usize::from(hot);
        if total + 1 > self.config.max_idle_total {
            inner.evict_idle_lru();
        }
    }

    /// Drops versions (templates and sandboxes) idle for longer than the
    /// TTL. Returns how many sandboxes were dropped.
    pub fn evict_idle(&self) -> usize {
        evict_expired(&mut self.inner.lock(), self.config.idle_ttl)
    }

    /// Forgets a version (e.g. after its function was deleted).
    pub fn remove(&self, key: &str) {
        self.inner.lock().remove_slot(key);
    }

    pub fn stats(&self) -> PoolStats {
        let inner = self.inner.lock();
        PoolStats {
            versions: inner.slots.len(),
            idle_instances: inner.idle_total,
            hot_instances: inner.hot_total,
            flat_versions: self.flat_budget.load(Ordering::Relaxed),
        }
    }
}

fn evict_expired(inner: &mut Inner, ttl: Duration) -> usize {
    let now = Instant::now();
    let expired: Vec<Arc<str>> =
        inner.slots.iter().filter(|(_, s)| now.duration_since(s.last_used) >= ttl).map(|(k, _)| k.clone()).collect();
    let mut dropped = 0;
    for k in expired {
        dropped += inner.slots.get(&k).map_or(0, |s| s.idle.len());
        inner.remove_slot(&k);
    }
    dropped
}

/// Parks hot sandboxes of fresh isolation unused for `ttl`: traffic that
/// moved on leaves room for the versions that are busy now. (Warm ones keep
/// their state until their version is dropped.)
fn park_cold(inner: &mut Inner, ttl: Duration) {
    let now = Instant::now();
    let (mut parked, mut dropped) = (0, 0);
    for slot in inner.slots.values_mut() {
        let image = slot.template.try_snapshot();
        let before = slot.idle.len();
        slot.idle.retain_mut(|s| {
            if !s.hot() || s.warm || now.duration_since(s.since) < ttl {
                return true;
            }
            // Without the version's image, or if parking fails, the sandbox
            // is dropped.
            parked += 1;
            image.clone().is_some_and(|image| s.instance.park(image).is_ok())
        });
        dropped += before - slot.idle.len();
    }
    inner.idle_total -= dropped;
    inner.hot_total -= parked;
}

/// Starts a new count of each version's fresh calls, and drops the flat
/// images of versions no longer busy (every sandbox parked, unused for
/// `ttl`): the budget goes to the versions busy now.
fn demote_flat(inner: &mut Inner, ttl: Duration) {
    let now = Instant::now();
    for slot in inner.slots.values() {
        slot.template.recent_calls.store(0, Ordering::Relaxed);
        if slot.hot() == 0 && now.duration_since(slot.last_used) >= ttl {
            slot.template.drop_flat();
        }
    }
}

fn sweep(inner: &mut Inner, config: &PoolConfig) {
    evict_expired(inner, config.idle_ttl);
    park_cold(inner, config.hot_ttl);
    demote_flat(inner, config.hot_ttl);
}
