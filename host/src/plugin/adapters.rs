//! The loop's traits implemented by plugins: a provider plugin is a `ChatProvider`, a set
//! of tool plugins is a `ToolBox`. They live here, so that the loop (`agent`) knows
//! nothing of WebAssembly.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ModelInfo, PluginError, ProviderPlugin, ToolError, ToolPlugin};
use crate::BoxFuture;
use crate::agent::{ChatProvider, EventCallback, ToolBox};
use crate::chat::{ChatRequest, ChatResponse, ProviderError, ToolErrorKind, ToolFailure, ToolSpec};

/// A provider plugin as the loop sees it. Its secret is redacted from everything it
/// returns by the plugin layer (`plugin::ProviderPlugin`), before it gets here.
pub struct PluginProvider {
    plugin: ProviderPlugin,
    name: String,
    /// Reported as the model when the request named none and the stream did not say.
    default_model: String,
}

impl PluginProvider {
    pub fn new(plugin: ProviderPlugin, default_model: String) -> Self {
        let name = plugin.plugin().name().to_string();
        Self {
            plugin,
            name,
            default_model,
        }
    }

    /// The API root this provider was granted.
    pub fn base_url(&self) -> &str {
        self.plugin
            .plugin()
            .policy
            .config
            .get("base-url")
            .map_or("", String::as_str)
    }

    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        self.plugin.list_models().await
    }
}

impl ChatProvider for PluginProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn respond<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: Option<EventCallback<'a>>,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(async move {
            let result = match on_event {
                Some(callback) => self.plugin.stream(request, callback).await,
                None => self.plugin.complete(request).await,
            };
            let mut response = result?;
            if response.model.is_empty() {
                response.model.clone_from(&self.default_model);
            }
            Ok(response)
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolBoxError {
    #[error("tool `{tool}` is offered by both `{first}` and `{second}`; load only one of them")]
    Duplicate {
        tool: String,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// How a tool box names tools that two plugins both offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collisions {
    /// Refuse to build the box, naming both plugins ([`ToolBoxError::Duplicate`]).
    Refuse,
    /// Offer each such tool as `PLUGIN__TOOL` (see [`PluginToolBox::renamed`]).
    Prefix,
}

/// A tool offered under another name than its plugin gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub plugin: String,
    pub tool: String,
    pub offered_as: String,
}

/// What separates a plugin's name from its tool's in a prefixed name.
pub const PREFIX_SEPARATOR: &str = "__";

/// Tool plugins behind one name space.
pub struct PluginToolBox {
    specs: Vec<ToolSpec>,
    /// Offered tool name → index into `plugins`, and the name the plugin knows it by.
    owners: BTreeMap<String, (usize, String)>,
    plugins: Vec<Arc<ToolPlugin>>,
    renamed: Vec<Renamed>,
}

impl PluginToolBox {
    pub async fn new(plugins: Vec<ToolPlugin>) -> Result<Self, ToolBoxError> {
        Self::with_collisions(plugins, Collisions::Refuse).await
    }

