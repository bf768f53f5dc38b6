//! The typed view of a tool plugin.

use serde::Serialize;

use super::handles::ToolPre;
use super::{Plugin, PluginError, World};
use crate::bindings::tool::exports::wasmhost::plugin::tool::ToolError as WitToolError;
use crate::policy::PluginPolicy;

/// A tool as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// The JSON Schema of the arguments, as the plugin wrote it.
    pub parameters_schema: String,
}

/// A tool's own failure: handed back to the model, not a host fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ToolError {
    #[error("unknown tool: {0}")]
    UnknownTool(String),
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("denied: {0}")]
    Denied(String),
    #[error("failed: {0}")]
    Failed(String),
}

impl ToolError {
    /// The message, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            ToolError::UnknownTool(m)
            | ToolError::InvalidArguments(m)
            | ToolError::NotFound(m)
            | ToolError::Denied(m)
            | ToolError::Failed(m) => m,
        }
    }

    /// The same kind of error with `f` applied to the message.
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            ToolError::UnknownTool(m) => ToolError::UnknownTool(f(&m)),
            ToolError::InvalidArguments(m) => ToolError::InvalidArguments(f(&m)),
            ToolError::NotFound(m) => ToolError::NotFound(f(&m)),
            ToolError::Denied(m) => ToolError::Denied(f(&m)),
            ToolError::Failed(m) => ToolError::Failed(f(&m)),
        }
    }
}

impl From<WitToolError> for ToolError {
    fn from(e: WitToolError) -> Self {
        match e {
            WitToolError::UnknownTool(m) => ToolError::UnknownTool(m),
            WitToolError::InvalidArguments(m) => ToolError::InvalidArguments(m),
            WitToolError::NotFound(m) => ToolError::NotFound(m),
            WitToolError::Denied(m) => ToolError::Denied(m),
            WitToolError::Failed(m) => ToolError::Failed(m),
        }
    }
}

pub struct ToolPlugin {
    plugin: Plugin,
    pre: ToolPre,
}

