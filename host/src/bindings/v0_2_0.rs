//! `wasmhost:plugin@0.2.0` (`wit/v0.2.0`), the newest.

/// `wasmhost:plugin@0.2.0`, world `provider-plugin`.
pub mod provider {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2.0",
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

/// `wasmhost:plugin@0.2.0`, world `tool-plugin`.
pub mod tool {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2.0",
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
