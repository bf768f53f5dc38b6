//! The typed view of a provider plugin. The chat calls (complete, stream, models) are
//! driven by the conversation loop; here is what loading and inspecting need.

use serde::Serialize;

use super::bindings::llm_types;
use super::bindings::provider::ProviderPluginPre;
use super::{Plugin, PluginError, World};

/// What a provider says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    pub name: String,
    pub version: String,
    pub default_model: String,
    pub default_base_url: String,
    pub credential: Option<CredentialSpec>,
    pub capabilities: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSpec {
    pub header: String,
    pub prefix: String,
    pub env_var: String,
    pub required: bool,
}

impl From<llm_types::ProviderInfo> for ProviderInfo {
    fn from(info: llm_types::ProviderInfo) -> Self {
        use llm_types::Capabilities as C;
        let caps = [
            (C::TOOLS, "tools"),
            (C::IMAGES, "images"),
            (C::STREAMING, "streaming"),
            (C::LIST_MODELS, "list-models"),
        ];
        Self {
            name: info.name,
            version: info.version,
            default_model: info.default_model,
            default_base_url: info.default_base_url,
            credential: info.credential.map(|c| CredentialSpec {
                header: c.header,
                prefix: c.prefix,
                env_var: c.env_var,
                required: c.required,
            }),
            capabilities: caps
                .into_iter()
                .filter(|(flag, _)| info.capabilities.contains(*flag))
                .map(|(_, name)| name)
                .collect(),
        }
    }
}

pub struct ProviderPlugin {
    plugin: Plugin,
    pre: ProviderPluginPre<crate::sandbox::PluginState>,
}

impl ProviderPlugin {
    pub(super) fn new(plugin: Plugin) -> Result<Self, PluginError> {
        if plugin.world != World::Provider {
            return Err(plugin.wrong_world("provider"));
        }
        let pre = ProviderPluginPre::new(plugin.pre.clone()).map_err(|e| PluginError::Link {
            plugin: plugin.name().to_string(),
            message: format!("{e:#}"),
        })?;
        Ok(Self { plugin, pre })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub async fn info(&self) -> Result<ProviderInfo, PluginError> {
        let pre = &self.pre;
        let info = self
            .plugin
            .invoke(async |store| {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_provider()
                    .call_info(&mut *store)
                    .await
            })
            .await?;
        Ok(info.into())
    }
}
