//! The memory a call may use: each instance's own cap across all its memories and tables
//! ([`MemoryLimiter`]), and the pool all live instances share ([`MemoryPool`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use wasmtime::ResourceLimiter;

/// Memory the host lends to all live instances together: each instance's growth is taken
/// from it and given back when the instance is dropped.
#[derive(Debug)]
pub struct MemoryPool {
    max_bytes: u64,
    used: AtomicU64,
}

impl MemoryPool {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            used: AtomicU64::new(0),
        }
    }

    /// Bytes currently lent out.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn take(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|total| *total <= self.max_bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// What the limiter saw, readable after the store is gone (a call stopped at its deadline
/// leaves its store behind).
#[derive(Debug, Default)]
pub struct LimiterFlags {
    /// The instance's own cap refused growth.
    pub memory: AtomicBool,
    /// The host's shared pool refused growth.
    pub host_memory: AtomicBool,
}

/// Refuses memory and table growth past the instance's cap, counted across all its
/// memories and tables (a component can hold several core instances, each with its own
/// memory), and past what the host's [`MemoryPool`] has left; remembers which refused.
/// The guest usually reacts by aborting, and that trap must be reported as the memory
/// limit, not as an unexplained `unreachable`.
pub struct MemoryLimiter {
    max_bytes: u64,
    /// Bytes of all this instance's memories and tables.
    used: u64,
    pool: Arc<MemoryPool>,
    pub(crate) flags: Arc<LimiterFlags>,
}

/// Table elements any one table may have; tables hold function references and CPython
/// needs tens of thousands.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// What one table element costs the host (a function reference).
const TABLE_ELEMENT_BYTES: u64 = 8;

impl MemoryLimiter {
    pub fn new(max_bytes: u64, pool: Arc<MemoryPool>) -> Self {
        Self {
            max_bytes,
            used: 0,
            pool,
            flags: Arc::default(),
        }
    }

    /// Accounts a growth of `delta` bytes, or refuses it and says why.
    fn grow(&mut self, delta: u64) -> bool {
        let within = self
            .used
            .checked_add(delta)
            .is_some_and(|total| total <= self.max_bytes);
        if !within {
            self.flags.memory.store(true, Ordering::Relaxed);
            return false;
        }
        if !self.pool.take(delta) {
            self.flags.host_memory.store(true, Ordering::Relaxed);
            return false;
        }
        self.used += delta;
        true
    }
}

impl MemoryLimiter {
    /// What the shared pool lends at most.
    pub fn pool_max_bytes(&self) -> u64 {
        self.pool.max_bytes()
    }
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        self.pool.give_back(self.used);
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let delta = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
        Ok(self.grow(delta))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.flags.memory.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        let elements = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
        Ok(self.grow(elements.saturating_mul(TABLE_ELEMENT_BYTES)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_tables_of_an_instance_count_together() {
        let pool = Arc::new(MemoryPool::new(1 << 30));
        let mut limiter = MemoryLimiter::new(100 << 20, pool.clone());
        // Three memories of 40 MiB each: the third crosses the instance's 100 MiB.
        assert!(limiter.memory_growing(0, 40 << 20, None).expect("ok"));
        assert!(limiter.memory_growing(0, 40 << 20, None).expect("ok"));
        assert!(!limiter.memory_growing(0, 40 << 20, None).expect("ok"));
        assert!(limiter.flags.memory.load(Ordering::Relaxed));
        // A table counts its elements too, and has its own ceiling.
        assert!(limiter.table_growing(0, 1000, None).expect("ok"));
        assert!(
            !limiter
                .table_growing(0, MAX_TABLE_ELEMENTS + 1, None)
                .expect("ok")
        );
        assert_eq!(pool.used(), (80 << 20) + 1000 * TABLE_ELEMENT_BYTES);
        drop(limiter);
        assert_eq!(pool.used(), 0, "given back when the instance goes");
    }

    #[test]
    fn the_pool_refuses_past_its_ceiling_and_says_so() {
        let pool = Arc::new(MemoryPool::new(64 << 20));
        let mut a = MemoryLimiter::new(256 << 20, pool.clone());
        let mut b = MemoryLimiter::new(256 << 20, pool.clone());
        assert!(a.memory_growing(0, 48 << 20, None).expect("ok"));
        assert!(!b.memory_growing(0, 32 << 20, None).expect("ok"));
        assert!(b.flags.host_memory.load(Ordering::Relaxed));
        assert!(!b.flags.memory.load(Ordering::Relaxed));
        drop(a);
        assert!(
            b.memory_growing(0, 32 << 20, None).expect("ok"),
            "room again"
        );
    }
}