    pub async fn with_collisions(
        plugins: Vec<ToolPlugin>,
        collisions: Collisions,
    ) -> Result<Self, ToolBoxError> {
        let plugins: Vec<Arc<ToolPlugin>> = plugins.into_iter().map(Arc::new).collect();
        let mut listed = Vec::new();
        for (i, plugin) in plugins.iter().enumerate() {
            for spec in plugin.list_tools().await? {
                listed.push((i, spec));
            }
        }
        // Every tool whose name another plugin offers too.
        let mut offered_by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, spec) in &listed {
            offered_by.entry(spec.name.as_str()).or_default().push(*i);
        }
        let clashing: BTreeMap<String, Vec<usize>> = offered_by
            .into_iter()
            .filter(|(_, owners)| owners.len() > 1)
            .map(|(name, owners)| (name.to_string(), owners))
            .collect();
        if let (Collisions::Refuse, Some((tool, owners))) = (collisions, clashing.iter().next()) {
            return Err(ToolBoxError::Duplicate {
                tool: tool.clone(),
                first: plugins[owners[0]].plugin().name().to_string(),
                second: plugins[owners[1]].plugin().name().to_string(),
            });
        }
        let mut specs = Vec::new();
        let mut owners = BTreeMap::new();
        let mut renamed = Vec::new();
        for (i, spec) in listed {
            let plugin = plugins[i].plugin().name();
            let offered = if clashing.contains_key(&spec.name) {
                let offered_as = format!("{plugin}{PREFIX_SEPARATOR}{}", spec.name);
                renamed.push(Renamed {
                    plugin: plugin.to_string(),
                    tool: spec.name.clone(),
                    offered_as: offered_as.clone(),
                });
                offered_as
            } else {
                spec.name.clone()
            };
            if let Some((first, _)) = owners.get(&offered) {
                // The same plugin listed twice, or a prefixed name a plugin uses itself.
                let first: &Arc<ToolPlugin> = &plugins[*first];
                return Err(ToolBoxError::Duplicate {
                    tool: offered,
                    first: first.plugin().name().to_string(),
                    second: plugin.to_string(),
                });
            }
            owners.insert(offered.clone(), (i, spec.name));
            specs.push(ToolSpec {
                name: offered,
                description: spec.description,
                parameters_schema: spec.parameters_schema,
            });
        }
        Ok(Self {
            specs,
            owners,
            plugins,
            renamed,
        })
    }

    /// The tools offered under a prefixed name because two plugins both have them.
    pub fn renamed(&self) -> &[Renamed] {
        &self.renamed
    }

    /// No tools at all.
    pub fn empty() -> Self {
        Self {
            specs: Vec::new(),
            owners: BTreeMap::new(),
            plugins: Vec::new(),
            renamed: Vec::new(),
        }
    }

    /// The plugin serving tool `name` (as offered).
    pub fn plugin_for(&self, name: &str) -> Option<&ToolPlugin> {
        self.owners
            .get(name)
            .map(|(i, _)| self.plugins[*i].as_ref())
    }
}

impl ToolBox for PluginToolBox {
    fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolFailure>> {
        Box::pin(async move {
            let Some((index, own_name)) = self.owners.get(name) else {
                return Err(ToolFailure::unknown_tool(name, &self.specs));
            };
            match self.plugins[*index].call(own_name, arguments).await {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(tool_error)) => Err(tool_failure(&tool_error)),
                // A crash or a budget overrun goes back to the model as the tool's result.
                Err(host_error) => Err(host_failure(&host_error)),
            }
        })
    }
}

/// A tool's own error, with its kind.
fn tool_failure(error: &ToolError) -> ToolFailure {
    let kind = match error {
        ToolError::UnknownTool(_) => ToolErrorKind::UnknownTool,
        ToolError::InvalidArguments(_) => ToolErrorKind::InvalidArguments,
        ToolError::NotFound(_) => ToolErrorKind::NotFound,
        ToolError::Denied(_) => ToolErrorKind::Denied,
        ToolError::Failed(_) => ToolErrorKind::ToolError,
    };
    ToolFailure::new(kind, error.to_string())
}

/// A failure of the plugin's call itself: a limit crossed, a crash, a sandbox that could
/// not be set up.
fn host_failure(error: &PluginError) -> ToolFailure {
    let kind = match error {
        PluginError::BudgetExceeded(exceeded) => {
            return ToolFailure {
                limit: Some(exceeded.limit.name()),
                ..ToolFailure::new(ToolErrorKind::BudgetExceeded, error.to_string())
            };
        }
        PluginError::Trap { .. } | PluginError::Exited { .. } => ToolErrorKind::PluginTrapped,
        _ => ToolErrorKind::HostFailure,
    };
    ToolFailure::new(kind, error.to_string())
}
