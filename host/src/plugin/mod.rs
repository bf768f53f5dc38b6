//! Plugins: finding, validating and instantiating components, and calling them under
//! their policy. `Plugin` is any loaded component; `ToolPlugin` and `ProviderPlugin` are
//! the typed views of the two worlds.

mod adapters;
mod convert;
mod error;
mod handles;
mod locate;
mod provider;
mod stream_guard;
mod tool;
mod world;

use std::path::Path;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::InstancePre;

pub use adapters::{
    Collisions, PREFIX_SEPARATOR, PluginProvider, PluginToolBox, Renamed, ToolBoxError,
};
pub use error::PluginError;
pub use locate::{PluginSource, installed, locate, search_dirs};
pub use provider::{ModelInfo, ProviderInfo, ProviderPlugin};
pub use tool::{MAX_TOOL_NAME_CHARS, ToolError, ToolPlugin, ToolSpec, valid_tool_name};
pub use world::{ApiVersion, BinaryKind, Detected, Shape, World, binary_kind};

use crate::bindings::Contract;
use crate::caps::PluginState;
use crate::policy::PluginPolicy;
use crate::runtime::{CacheOutcome, Call, CallFailure, budget};
use crate::sandbox::Sandbox;

/// A component that passed every load-time check: it is a component, it implements one of
/// our worlds at a supported version, and the host provides all of its imports.
pub struct Plugin {
    pub source: PluginSource,
    pub world: World,
    pub version: ApiVersion,
    /// The contract version the host serves it with.
    pub contract: Contract,
    pub shape: Shape,
    /// Whether the compiled code came from the cache.
    pub cache: CacheOutcome,
    pub policy: Arc<PluginPolicy>,
    sandbox: Arc<Sandbox>,
    pre: InstancePre<PluginState>,
}

impl Plugin {
    /// [`Plugin::load`] off the async worker threads: reading and (on a cache miss)
    /// compiling a component is blocking work of up to the compile deadline.
    pub async fn load_async(
        sandbox: &Arc<Sandbox>,
        source: PluginSource,
        policy: PluginPolicy,
    ) -> Result<Self, PluginError> {
        let sandbox = sandbox.clone();
        let name = source.name.clone();
        tokio::task::spawn_blocking(move || Self::load(&sandbox, source, policy))
            .await
            .unwrap_or_else(|e| {
                Err(PluginError::Trap {
                    plugin: name,
                    message: format!("the host failed while loading it: {e}"),
                })
            })
    }

