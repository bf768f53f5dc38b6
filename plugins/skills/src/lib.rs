//! The `skills` tool plugin: lets the model discover and use Agent Skills.
//!
//! A skill is a folder with a `SKILL.md` (YAML frontmatter + Markdown instructions) and
//! optional scripts and references; see the `skill-manifest` crate. The host preopens the
//! user's skills folder read-only at `/skills` and nothing else. Four tools:
//!
//! - `list_skills {}` → `{"skills":[{"name","description","path"}],"problems":[{"skill","message"}]}`
//! - `get_skill {name}` → `{"name","description","license"?,"compatibility"?,"allowed_tools"?,
//!   "path","body","files":[...],"files_truncated"}`
//! - `read_file_in_skill {name, path}` → the file's text
//! - `run_python_script {name, script | module | code, args?, stdin?, files?}` →
//!   `{"stdout","stderr","exit_code","timed_out","truncated","duration_ms"}`, run by the host
//!   through the `script-bridge` import under this plugin's policy
//!
//! Layout: this file is the WIT glue only; [`tools`] holds the specs and argument parsing,
//! [`catalog`] the skills folder, [`files`] the path rules, [`python`] the script tool,
//! [`error`] the failure kinds. Everything below the glue takes the root path and a
//! [`tools::Host`] as parameters, so it is unit-tested natively against temporary folders
//! and a fake host (`cargo test -p skills`).

mod catalog;
mod error;
mod files;
mod python;
mod tools;

#[cfg(test)]
mod tests;

use std::path::Path;

use error::Failure;
use exports::wasmhost::plugin::tool::{Guest, ToolError};
use wasmhost::plugin::host::{LogLevel, log};
use wasmhost::plugin::llm_types::ToolSpec;
use wasmhost::plugin::script_bridge::{self, ScriptError, ScriptOutput, ScriptRequest};

wit_bindgen::generate!({
    world: "tool-plugin",
    path: "../../wit/v0.2.0",
});

struct SkillsPlugin;

impl Guest for SkillsPlugin {
    fn list_tools() -> Vec<ToolSpec> {
        tools::specs()
            .into_iter()
            .map(|spec| ToolSpec {
                name: spec.name.to_string(),
                description: spec.description.to_string(),
                parameters_schema: spec.schema.to_string(),
            })
            .collect()
    }

    fn call(name: String, arguments: String) -> Result<String, ToolError> {
        tools::call(
            Path::new(catalog::SKILLS_ROOT),
            &name,
            &arguments,
            &mut Imports,
        )
        .map_err(|failure| match failure {
            Failure::UnknownTool(m) => ToolError::UnknownTool(m),
            Failure::InvalidArguments(m) => ToolError::InvalidArguments(m),
            Failure::NotFound(m) => ToolError::NotFound(m),
            Failure::Denied(m) => ToolError::Denied(m),
            Failure::Failed(m) => ToolError::Failed(m),
        })
    }
}

/// The host as the component reaches it: its WIT imports.
struct Imports;

impl tools::Host for Imports {
    fn warn(&mut self, message: &str) {
        log(LogLevel::Warn, message);
    }

    fn run_python(&mut self, request: &ScriptRequest) -> Result<ScriptOutput, ScriptError> {
        script_bridge::run_python(request)
    }
}

export!(SkillsPlugin);
