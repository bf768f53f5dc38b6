//! Host bindings of the plugin contract: one `bindgen!` site per contract version, each in
//! a module named for it, and the re-exports below that the rest of the host uses, so that
//! nothing outside this module names a version. A second version adds its module here,
//! and its adapters to the newest types (Zed's `since_vX` pattern); the rest of the host
//! keeps naming only the re-exports.
//!
//! Both worlds share the `host` and `llm-types` interfaces: they are generated with the
//! provider world and reused by the tool world, so the host implements each once.

/// `wasmhost:plugin@0.1.0` (`wit/v0.1.0`), the newest.
pub mod v0_1_0 {
    /// `wasmhost:plugin@0.1.0`, world `provider-plugin`.
    pub mod provider {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1.0",
            world: "provider-plugin",
            exports: { default: async },
            require_store_data_send: true,
            with: {
                "wasi:http": wasmtime_wasi_http::p2::bindings::http,
                "wasi:io": wasmtime_wasi::p2::bindings::io,
                "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            },
        });
    }

    /// `wasmhost:plugin@0.1.0`, world `tool-plugin`.
    pub mod tool {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1.0",
            world: "tool-plugin",
            imports: { "wasmhost:plugin/script-bridge.run-python": async },
            exports: { default: async },
            require_store_data_send: true,
            with: {
                "wasmhost:plugin/host": super::provider::wasmhost::plugin::host,
                "wasmhost:plugin/llm-types": super::provider::wasmhost::plugin::llm_types,
            },
        });
    }
}

// The newest contract, as the host names it.
pub use v0_1_0::provider::wasmhost::plugin::host::LogLevel;
pub use v0_1_0::provider::wasmhost::plugin::llm_types;
pub use v0_1_0::tool::wasmhost::plugin::script_bridge;
pub use v0_1_0::{provider, tool};