    pub fn load(
        sandbox: &Arc<Sandbox>,
        source: PluginSource,
        policy: PluginPolicy,
    ) -> Result<Self, PluginError> {
        let path = source.path.clone();
        let wasm = std::fs::read(&path).map_err(|e| PluginError::Read {
            path: path.clone(),
            source: e,
        })?;
        match binary_kind(&wasm) {
            BinaryKind::Component => {}
            BinaryKind::CoreModule => return Err(PluginError::CoreModule { path }),
            BinaryKind::NotWasm => return Err(PluginError::NotWasm { path }),
        }
        let what = format!("plugin `{}`", source.name);
        let (component, cache) =
            sandbox
                .compile(&wasm, &what)
                .map_err(|e| PluginError::Compile {
                    path: path.clone(),
                    message: format!("{e:#}"),
                })?;
        let shape = Shape::of(sandbox.engine(), &component);
        let (world, version, contract) = check_world(&path, &shape)?;
        let pre = sandbox
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Link {
                plugin: source.name.clone(),
                message: format!("{e:#}"),
            })?;
        Ok(Self {
            source,
            world,
            version,
            contract,
            shape,
            cache,
            policy: Arc::new(policy),
            sandbox: sandbox.clone(),
            pre,
        })
    }

    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// Replaces the grants for calls from now on (e.g. once the credential broker has
    /// bound the provider's API host and key).
    pub fn set_policy(&mut self, policy: PluginPolicy) {
        self.policy = Arc::new(policy);
    }

    /// The typed tool view, or a clear error if this is not a tool plugin.
    pub fn into_tool(self) -> Result<ToolPlugin, PluginError> {
        ToolPlugin::new(self)
    }

    /// The typed provider view, or a clear error if this is not a provider plugin.
    pub fn into_provider(self) -> Result<ProviderPlugin, PluginError> {
        ProviderPlugin::new(self)
    }

    fn wrong_world(&self, expected: &'static str) -> PluginError {
        PluginError::WrongWorld {
            plugin: self.name().to_string(),
            expected,
            found: self.world.to_string(),
        }
    }

    /// Runs `call` on a fresh instance's store under the plugin's limits. A fresh store per
    /// call means a trap or a runaway guest never poisons the next call.
    pub(crate) async fn invoke<T: Send + 'static>(
        &self,
        call: Call<PluginState, T>,
    ) -> Result<T, PluginError> {
        let store = self.new_store().await?;
        self.run_on(store, call).await.1
    }

    /// A store for one call, or a session of several on one instance (a streamed
    /// response), once the host admits another call (`[host] concurrent_calls`).
    pub(crate) async fn new_store(&self) -> Result<Store<PluginState>, PluginError> {
        let slot = self.sandbox.runtime().admit().await;
        let mut store = self.sandbox.new_store(&self.policy)?;
        store.data_mut().admit(slot);
        Ok(store)
    }

    /// Runs one call on `store` with a fresh budget; gives the store back unless the call
    /// was stopped at its deadline.
    pub(crate) async fn run_on<T: Send + 'static>(
        &self,
        mut store: Store<PluginState>,
        call: Call<PluginState, T>,
    ) -> (Option<Store<PluginState>>, Result<T, PluginError>) {
        if let Err(e) = self.sandbox.rearm(&mut store, &self.policy) {
            return (Some(store), Err(PluginError::Store(e)));
        }
        let (store, result) = budget::run(store, self.name(), &self.policy.limits, call).await;
        let result = result.map_err(|failure| self.describe(failure, store.as_ref()));
        (store, result)
    }

    fn describe(&self, failure: CallFailure, store: Option<&Store<PluginState>>) -> PluginError {
        let plugin = self.name().to_string();
        let redactor = self.policy.redactor();
        match failure {
            CallFailure::Budget(exceeded) => PluginError::BudgetExceeded(exceeded),
            CallFailure::Exited(code) => PluginError::Exited { plugin, code },
            CallFailure::Trap(error)
                if error
                    .chain()
                    .any(|e| e.is::<wasmtime::PoolConcurrencyLimitError>()) =>
            {
                PluginError::Busy {
                    plugin,
                    message: error.root_cause().to_string(),
                }
            }
            CallFailure::Trap(error) => {
                // The cause first ("wasm trap: unreachable"), then where it happened.
                let mut message = error.root_cause().to_string();
                if let Some(trace) = error.downcast_ref::<wasmtime::WasmBacktrace>() {
                    message = format!("{message}\n{trace}");
                }
                if let Some(store) = store {
                    // What the guest printed before it died is usually the panic message.
                    // The pipe may have cut a secret off at its cap: redact as cut.
                    let stderr = store.data().output.stderr.contents();
                    let stderr = redactor.redact_cut(&String::from_utf8_lossy(&stderr));
                    let tail = last_lines(stderr.trim_end(), 5);
                    if !tail.is_empty() {
                        message = format!("{message}\nplugin stderr:\n{tail}");
                    }
                    for denial in store.data().take_denials() {
                        message = format!("{message}\nbefore it, {denial}");
                    }
                }
                PluginError::Trap {
                    plugin,
                    message: redactor.redact(&message).into_owned(),
                }
            }
        }
    }
}

fn check_world(path: &Path, shape: &Shape) -> Result<(World, ApiVersion, Contract), PluginError> {
    match shape.detect() {
        Detected::Plugin(world, version) if let Some(contract) = version.contract() => {
            Ok((world, version, contract))
        }
        Detected::Plugin(_, version) => Err(PluginError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version.to_string(),
            host: env!("CARGO_PKG_VERSION"),
            advice: if version.is_newer_than_host() {
                "upgrade wasmhost".to_string()
            } else {
                format!(
                    "rebuild the plugin against the {} contract",
                    Contract::NEWEST
                )
            },
        }),
        Detected::BadVersion(found) => Err(PluginError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: if found.is_empty() {
                "(unversioned)".into()
            } else {
                found
            },
            host: env!("CARGO_PKG_VERSION"),
            advice: "rebuild the plugin against the versioned contract in wit/".to_string(),
        }),
        Detected::NotAPlugin => Err(PluginError::NotAPlugin {
            path: path.to_path_buf(),
            exports: shape.exports.join(", "),
        }),
        Detected::Ambiguous(_) => Err(PluginError::Ambiguous {
            path: path.to_path_buf(),
        }),
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
