//! The sandbox: a [`Runtime`] with the capabilities linked, making one store per call
//! from a plugin's policy. Every plugin call and every sandboxed script runs in one.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::Linker;

use crate::caps::host_api::{LogSink, discard_logs};
use crate::caps::script_bridge::ScriptRunner;
use crate::caps::{PluginState, Services, StoreError};
use crate::policy::{HostLimits, PluginPolicy};
use crate::runtime::{
    CacheOutcome, CallClock, CompileError, Compiler, ComponentCache, ProgressSink, Runtime,
    RuntimeError, RuntimeOptions, no_progress,
};

/// Options for building a [`Sandbox`] and the [`Runtime`] under it.
pub struct SandboxOptions {
    pub cache: ComponentCache,
    pub logs: LogSink,
    /// Told of long work (compiles) as it starts and ends.
    pub progress: ProgressSink,
    /// Runs Python for the `script-bridge` import; `None` answers `unavailable`.
    /// (`scripts::python_sandbox` builds a sandbox whose runner is the sandboxed CPython.)
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

impl SandboxOptions {
    /// The runtime's part of the options, and the rest.
    pub fn split(self) -> (RuntimeOptions, LogSink, Option<Arc<dyn ScriptRunner>>) {
        let runtime = RuntimeOptions {
            cache: self.cache,
            progress: self.progress,
            limits: self.limits,
            compiler: self.compiler,
            unmetered_for_benchmarks: self.unmetered_for_benchmarks,
        };
        (runtime, self.logs, self.scripts)
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("cannot link the host's imports: {0:#}")]
    Link(wasmtime::Error),
}

pub struct Sandbox {
    runtime: Arc<Runtime>,
    linker: Linker<PluginState>,
    services: Services,
}

impl Sandbox {
    /// A sandbox on a runtime of its own.
    pub fn new(options: SandboxOptions) -> Result<Arc<Self>, SandboxError> {
        let (runtime, logs, scripts) = options.split();
        Self::on(Runtime::new(runtime)?, logs, scripts)
    }

    /// A sandbox on `runtime`, which it may share with others (the sandboxed Python's).
    pub fn on(
        runtime: Arc<Runtime>,
        logs: LogSink,
        scripts: Option<Arc<dyn ScriptRunner>>,
    ) -> Result<Arc<Self>, SandboxError> {
        let mut linker = Linker::<PluginState>::new(runtime.engine());
        crate::caps::add_to_linker(&mut linker).map_err(SandboxError::Link)?;
        let services = Services {
            logs,
            scripts,
            memory: runtime.memory().clone(),
        };
        Ok(Arc::new(Self {
            runtime,
            linker,
            services,
        }))
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    pub fn engine(&self) -> &wasmtime::Engine {
        self.runtime.engine()
    }

    pub fn linker(&self) -> &Linker<PluginState> {
        &self.linker
    }

    /// Where plugin log lines go.
    pub fn logs(&self) -> &LogSink {
        &self.services.logs
    }

    /// See [`Runtime::compile`].
    pub fn compile(
        &self,
        wasm: &[u8],
        what: &str,
    ) -> Result<(wasmtime::component::Component, CacheOutcome), CompileError> {
        self.runtime.compile(wasm, what)
    }

    /// A fresh store for one call (or one streamed response) of a plugin; `rearm` gives it
    /// its budget before each call.
    pub fn new_store(&self, policy: &Arc<PluginPolicy>) -> Result<Store<PluginState>, StoreError> {
        // Host work for a call (the first compile of the Python runtime) may stop its clock
        // for as long as a compile may take.
        let clock = Arc::new(CallClock::new(self.runtime.limits().compile.timeout));
        let state = PluginState::new(policy, &self.services, clock)?;
        Ok(self.runtime.store(state))
    }

    /// Gives `store` a fresh fuel budget and deadline before a call.
    pub fn rearm(
        &self,
        store: &mut Store<PluginState>,
        policy: &PluginPolicy,
    ) -> Result<(), StoreError> {
        self.runtime
            .rearm(store, &policy.limits)
            .map_err(|source| StoreError::Limits {
                plugin: policy.name.clone(),
                source,
            })
    }
}
