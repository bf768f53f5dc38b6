//! The typed view of a provider plugin. The chat calls (complete, stream, models) are
//! driven by the conversation loop; here is what loading and inspecting need.

use serde::Serialize;

use super::handles::ProviderPre;
use super::stream_guard::{
    StreamGuard, over_response_limit, redact_error, redact_response, response_bytes,
};
use super::{Plugin, PluginError, World, convert};
use crate::bindings::llm_types;
use crate::chat::{ChatRequest, ChatResponse, ProviderError, StreamAssembler, StreamEvent};
use crate::runtime::Limit;

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
    pre: ProviderPre,
}

impl ProviderPlugin {
    pub(super) fn new(plugin: Plugin) -> Result<Self, PluginError> {
        if plugin.world != World::Provider {
            return Err(plugin.wrong_world("provider"));
        }
        let pre = ProviderPre::new(plugin.contract, plugin.pre.clone()).map_err(|e| {
            PluginError::Link {
                plugin: plugin.name().to_string(),
                message: format!("{e:#}"),
            }
        })?;
        Ok(Self { plugin, pre })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub fn set_policy(&mut self, policy: crate::policy::PluginPolicy) {
        self.plugin.set_policy(policy);
    }

    pub async fn info(&self) -> Result<ProviderInfo, PluginError> {
        let pre = self.pre.clone();
        let info = self
            .plugin
            .invoke(Box::new(move |store| {
                Box::pin(async move { pre.info(store).await })
            }))
            .await?;
        Ok(info.into())
    }
}

impl ProviderPlugin {
    /// One whole response, redacted and within the plugin's `response_kib`.
    pub async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let name = self.plugin.name();
        let pre = self.pre.clone();
        let wire = convert::request(request);
        let result = self
            .plugin
            .invoke(Box::new(move |store| {
                Box::pin(async move { pre.complete(store, &wire).await })
            }))
            .await
            .map_err(|e| host_failure(name, e))?;
        let redactor = self.plugin.policy.redactor();
        let mut response = result
            .map(convert::response)
            .map_err(|e| redact_error(convert::error(e), &redactor))?;
        let size = response_bytes(&response);
        let limit = self.plugin.policy.content.response_bytes;
        if size > limit {
            return Err(over_response_limit(name, limit));
        }
        redact_response(&mut response, &redactor);
        Ok(response)
    }

    /// A streamed response: `on_event` sees each event as the plugin yields it (redacted);
    /// the result is the response they add up to. Each `next` runs under the plugin's
    /// per-call limits (so a stalled stream ends at the time limit), and the stream as a
    /// whole under its content limits: bytes, events, and time without progress.
    pub async fn stream(
        &self,
        request: &ChatRequest,
        on_event: &mut (dyn FnMut(&StreamEvent) + Send),
    ) -> Result<ChatResponse, ProviderError> {
        let name = self.plugin.name();
        let fail = |e| host_failure(name, e);
        let pre = self.pre.clone();
        let wire = convert::request(request);
        let store = self.plugin.new_store().await.map_err(fail)?;
        let (store, opened) = self
            .plugin
            .run_on(
                store,
                Box::new(move |store| Box::pin(async move { pre.open_stream(store, &wire).await })),
            )
            .await;
        let (instance, opened) = opened.map_err(fail)?;
        let redactor = self.plugin.policy.redactor();
        let stream = opened.map_err(|e| redact_error(convert::error(e), &redactor))?;
        let mut store = store;
        let mut guard = StreamGuard::new(name, self.plugin.policy.content, &redactor);
        let mut assembler = StreamAssembler::default();
        loop {
            let Some(current) = store.take() else {
                // Stopped at its deadline: the instance is gone with it.
                break;
            };
            let instance = instance.clone();
            let (back, batch) = self
                .plugin
                .run_on(
                    current,
                    Box::new(move |store| {
                        Box::pin(async move { instance.next(store, stream).await })
                    }),
                )
                .await;
            store = back;
            let batch = batch
                .map_err(fail)?
                .map_err(|e| redact_error(convert::error(e), &redactor))?;
            let Some(events) = batch else { break };
            for event in guard.admit(events.into_iter().map(convert::event))? {
                on_event(&event);
                assembler.push(event);
            }
        }
        // The instance is dropped with the store; dropping the resource first lets a guest
        // that holds a connection close it. Its destructor is guest code: it runs under
        // the same budget as a `next`, and whatever it does, the answer is already whole.
        if let Some(store) = store {
            let _ = self
                .plugin
                .run_on(
                    store,
                    Box::new(move |store| {
                        Box::pin(async move { stream.resource_drop_async(&mut *store).await })
                    }),
                )
                .await;
        }
        if !assembler.is_finished() {
            return Err(ProviderError::Network {
                message: format!("provider `{name}` ended the stream without a finish event"),
            });
        }
        let model = request.options.model.clone().unwrap_or_default();
        Ok(assembler.finish(model))
    }

    /// The models the provider's API lists.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let pre = self.pre.clone();
        let result = self
            .plugin
            .invoke(Box::new(move |store| {
                Box::pin(async move { pre.list_models(store).await })
            }))
            .await
            .map_err(|e| host_failure(self.plugin.name(), e))?;
        let redactor = self.plugin.policy.redactor();
        let models = result.map_err(|e| redact_error(convert::error(e), &redactor))?;
        Ok(models
            .into_iter()
            .map(|m| ModelInfo {
                id: redactor.redact(&m.id).into_owned(),
                context_window: m.context_window,
            })
            .collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub context_window: Option<u32>,
}

/// A host-side failure of a provider plugin, as the loop sees it: running out of time is a
/// timeout (worth a retry); a crash or a broken contract is not.
fn host_failure(plugin: &str, error: PluginError) -> ProviderError {
    match &error {
        PluginError::BudgetExceeded(e) if matches!(e.limit, Limit::WallClock(_)) => {
            ProviderError::Timeout {
                message: error.to_string(),
            }
        }
        _ => ProviderError::Other {
            message: format!("provider plugin `{plugin}` failed: {error}"),
        },
    }
}
