//! One module per capability a plugin can be given. Each builds its per-instance state
//! from the plugin's `PluginPolicy`; the store state (`sandbox::PluginState`) is their sum.

pub mod host_api;
pub mod http;
pub mod script_bridge;
pub mod wasi;
