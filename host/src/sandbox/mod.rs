//! The sandbox: one wasmtime engine, one linker offering exactly the host's imports, the
//! compiled-component cache, and per-call stores built from a plugin's policy.

pub mod budget;
pub mod cache;
mod clock;
mod compile;
pub mod engine;
pub mod precheck;
pub mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

pub use budget::{BudgetExceeded, Call, CallClock, CallFailure, HostWork, Limit, MemoryPool};
pub use cache::{CacheOutcome, ComponentCache};
pub use compile::{CompileError, Compiler, compile_file};
pub use state::PluginState;

use crate::bindings;
use crate::caps::host_api::{HostApi, LogSink, discard_logs};
use crate::caps::script_bridge::ScriptBridge;
use crate::caps::script_bridge::ScriptRunner;
use crate::caps::wasi::FolderError;
use crate::policy::{HostLimits, PluginPolicy};

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

/// Options for building a [`Sandbox`].
pub struct SandboxOptions {
    pub cache: ComponentCache,
    pub logs: LogSink,
    /// Told of long work (compiles) as it starts and ends.
    pub progress: ProgressSink,
    /// Runs Python for the `script-bridge` import; `None` answers `unavailable`.
    pub scripts: Option<Arc<dyn ScriptRunner>>,
    /// Limits of the host as a whole: the memory all live calls share, what a component
    /// may ask of the compiler.
    pub limits: HostLimits,
    /// Where components are compiled (a child process lets the compile deadline kill).
    pub compiler: Compiler,
    /// Runs guests with no fuel and no deadline: only for measuring what metering costs.
    /// Never set this for plugins you do not trust.
    #[doc(hidden)]
    pub unmetered_for_benchmarks: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            cache: ComponentCache::default_location(),
            logs: discard_logs(),
            progress: no_progress(),
            scripts: None,
            limits: HostLimits::default(),
            compiler: Compiler::default(),
            unmetered_for_benchmarks: false,
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot configure the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(std::io::Error),
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    logs: LogSink,
    progress: ProgressSink,
    scripts: Option<Arc<dyn ScriptRunner>>,
    limits: HostLimits,
    compiler: Compiler,
    memory: Arc<MemoryPool>,
    /// Admission of plugin calls (`[host] concurrent_calls`); a script a call runs is
    /// part of its call and takes none.
    calls: Arc<Semaphore>,
    metered: bool,
    _ticker: Option<engine::EpochTicker>,
}

impl Sandbox {
    pub fn new(options: SandboxOptions) -> Result<Arc<Self>, SandboxError> {
        let metered = !options.unmetered_for_benchmarks;
        // Every admitted call may run one script of its own: twice the slots.
        let calls = options.limits.concurrent_calls.max(1);
        let instances = u32::try_from(calls.saturating_mul(2)).unwrap_or(u32::MAX);
        let engine = engine::build_engine(metered, instances).map_err(SandboxError::Engine)?;
        let linker = host_linker(&engine).map_err(SandboxError::Engine)?;
        let ticker = if metered {
            Some(engine::EpochTicker::start(&engine).map_err(SandboxError::Ticker)?)
        } else {
            None
        };
        Ok(Arc::new(Self {
            engine,
            linker,
            cache: options.cache,
            logs: options.logs,
            progress: options.progress,
            scripts: options.scripts,
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

    pub fn linker(&self) -> &Linker<PluginState> {
        &self.linker
    }

    /// The memory all live instances share.
    pub fn memory(&self) -> &MemoryPool {
        &self.memory
    }

    /// Waits for one of the `[host] concurrent_calls` slots; the call holds it as long as
    /// its store lives ([`PluginState::admit`]).
    pub async fn admit(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed.
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

    /// A fresh store for one call (or one streamed response) of a plugin; `rearm` gives it
    /// its budget before each call.
    pub fn new_store(
        self: &Arc<Self>,
        policy: &Arc<PluginPolicy>,
    ) -> Result<Store<PluginState>, StoreError> {
        // Host work for a call (the first compile of the Python runtime) may stop its clock
        // for as long as a compile may take.
        let clock = Arc::new(CallClock::new(self.limits.compile.timeout));
        let scripts = ScriptBridge::new(
            self.scripts.clone(),
            Arc::downgrade(self),
            policy.clone(),
            clock.clone(),
        );
        let state = PluginState::new(
            policy,
            self.logs.clone(),
            scripts,
            self.memory.clone(),
            clock,
        )?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        Ok(store)
    }

    /// Gives `store` a fresh fuel budget and deadline before a call.
    pub fn rearm(
        &self,
        store: &mut Store<PluginState>,
        policy: &PluginPolicy,
    ) -> Result<(), StoreError> {
        if !self.metered {
            store.data().clock.arm(policy.limits.timeout);
            return Ok(());
        }
        budget::rearm(store, &policy.limits).map_err(|source| StoreError::Limits {
            plugin: policy.name.clone(),
            source,
        })
    }
}

/// Why a plugin's store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("cannot set the limits of plugin `{plugin}`: {source:#}")]
    Limits {
        plugin: String,
        source: wasmtime::Error,
    },
}

/// The imports every plugin may link against. Whether a plugin may *use* one (a folder, a
/// host) is decided per instance by its policy, not here: linking everything keeps the
/// linker shared, and an unused import costs nothing.
fn host_linker(engine: &Engine) -> wasmtime::Result<Linker<PluginState>> {
    let mut linker = Linker::<PluginState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    crate::caps::fs_guard::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::provider::wasmhost::plugin::host::add_to_linker::<_, HasSelf<HostApi>>(
        &mut linker,
        |state| &mut state.host,
    )?;
    bindings::tool::wasmhost::plugin::script_bridge::add_to_linker::<_, HasSelf<ScriptBridge>>(
        &mut linker,
        |state| &mut state.scripts,
    )?;
    Ok(linker)
}
