//! A tool plugin on the SDK: `hello {name}`, logging each call through the host.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p wasmhost-plugin --example sdk_hello
//! wasmhost call target/wasm32-wasip2/release/examples/sdk_hello.wasm hello '{"name": "Ada"}'
//! ```

// Natively nothing is exported (see the end), so nothing is used either.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use serde::Deserialize;
use wasmhost_plugin::tool::{Guest, LogLevel, ToolError, ToolSpec, log};
use wasmhost_plugin::{Spec, parse_args};

struct Hello;

#[derive(Deserialize)]
struct Args {
    name: String,
}

impl Guest for Hello {
    fn list_tools() -> Vec<ToolSpec> {
        vec![
            Spec::new("hello", "Greet someone.")
                .string("name", "Who to greet.")
                .build(),
        ]
    }

    fn call(name: String, arguments: String) -> Result<String, ToolError> {
        log(LogLevel::Debug, &format!("{name} called"));
        match name.as_str() {
            "hello" => Ok(format!("Hello, {}!", parse_args::<Args>(&arguments)?.name)),
            _ => Err(ToolError::UnknownTool(name)),
        }
    }
}

// Component exports only exist on the component target; natively (`cargo test` builds
// examples) this stays an empty library, because a native linker rejects export names
// like `wasmhost:plugin/tool@0.2.0#call`.
#[cfg(target_arch = "wasm32")]
wasmhost_plugin::tool::export_tool!(Hello);
