//! The data of one plugin instance's `Store`: the sum of its capabilities' states.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::budget::{CallClock, MemoryLimiter, MemoryPool};
use crate::caps::Denials;
use crate::caps::host_api::{HostApi, LogSink};
use crate::caps::http::HttpGate;
use crate::caps::script_bridge::ScriptBridge;
use crate::caps::wasi::{CapturedOutput, FolderError, build_ctx};
use crate::policy::{HTTP_FIELDS_BYTES, PluginPolicy};

pub struct PluginState {
    /// The plugin's name, for refusals.
    pub(crate) plugin: String,
    /// What the capabilities refused this instance.
    pub(crate) denials: Denials,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) http_gate: HttpGate,
    pub(crate) host: HostApi,
    pub(crate) scripts: ScriptBridge,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) output: CapturedOutput,
    /// The wall clock of the call in progress (shared with the capabilities that do host
    /// work on the call's behalf).
    pub(crate) clock: Arc<CallClock>,
    /// The call's slot among the host's `concurrent_calls`, given back with the store.
    admission: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl PluginState {
    pub fn new(
        policy: &Arc<PluginPolicy>,
        logs: LogSink,
        scripts: ScriptBridge,
        pool: Arc<MemoryPool>,
        clock: Arc<CallClock>,
    ) -> Result<Self, FolderError> {
        let output = CapturedOutput::new(policy.limits.output_bytes);
        // Host-side resources the guest creates (files, streams, HTTP handles) live in the
        // table: capping its size and each header set's bytes bounds what they hold.
        let mut table = ResourceTable::new();
        table.set_max_capacity(policy.limits.host_resources);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(HTTP_FIELDS_BYTES);
        let denials = Denials::default();
        Ok(Self {
            plugin: policy.name.clone(),
            denials: denials.clone(),
            wasi: build_ctx(policy, &output)?,
            table,
            http,
            http_gate: HttpGate::new(policy.clone(), denials),
            host: HostApi::new(
                &policy.name,
                Arc::new(policy.config.clone()),
                logs,
                policy.redactor(),
            ),
            scripts,
            limiter: MemoryLimiter::new(policy.limits.memory_bytes, pool),
            output,
            clock,
            admission: None,
        })
    }
}

impl PluginState {
    /// The state of a plugin granted nothing, for tests of the budget.
    #[cfg(test)]
    pub(crate) fn for_tests(clock: Arc<CallClock>) -> Self {
        let policy = Arc::new(PluginPolicy::deny_all("p"));
        let scripts =
            ScriptBridge::new(None, std::sync::Weak::new(), policy.clone(), clock.clone());
        let pool = Arc::new(MemoryPool::new(1 << 30));
        Self::new(
            &policy,
            crate::caps::host_api::discard_logs(),
            scripts,
            pool,
            clock,
        )
        .expect("a policy without folders needs none")
    }

    /// Holds the call's admission slot until the store is dropped (also when a call
    /// stopped at its deadline leaves its store to a stuck task: the instance is alive).
    pub fn admit(&mut self, slot: tokio::sync::OwnedSemaphorePermit) {
        self.admission = Some(slot);
    }

    /// What the capabilities refused since the last call.
    pub fn take_denials(&self) -> Vec<crate::policy::Denial> {
        self.denials.take()
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_gate,
        }
    }
}
