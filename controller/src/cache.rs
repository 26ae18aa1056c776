//! What the invoke path reads on every call, cached per tenant: each service
//! keeps its own part of a tenant's view (the invoker its deployed
//! functions, routes the route table, alerts the enabled rules), typed by
//! the service and stored here by type, so this module knows none of them.
//! A change to a tenant drops its whole view (see `changes.rs`); the next
//! call reloads each part from Postgres and the blob store.
//!
//! Entries looked up by an id that does not name the tenant (API keys) are
//! kept by id with their tenant, and dropped with it.

use std::any::{Any, TypeId};
use std::sync::Arc;

use dashmap::DashMap;

type Part = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
pub struct TenantView {
    parts: DashMap<TypeId, Part>,
}

impl TenantView {
    /// This view's part of type `T`, created empty on first use.
    pub(crate) fn part<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let key = TypeId::of::<T>();
        let part = match self.parts.get(&key) {
            Some(p) => p.clone(),
            None => self.parts.entry(key).or_insert_with(|| Arc::new(T::default())).clone(),
        };
        part.downcast::<T>().expect("parts are stored under their own type")
    }
}

struct ById {
    tenant: String,
    value: Part,
}

#[derive(Default)]
pub struct Cache {
    tenants: DashMap<String, Arc<TenantView>>,
    by_id: DashMap<(TypeId, String), ById>,
}

impl Cache {
    pub fn tenant(&self, tenant: &str) -> Arc<TenantView> {
        if let Some(v) = self.tenants.get(tenant) {
            return v.clone();
        }
        self.tenants.entry(tenant.to_owned()).or_default().clone()
    }

    /// Drops the view of `tenant`. Loads already under way finish into the
    /// detached view and are never seen again.
    pub fn invalidate(&self, tenant: &str) {
        self.tenants.remove(tenant);
        self.by_id.retain(|_, e| e.tenant != tenant);
    }

    pub fn clear(&self) {
        self.tenants.clear();
        self.by_id.clear();
    }

    /// The `T` cached under `id`.
    pub(crate) fn by_id<T: Send + Sync + 'static>(&self, id: &str) -> Option<Arc<T>> {
        let value = self.by_id.get(&(TypeId::of::<T>(), id.to_owned()))?.value.clone();
        value.downcast::<T>().ok()
    }

    /// Caches `value` under `id` until `tenant` changes.
    pub(crate) fn put_by_id<T: Send + Sync + 'static>(&self, id: &str, tenant: &str, value: Arc<T>) {
        let entry = ById { tenant: tenant.to_owned(), value };
        self.by_id.insert((TypeId::of::<T>(), id.to_owned()), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicU32);

    #[test]
    fn parts_are_per_type_and_dropped_with_their_tenant() {
        let cache = Cache::default();
        cache.tenant("a").part::<Count>().0.store(7, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(cache.tenant("a").part::<Count>().0.load(std::sync::atomic::Ordering::Relaxed), 7);
        assert_eq!(cache.tenant("b").part::<Count>().0.load(std::sync::atomic::Ordering::Relaxed), 0);
        cache.put_by_id("k1", "a", Arc::new(5u8));
        cache.put_by_id("k2", "b", Arc::new(6u8));
        cache.invalidate("a");
        assert_eq!(cache.tenant("a").part::<Count>().0.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(cache.by_id::<u8>("k1").is_none());
        assert_eq!(cache.by_id::<u8>("k2").as_deref(), Some(&6));
        assert!(cache.by_id::<u16>("k2").is_none(), "typed by T");
    }
}
