//! One module per capability a plugin can be given. Each capability is a type that
//! implements [`Capability`]: it prepares its per-instance state from the plugin's policy
//! and links its own imports. The store data ([`PluginState`]) is the runtime's share
//! (clock, memory limiter, captured output, denials) plus the set of capabilities listed
//! once, in [`capabilities!`] below.
//!
//! Phases, as in Spin's factors: the host-wide [`Services`] are configured once, each
//! capability is *prepared* per instance ([`Capability::prepare`]), and every capability
//! is *linked* once into a sandbox's linker ([`add_to_linker`]), which all the plugins of
//! that sandbox share. Whether a plugin may *use*
//! what is linked (a folder, a host) is decided by its prepared state, not by the linker.

pub mod fs_guard;
pub mod host_api;
pub mod http;
pub mod script_bridge;
mod state;
pub mod wasi;

use std::sync::{Arc, Mutex};

use wasmtime::component::Linker;

use crate::policy::{Denial, PluginPolicy};
use crate::runtime::{CallClock, MemoryPool};
pub use state::{PluginState, StoreError};

/// A capability: per-instance state built from the plugin's policy, and the imports that
/// serve it.
pub trait Capability: Sized + Send + 'static {
    /// This instance's state, from its policy and the host's services.
    fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError>;

    /// Links this capability's imports (once, into the linker every plugin shares).
    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()>;
}

/// What a capability may use to prepare one instance's state.
pub struct Prepare<'a> {
    pub policy: &'a Arc<PluginPolicy>,
    pub services: &'a Services,
    /// Where it records what it refuses the instance.
    pub denials: &'a Denials,
    /// Where the instance's stdout and stderr go.
    pub output: &'a wasi::CapturedOutput,
    /// The call's clock, for capabilities that do host work on the call's behalf.
    pub clock: &'a Arc<CallClock>,
}

/// What the host gives every instance's capabilities: configured once.
#[derive(Clone)]
pub struct Services {
    /// Where plugin log lines go.
    pub logs: host_api::LogSink,
    /// Runs Python for the `script-bridge` import; `None` answers `unavailable`.
    pub scripts: Option<Arc<dyn script_bridge::ScriptRunner>>,
    /// The memory all live instances share.
    pub memory: Arc<MemoryPool>,
}

/// Declares the set of capabilities: the fields of [`Capabilities`], how each is
/// prepared, and the order they are linked in (a capability that redefines another's
/// functions, like `fs_guard` over `wasi`, comes after it).
macro_rules! capabilities {
    ($($field:ident: $kind:ty),* $(,)?) => {
        /// The state of every capability of one instance.
        pub struct Capabilities {
            $(pub $field: $kind,)*
        }

        impl Capabilities {
            fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError> {
                Ok(Self {
                    $($field: <$kind as Capability>::prepare(instance)?,)*
                })
            }
        }

        /// Links every capability's imports into `linker`.
        pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
            $(<$kind as Capability>::add_to_linker(linker)?;)*
            Ok(())
        }
    };
}

capabilities! {
    wasi: wasi::Wasi,
    fs_guard: fs_guard::FsGuard,
    http: http::Http,
    host: host_api::HostApi,
    scripts: script_bridge::ScriptBridge,
}

/// What an instance was refused, shared by the capabilities that refuse things: the guest
/// sees only "denied" or "not permitted", the host explains which grant was missing.
#[derive(Debug, Clone, Default)]
pub struct Denials(Arc<Mutex<Vec<Denial>>>);

impl Denials {
    pub fn push(&self, denial: Denial) {
        if let Ok(mut list) = self.0.lock() {
            // A guest that retries a refused call in a loop gets one line per kind.
            if !list.contains(&denial) && list.len() < MAX_DENIALS_KEPT {
                list.push(denial);
            }
        }
    }

    /// The refusals since the last take.
    pub fn take(&self) -> Vec<Denial> {
        self.0
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }
}

/// Distinct refusals kept per call; a guest can ask a million times.
const MAX_DENIALS_KEPT: usize = 16;
