//! The data of one plugin instance's `Store`: the sum of its capabilities' states.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::budget::MemoryLimiter;
use crate::caps::host_api::{HostApi, LogSink};
use crate::caps::http::HttpGate;
use crate::caps::script_bridge::ScriptBridge;
use crate::caps::wasi::{CapturedOutput, FolderError, build_ctx};
use crate::policy::PluginPolicy;

pub struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) http_gate: HttpGate,
    pub(crate) host: HostApi,
    pub(crate) scripts: ScriptBridge,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) output: CapturedOutput,
}

impl PluginState {
    pub fn new(
        policy: &Arc<PluginPolicy>,
        logs: LogSink,
        scripts: ScriptBridge,
    ) -> Result<Self, FolderError> {
        let output = CapturedOutput::new(policy.limits.output_bytes);
        Ok(Self {
            wasi: build_ctx(policy, &output)?,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            http_gate: HttpGate::new(policy.clone()),
            host: HostApi::new(&policy.name, Arc::new(policy.config.clone()), logs),
            scripts,
            limiter: MemoryLimiter::new(policy.limits.memory_bytes),
            output,
        })
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
