//! Host bindings of the Python runner's world (`runtimes/python/runner.wit`). The runner
//! also imports WASI, which the sandbox's linker provides; the world itself declares only
//! its one export.

wasmtime::component::bindgen!({
    path: "../runtimes/python/runner.wit",
    world: "python-runner",
    exports: { default: async },
    require_store_data_send: true,
});
