//! The guest side of wasmhost plugins, for Rust: the bindings of the contract this SDK
//! targets ([`API_VERSION`], `wit/v0.2.0`), a tool-spec builder and JSON argument parsing
//! whose errors read well to a model.
//!
//! A tool plugin (a `cdylib` built with `cargo build --target wasm32-wasip2`):
//!
//! ```no_run
//! use serde::Deserialize;
//! use wasmhost_plugin::tool::{Guest, ToolError, ToolSpec};
//! use wasmhost_plugin::{Spec, parse_args};
//!
//! struct Hello;
//!
//! #[derive(Deserialize)]
//! struct Args {
//!     name: String,
//! }
//!
//! impl Guest for Hello {
//!     fn list_tools() -> Vec<ToolSpec> {
//!         vec![Spec::new("hello", "Greet someone.").string("name", "Who to greet.").build()]
//!     }
//!
//!     fn call(name: String, arguments: String) -> Result<String, ToolError> {
//!         match name.as_str() {
//!             "hello" => Ok(format!("Hello, {}!", parse_args::<Args>(&arguments)?.name)),
//!             _ => Err(ToolError::UnknownTool(name)),
//!         }
//!     }
//! }
//!
//! wasmhost_plugin::tool::export_tool!(Hello);
//! ```
//!
//! A provider implements [`provider::Guest`] and ends with
//! `wasmhost_plugin::provider::export_provider!(MyProvider)`.
//! Each world's bindings are generated once, here; a plugin uses one world.

mod args;
mod spec;

pub use args::parse_args;
pub use spec::Spec;

/// The contract version this SDK is built against; the host reads it from the export
/// names (`wasmhost:plugin/tool@0.2.0`) and refuses versions it does not implement.
pub const API_VERSION: &str = "0.2.0";

/// The `tool-plugin` world: implement [`tool::Guest`], then `tool::export_tool!(YourType)`.
pub mod tool {
    wit_bindgen::generate!({
        world: "tool-plugin",
        path: "../../wit/v0.2.0",
        pub_export_macro: true,
        export_macro_name: "export_tool",
        default_bindings_module: "wasmhost_plugin::tool",
    });

    pub use self::exports::wasmhost::plugin::tool::{Guest, ToolError};
    pub use self::wasmhost::plugin::host::{LogLevel, config_entries, get_config, log};
    pub use self::wasmhost::plugin::llm_types::ToolSpec;
    pub use self::wasmhost::plugin::script_bridge;
}

/// The `provider-plugin` world: implement [`provider::Guest`], then
/// `provider::export_provider!(YourType)`. `wasi` holds the `wasi:http` client bindings.
pub mod provider {
    wit_bindgen::generate!({
        world: "provider-plugin",
        path: "../../wit/v0.2.0",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "export_provider",
        default_bindings_module: "wasmhost_plugin::provider",
    });

    pub use self::exports::wasmhost::plugin::provider::{
        CompletionStream, Guest, GuestCompletionStream,
    };
    pub use self::wasmhost::plugin::host::{LogLevel, config_entries, get_config, log};
    pub use self::wasmhost::plugin::llm_types;
}
