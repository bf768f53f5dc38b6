//! A tool plugin built against `wasmhost:plugin@0.3.0`, a contract version this host does
//! not know. It exports `wasmhost:plugin/tool@0.3.0` with one tool, `ok`, so the host's
//! version check (not a failed link) must be what turns it away.
//!
//! `wit/` is a copy of `wit/v0.1.0` with only the package version changed.

wit_bindgen::generate!({ path: "wit", world: "tool-plugin", generate_all });

use exports::wasmhost::plugin::tool::{Guest, ToolError};
use wasmhost::plugin::llm_types::ToolSpec;

struct FutureApi;

impl Guest for FutureApi {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "ok".into(),
            description: "Returns \"ok\".".into(),
            parameters_schema: r#"{"type":"object","properties":{}}"#.into(),
        }]
    }

    fn call(name: String, _arguments: String) -> Result<String, ToolError> {
        match name.as_str() {
            "ok" => Ok("ok".into()),
            _ => Err(ToolError::UnknownTool(name)),
        }
    }
}

export!(FutureApi);
