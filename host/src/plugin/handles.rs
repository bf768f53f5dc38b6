//! Typed handles on a plugin's code, one variant per contract version, each call adapted
//! to the newest contract's types (`crate::bindings`'s re-exports). This is the only place
//! in `plugin/` that names a version's bindings: a new version adds a variant here and the
//! adapters of its older siblings in `bindings/`.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, ResourceAny};

use crate::bindings::tool::exports::wasmhost::plugin::tool::ToolError;
use crate::bindings::{Contract, llm_types as newest, v0_1_0, v0_2_0};
use crate::caps::PluginState;

/// A tool plugin, ready to instantiate.
#[derive(Clone)]
pub(crate) enum ToolPre {
    V0_1(v0_1_0::tool::ToolPluginPre<PluginState>),
    V0_2(v0_2_0::tool::ToolPluginPre<PluginState>),
}

impl ToolPre {
    pub(crate) fn new(contract: Contract, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match contract {
            Contract::V0_1 => Ok(Self::V0_1(v0_1_0::tool::ToolPluginPre::new(pre)?)),
            Contract::V0_2 => Ok(Self::V0_2(v0_2_0::tool::ToolPluginPre::new(pre)?)),
        }
    }

    /// Instantiates the plugin in `store` and lists its tools.
    pub(crate) async fn list_tools(
        &self,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<Vec<newest::ToolSpec>> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let specs = instance
                    .wasmhost_plugin_tool()
                    .call_list_tools(&mut *store)
                    .await?;
                Ok(specs.into_iter().map(Into::into).collect())
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_tool()
                    .call_list_tools(&mut *store)
                    .await
            }
        }
    }

    /// Instantiates the plugin in `store` and calls tool `name`.
    pub(crate) async fn call(
        &self,
        store: &mut Store<PluginState>,
        name: &str,
        arguments: &str,
    ) -> wasmtime::Result<Result<String, ToolError>> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let result = instance
                    .wasmhost_plugin_tool()
                    .call_call(&mut *store, name, arguments)
                    .await?;
                Ok(result.map_err(Into::into))
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_tool()
                    .call_call(&mut *store, name, arguments)
                    .await
            }
        }
    }
}

/// A provider plugin, ready to instantiate.
#[derive(Clone)]
pub(crate) enum ProviderPre {
    V0_1(v0_1_0::provider::ProviderPluginPre<PluginState>),
    V0_2(v0_2_0::provider::ProviderPluginPre<PluginState>),
}

/// A live provider instance, for the calls of one streamed response.
#[derive(Clone)]
pub(crate) enum ProviderInstance {
    V0_1(Arc<v0_1_0::provider::ProviderPlugin>),
    V0_2(Arc<v0_2_0::provider::ProviderPlugin>),
}

type Answer<T> = wasmtime::Result<Result<T, newest::ProviderError>>;

impl ProviderPre {
    pub(crate) fn new(contract: Contract, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match contract {
            Contract::V0_1 => Ok(Self::V0_1(v0_1_0::provider::ProviderPluginPre::new(pre)?)),
            Contract::V0_2 => Ok(Self::V0_2(v0_2_0::provider::ProviderPluginPre::new(pre)?)),
        }
    }

    pub(crate) async fn info(
        &self,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<newest::ProviderInfo> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let info = instance
                    .wasmhost_plugin_provider()
                    .call_info(&mut *store)
                    .await?;
                Ok(info.into())
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_provider()
                    .call_info(&mut *store)
                    .await
            }
        }
    }

    pub(crate) async fn complete(
        &self,
        store: &mut Store<PluginState>,
        request: &newest::ChatRequest,
    ) -> Answer<newest::ChatResponse> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let request = request.clone().into();
                let answer = instance
                    .wasmhost_plugin_provider()
                    .call_complete(&mut *store, &request)
                    .await?;
                Ok(answer.map(Into::into).map_err(Into::into))
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_provider()
                    .call_complete(&mut *store, request)
                    .await
            }
        }
    }

    /// Instantiates the plugin and opens a streamed response; the instance serves its
    /// [`ProviderInstance::next`] calls.
    pub(crate) async fn open_stream(
        &self,
        store: &mut Store<PluginState>,
        request: &newest::ChatRequest,
    ) -> wasmtime::Result<(ProviderInstance, Result<ResourceAny, newest::ProviderError>)> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let request = request.clone().into();
                let opened = instance
                    .wasmhost_plugin_provider()
                    .call_complete_streaming(&mut *store, &request)
                    .await?;
                let opened = opened.map_err(Into::into);
                Ok((ProviderInstance::V0_1(Arc::new(instance)), opened))
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let opened = instance
                    .wasmhost_plugin_provider()
                    .call_complete_streaming(&mut *store, request)
                    .await?;
                Ok((ProviderInstance::V0_2(Arc::new(instance)), opened))
            }
        }
    }

    pub(crate) async fn list_models(
        &self,
        store: &mut Store<PluginState>,
    ) -> Answer<Vec<newest::ModelInfo>> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let models = instance
                    .wasmhost_plugin_provider()
                    .call_list_models(&mut *store)
                    .await?;
                Ok(models
                    .map(|models| models.into_iter().map(Into::into).collect())
                    .map_err(Into::into))
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .wasmhost_plugin_provider()
                    .call_list_models(&mut *store)
                    .await
            }
        }
    }
}

impl ProviderInstance {
    /// The next events of the stream `stream`; `None` once it has ended.
    pub(crate) async fn next(
        &self,
        store: &mut Store<PluginState>,
        stream: ResourceAny,
    ) -> Answer<Option<Vec<newest::StreamEvent>>> {
        match self {
            Self::V0_1(instance) => {
                let batch = instance
                    .wasmhost_plugin_provider()
                    .completion_stream()
                    .call_next(&mut *store, stream)
                    .await?;
                Ok(batch
                    .map(|events| events.map(|e| e.into_iter().map(Into::into).collect()))
                    .map_err(Into::into))
            }
            Self::V0_2(instance) => {
                instance
                    .wasmhost_plugin_provider()
                    .completion_stream()
                    .call_next(&mut *store, stream)
                    .await
            }
        }
    }
}
