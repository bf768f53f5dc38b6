//! The wasmtime engine every plugin shares: fuel and epoch interruption on, a pooling
//! allocator so a fresh instance per call is cheap, and a ticker that drives epochs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::policy::MAX_MEMORY_BYTES;

/// How often the epoch advances. 10 ms keeps deadlines within ~1% of their value; a 1 ms
/// ticker drifts and costs more wake-ups.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Function-table slots per table; CPython compiled to WASI needs tens of thousands.
const POOL_TABLE_ELEMENTS: usize = 100_000;

/// Per-instance metadata size ceilings (not linear memory); CPython needs more than the
/// 1 MiB default.
const POOL_INSTANCE_BYTES: usize = 8 << 20;

/// Bytes of a reused memory slot kept mapped between instances: covers a typical Rust
/// guest's stack and heap for one call (more costs a memset on every call).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Builds the shared engine. `metered` turns on fuel and epoch interruption; only
/// benchmarks turn it off, to measure what the metering costs. The pool holds
/// `instances` instances alive at once; each slot only reserves address space.
pub fn build_engine(metered: bool, instances: u32) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(metered);
    config.epoch_interruption(metered);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .total_gc_heaps(instances)
        .max_tables_per_module(4)
        .max_memories_per_module(1)
        .table_elements(POOL_TABLE_ELEMENTS)
        .max_core_instance_size(POOL_INSTANCE_BYTES)
        .max_component_instance_size(POOL_INSTANCE_BYTES)
        .max_memory_size(usize::try_from(MAX_MEMORY_BYTES).unwrap_or(usize::MAX))
        // Keep a few warm slots so a hot plugin reuses its mappings.
        .max_unused_warm_slots(8)
        // Zero the first pages of a freed memory with memset instead of madvise, so the
        // next instance in the slot does not page-fault its way through its heap again.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES / 8);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        // Some systems cap virtual address space (ulimit -v, no overcommit); the pool's
        // reservations then fail. On-demand allocation is slower per instance but works.
        Err(_) => {
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)
        }
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wasmhost-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
