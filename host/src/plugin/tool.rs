//! The typed view of a tool plugin.

use serde::Serialize;

use super::bindings::tool::ToolPluginPre;
use super::bindings::tool::exports::wasmhost::plugin::tool::ToolError as WitToolError;
use super::{Plugin, PluginError, World};

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
    pre: ToolPluginPre<crate::sandbox::PluginState>,
}

impl ToolPlugin {
    pub(super) fn new(plugin: Plugin) -> Result<Self, PluginError> {
        if plugin.world != World::Tool {
            return Err(plugin.wrong_world("tool"));
        }
        let pre = ToolPluginPre::new(plugin.pre.clone()).map_err(|e| PluginError::Link {
            plugin: plugin.name().to_string(),
            message: format!("{e:#}"),
        })?;
        Ok(Self { plugin, pre })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub async fn list_tools(&self) -> Result<Vec<ToolSpec>, PluginError> {
        let pre = &self.pre;
        let specs = self
            .plugin
            .invoke(async |store| {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_tool()
                    .call_list_tools(&mut *store)
                    .await
            })
            .await?;
        Ok(specs
            .into_iter()
            .map(|s| ToolSpec {
                name: s.name,
                description: s.description,
                parameters_schema: s.parameters_schema,
            })
            .collect())
    }

    /// Calls tool `name` with `arguments` (a JSON object as text). The outer error is a
    /// host-side failure (trap, budget); the inner one is the tool's own answer.
    pub async fn call(
        &self,
        name: &str,
        arguments: &str,
    ) -> Result<Result<String, ToolError>, PluginError> {
        let pre = &self.pre;
        self.plugin
            .invoke(async |store| {
                let instance = pre.instantiate_async(&mut *store).await?;
                let result = instance
                    .wasmhost_plugin_tool()
                    .call_call(&mut *store, name, arguments)
                    .await?;
                // The guest sees only "denied"; the host knows which grant was missing.
                let denials = store.data().http_gate.take_denials();
                Ok(result.map_err(|e| explain(ToolError::from(e), &denials)))
            })
            .await
    }
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
    let message = match error {
        ToolError::UnknownTool(m)
        | ToolError::InvalidArguments(m)
        | ToolError::NotFound(m)
        | ToolError::Denied(m)
        | ToolError::Failed(m) => m,
    };
    ToolError::Denied(format!("{message} ({why})"))
}