impl ToolPlugin {
    pub(super) fn new(plugin: Plugin) -> Result<Self, PluginError> {
        if plugin.world != World::Tool {
            return Err(plugin.wrong_world("tool"));
        }
        let pre =
            ToolPre::new(plugin.contract, plugin.pre.clone()).map_err(|e| PluginError::Link {
                plugin: plugin.name().to_string(),
                message: format!("{e:#}"),
            })?;
        Ok(Self { plugin, pre })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The plugin's tools, checked: valid names, a JSON Schema object for the arguments,
    /// each within the plugin's `tool_spec_kib` and all within `max_tools`. A plugin that
    /// describes itself badly is refused whole, with what to fix.
    pub async fn list_tools(&self) -> Result<Vec<ToolSpec>, PluginError> {
        let pre = self.pre.clone();
        let specs = self
            .plugin
            .invoke(Box::new(move |store| {
                Box::pin(async move { pre.list_tools(store).await })
            }))
            .await?;
        let redactor = self.plugin.policy.redactor();
        let specs: Vec<ToolSpec> = specs
            .into_iter()
            .map(|s| ToolSpec {
                name: s.name,
                description: redactor.redact(&s.description).into_owned(),
                parameters_schema: redactor.redact(&s.parameters_schema).into_owned(),
            })
            .collect();
        check_specs(&specs, &self.plugin.policy).map_err(|message| PluginError::BadTools {
            plugin: self.plugin.name().to_string(),
            message,
        })?;
        Ok(specs)
    }

    /// Calls tool `name` with `arguments` (a JSON object as text). The outer error is a
    /// host-side failure (trap, budget); the inner one is the tool's own answer. A result
    /// over the plugin's `result_kib` is cut, and says so.
    pub async fn call(
        &self,
        name: &str,
        arguments: &str,
    ) -> Result<Result<String, ToolError>, PluginError> {
        let pre = self.pre.clone();
        let (name, arguments) = (name.to_string(), arguments.to_string());
        let result = self
            .plugin
            .invoke(Box::new(move |store| {
                Box::pin(async move {
                    let result = pre.call(store, &name, &arguments).await?;
                    // The guest sees only "denied"; the host knows which grant was missing.
                    let denials = store.data().take_denials();
                    Ok(result.map_err(|e| explain(ToolError::from(e), &denials)))
                })
            }))
            .await?;
        let policy = &self.plugin.policy;
        let redactor = policy.redactor();
        let limit = policy.content.tool_result_bytes;
        Ok(match result {
            Ok(mut output) => {
                redactor.redact_string(&mut output);
                Ok(cap_result(output, limit, &policy.name))
            }
            Err(error) => Err(error
                .map_message(|m| cap_result(redactor.redact(m).into_owned(), limit, &policy.name))),
        })
    }
}

/// The longest tool name the APIs accept (OpenAI and Anthropic: `^[a-zA-Z0-9_-]{1,64}$`).
pub const MAX_TOOL_NAME_CHARS: usize = 64;

/// Whether the APIs accept `name` as a tool name.
pub fn valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_specs(specs: &[ToolSpec], policy: &PluginPolicy) -> Result<(), String> {
    let plugin = &policy.name;
    let limits = &policy.content;
    if specs.len() > limits.max_tools {
        return Err(format!(
            "it offers {} tools, over the limit of {} (raise `max_tools` in [plugins.{plugin}] \
             of wasmhost.toml)",
            specs.len(),
            limits.max_tools
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for spec in specs {
        if !valid_tool_name(&spec.name) {
            return Err(format!(
                "tool name `{}` is not 1–{MAX_TOOL_NAME_CHARS} letters, digits, `_` or `-`, \
                 which the model APIs require",
                spec.name.escape_debug()
            ));
        }
        if !seen.insert(spec.name.as_str()) {
            return Err(format!("it offers tool `{}` twice", spec.name));
        }
        let size = spec.name.len() + spec.description.len() + spec.parameters_schema.len();
        if size > limits.tool_spec_bytes {
            return Err(format!(
                "tool `{}` describes itself in {size} bytes (description and schema), over the \
                 limit of {} (raise `tool_spec_kib` in [plugins.{plugin}] of wasmhost.toml); \
                 every request to the model repeats it",
                spec.name, limits.tool_spec_bytes
            ));
        }
        match serde_json::from_str::<serde_json::Value>(&spec.parameters_schema) {
            Ok(serde_json::Value::Object(_)) => {}
            Ok(_) => {
                return Err(format!(
                    "tool `{}`'s parameters schema is not a JSON object",
                    spec.name
                ));
            }
            Err(e) => {
                return Err(format!(
                    "tool `{}`'s parameters schema is not JSON: {e}",
                    spec.name
                ));
            }
        }
    }
    Ok(())
}

/// `text` cut to `limit` bytes (on a character boundary) with a note that says so and how
/// to see more.
fn cap_result(text: String, limit: usize, plugin: &str) -> String {
    crate::chat::cap_tool_result(text, limit, &format!("[plugins.{plugin}]"))
}

fn explain(error: ToolError, denials: &[crate::policy::Denial]) -> ToolError {
    if denials.is_empty() {
        return error;
    }
    let why = denials
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    ToolError::Denied(format!("{} ({why})", error.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, description: &str, schema: &str) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: description.into(),
            parameters_schema: schema.into(),
        }
    }

    #[test]
    fn specs_are_checked_against_the_limits() {
        let mut policy = PluginPolicy::deny_all("demo");
        let ok = spec("read_file", "Reads a file.", r#"{"type":"object"}"#);
        assert!(check_specs(std::slice::from_ref(&ok), &policy).is_ok());
        for (bad, why) in [
            (spec("evil\u{1b}]0;x\u{7}", "", "{}"), "letters, digits"),
            (spec("", "", "{}"), "letters, digits"),
            (spec("t", "", "not json"), "not JSON"),
            (spec("t", "", "[1]"), "not a JSON object"),
            (spec("t", &"d".repeat(70_000), "{}"), "`tool_spec_kib`"),
        ] {
            let err = check_specs(&[bad], &policy).expect_err(why);
            assert!(err.contains(why), "{err}");
        }
        let err = check_specs(&[ok.clone(), ok.clone()], &policy).expect_err("twice");
        assert!(err.contains("twice"), "{err}");
        policy.content.max_tools = 1;
        let two = [ok.clone(), spec("b", "", "{}")];
        assert!(
            check_specs(&two, &policy)
                .expect_err("many")
                .contains("`max_tools`")
        );
    }

    #[test]
    fn a_long_result_is_cut_on_a_char_boundary_and_says_so() {
        assert_eq!(cap_result("short".into(), 10, "p"), "short");
        let cut = cap_result("é".repeat(10), 5, "p");
        assert!(
            cut.starts_with("éé\n[wasmhost: the result was 20 bytes"),
            "{cut}"
        );
        assert!(cut.contains("`result_kib` in [plugins.p]"), "{cut}");
    }
}
