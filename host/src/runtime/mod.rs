//! The runtime: one wasmtime engine with its pooling allocator and epoch ticker, the
//! compiled-component cache and the compile limits, the memory all live calls share, the
//! admission of calls, and the per-call budget. It knows no capability: stores hold
//! whatever data the layer above gives them, as long as it implements [`CallData`].

pub mod budget;
pub mod cache;
mod clock;
mod compile;
pub mod engine;
mod memory;
pub mod precheck;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::Component;
use wasmtime::{Engine, Store};

pub use budget::{
    BudgetExceeded, Call, CallFailure, Limit, LimiterFlags, MemoryLimiter, MemoryPool,
};
pub use cache::{CacheOutcome, ComponentCache};
pub use clock::{CallClock, HostWork};
pub use compile::{CompileError, Compiler, compile_file};

use crate::policy::{HostLimits, Limits};

/// What the runtime needs of a store's data to run calls under a budget: the call's
/// clock, the memory limiter, and a chance for the capabilities to explain a failure in
/// their own terms (a full resource table, a guest's `exit`).
pub trait CallData: Send + 'static {
    /// The wall clock of the call in progress.
    fn clock(&self) -> &Arc<CallClock>;

    fn limiter(&self) -> &MemoryLimiter;

    fn limiter_mut(&mut self) -> &mut MemoryLimiter;

    /// Names a failure the runtime's own limits (fuel, time, stack, memory) did not
    /// explain, or `None` to report it as a trap.
    fn explain(&self, error: &wasmtime::Error, limits: &Limits) -> Option<Explained>;
}

/// A failure a capability recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explained {
    /// The call crossed a limit the capability enforces.
    Limit(Limit),
    /// The guest called `exit` with this code.
    Exited(i32),
}

/// Long host work a frontend may want to show while it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A component is being compiled: it has no valid entry in the compile cache.
    Compiling { what: String, bytes: usize },
    /// ... and is compiled (and cached, where the cache is writable).
    Compiled { what: String, took: Duration },
}

/// Where [`Progress`] goes.
pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A [`ProgressSink`] that shows nothing.
pub fn no_progress() -> ProgressSink {
    Arc::new(|_| {})
}

/// Options for building a [`Runtime`].
pub struct RuntimeOptions {
    pub cache: ComponentCache,
    /// Told of long work (compiles) as it starts and ends.
    pub progress: ProgressSink,
    /// Limits of the host as a whole: the memory all live calls share, how many run at
    /// once, what a component may ask of the compiler.
    pub limits: HostLimits,
    /// Where components are compiled (a child process lets the compile deadline kill).
    pub compiler: Compiler,
    /// Runs guests with no fuel and no deadline: only for measuring what metering costs.
    /// Never set this for plugins you do not trust.
    #[doc(hidden)]
    pub unmetered_for_benchmarks: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            cache: ComponentCache::default_location(),
            progress: no_progress(),
            limits: HostLimits::default(),
            compiler: Compiler::default(),
            unmetered_for_benchmarks: false,
        }
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot configure the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(std::io::Error),
}

pub struct Runtime {
    engine: Engine,
    cache: ComponentCache,
    progress: ProgressSink,
    limits: HostLimits,
    compiler: Compiler,
    memory: Arc<MemoryPool>,
    /// Admission of plugin calls (`[host] concurrent_calls`); a script a call runs is
    /// part of its call and takes none.
    calls: Arc<Semaphore>,
    metered: bool,
    _ticker: Option<engine::EpochTicker>,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Result<Arc<Self>, RuntimeError> {
        let metered = !options.unmetered_for_benchmarks;
        // Every admitted call may run one script of its own: twice the slots.
        let calls = options.limits.concurrent_calls.max(1);
        let instances = u32::try_from(calls.saturating_mul(2)).unwrap_or(u32::MAX);
        let engine = engine::build_engine(metered, instances).map_err(RuntimeError::Engine)?;
        let ticker = if metered {
            Some(engine::EpochTicker::start(&engine).map_err(RuntimeError::Ticker)?)
        } else {
            None
        };
        Ok(Arc::new(Self {
            engine,
            cache: options.cache,
            progress: options.progress,
            memory: Arc::new(MemoryPool::new(options.limits.total_memory_bytes)),
            calls: Arc::new(Semaphore::new(calls)),
            limits: options.limits,
            compiler: options.compiler,
            metered,
            _ticker: ticker,
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &HostLimits {
        &self.limits
    }

    /// The memory all live instances share.
    pub fn memory(&self) -> &Arc<MemoryPool> {
        &self.memory
    }

    /// Waits for one of the `[host] concurrent_calls` slots; the call keeps it as long as
    /// it holds the permit (its store does).
    pub async fn admit(&self) -> OwnedSemaphorePermit {
        match self.calls.clone().acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("the call semaphore is never closed"),
        }
    }

    /// Plugin calls alive now.
    pub fn calls_in_flight(&self) -> usize {
        self.limits.concurrent_calls.max(1) - self.calls.available_permits()
    }

    /// Loads `wasm` from the cache, or compiles it: only if it passes the compile limits
    /// (`[host.compile]`: its size and the shapes of its code), and within their deadline.
    /// `what` names it in the [`Progress`] a compile reports ("plugin `openai`").
    pub fn compile(
        &self,
        wasm: &[u8],
        what: &str,
    ) -> Result<(Component, CacheOutcome), CompileError> {
        let limits = self.limits.compile;
        self.cache.load(&self.engine, wasm, |wasm| {
            (self.progress)(&Progress::Compiling {
                what: what.to_string(),
                bytes: wasm.len(),
            });
            let started = Instant::now();
            let artifact =
                compile::guarded(&self.engine, self.metered, &self.compiler, wasm, &limits)?;
            (self.progress)(&Progress::Compiled {
                what: what.to_string(),
                took: started.elapsed(),
            });
            Ok(artifact)
        })
    }

    /// A store for `data`, its memory growth refused past the data's limiter.
    pub fn store<S: CallData>(&self, data: S) -> Store<S> {
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| data.limiter_mut());
        store
    }

    /// Gives `store` a fresh fuel budget and deadline before a call.
    pub fn rearm<S: CallData>(
        &self,
        store: &mut Store<S>,
        limits: &Limits,
    ) -> wasmtime::Result<()> {
        if !self.metered {
            store.data().clock().arm(limits.timeout);
            return Ok(());
        }
        budget::rearm(store, limits)
    }
}
