//! Host bindings of the plugin contract: one `bindgen!` site per contract version, each in
//! a module named for it, and the re-exports below that the rest of the host uses, so that
//! nothing outside this module names a version. A second version adds its module here,
//! and its adapters to the newest types (Zed's `since_vX` pattern); the rest of the host
//! keeps naming only the re-exports.
//!
//! Both worlds share the `host` and `llm-types` interfaces: they are generated with the
//! provider world and reused by the tool world, so the host implements each once.

pub mod v0_1_0;
pub mod v0_2_0;

use std::fmt;

/// A contract version this host implements, by its `major.minor` (patch releases of a
/// contract only add documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    V0_1,
    V0_2,
}

impl Contract {
    /// Every version the host implements, oldest first.
    pub const ALL: &'static [Contract] = &[Contract::V0_1, Contract::V0_2];

    /// The version new plugins are built against: the one `plugins/`, the SDK and
    /// `wasmhost new` use, and the one every older version is adapted to.
    pub const NEWEST: Contract = Contract::V0_2;

    pub fn major_minor(self) -> (u64, u64) {
        match self {
            Contract::V0_1 => (0, 1),
            Contract::V0_2 => (0, 2),
        }
    }

    /// The version a plugin built against `major.minor` needs, if the host has it.
    pub fn of(major: u64, minor: u64) -> Option<Contract> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.major_minor() == (major, minor))
    }

    /// Every version, as plugin authors write them: `0.1.x`.
    pub fn supported() -> String {
        Self::ALL
            .iter()
            .map(|c| format!("{c}.x"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor) = self.major_minor();
        write!(f, "{major}.{minor}")
    }
}

/// Store data that serves the newest `host` interface; the older versions are linked to
/// it through their adapters ([`add_older_host_to_linker`]).
pub trait ServesHost: Send + 'static {
    type Api: provider::wasmhost::plugin::host::Host + Send + 'static;
    fn host_api(&mut self) -> &mut Self::Api;
}

/// Store data that serves the newest `script-bridge` interface.
pub trait ServesScripts: Send + 'static {
    type Bridge: script_bridge::Host + Send + 'static;
    fn script_bridge(&mut self) -> &mut Self::Bridge;
}

/// Links every older version of `host` to the newest implementation.
pub fn add_older_host_to_linker<T: ServesHost>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    v0_1_0::adapt::add_host_to_linker(linker)
}

/// Links every older version of `script-bridge` to the newest implementation.
pub fn add_older_script_bridge_to_linker<T: ServesScripts>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    v0_1_0::adapt::add_script_bridge_to_linker(linker)
}

// The newest contract, as the host names it.
pub use v0_2_0::provider::wasmhost::plugin::host::LogLevel;
pub use v0_2_0::provider::wasmhost::plugin::llm_types;
pub use v0_2_0::tool::wasmhost::plugin::script_bridge;
pub use v0_2_0::{provider, tool};
