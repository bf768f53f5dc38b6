//! Everything that can go wrong loading or calling a plugin. Each variant names the plugin
//! (or its file) and, where there is one, what the user can do about it.

use std::path::PathBuf;

use crate::caps::StoreError;
use crate::runtime::BudgetExceeded;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(
        "no plugin named `{name}`: looked for {name}.wasm in {searched}; give a path to a .wasm file or put it in one of those folders"
    )]
    NotFound { name: String, searched: String },

    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a WebAssembly file")]
    NotWasm { path: PathBuf },

    #[error(
        "{path} is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { path: PathBuf },

    #[error("cannot compile plugin {path}: {message}")]
    Compile { path: PathBuf, message: String },

    #[error(
        "{path} is not a wasmhost plugin: it exports [{exports}], and a plugin exports `wasmhost:plugin/tool@VERSION` or `wasmhost:plugin/provider@VERSION` (this host implements {supported})",
        supported = crate::bindings::Contract::supported()
    )]
    NotAPlugin { path: PathBuf, exports: String },

    #[error(
        "{path} exports both the tool and the provider interface; a plugin implements one world"
    )]
    Ambiguous { path: PathBuf },

    #[error(
        "{path} targets wasmhost plugin API {found}, which this host ({host}) does not support: it implements {supported}; {advice}",
        supported = crate::bindings::Contract::supported()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: String,
        host: &'static str,
        advice: String,
    },

    #[error("plugin `{plugin}` needs imports this host does not provide: {message}")]
    Link { plugin: String, message: String },

    #[error("plugin `{plugin}` is a {found} plugin; this needs a {expected} plugin")]
    WrongWorld {
        plugin: String,
        expected: &'static str,
        found: String,
    },

    #[error("plugin `{plugin}` describes its tools badly: {message}")]
    BadTools { plugin: String, message: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("{0}")]
    BudgetExceeded(BudgetExceeded),

    #[error("plugin `{plugin}` crashed: {message}")]
    Trap { plugin: String, message: String },

    /// The instance pool had no room (too many scripts alive at once); nothing ran.
    #[error(
        "plugin `{plugin}` could not start: the host is running as many instances as it can \
         ({message}); try again when other calls end, or lower `concurrent_calls` in [host] of \
         wasmhost.toml"
    )]
    Busy { plugin: String, message: String },

    #[error("plugin `{plugin}` exited with code {code} instead of returning")]
    Exited { plugin: String, code: i32 },
}
