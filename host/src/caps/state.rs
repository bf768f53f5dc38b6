//! The data of one plugin instance's `Store`: what the runtime needs to run it under a
//! budget, plus the state of every capability ([`Capabilities`]).

use std::sync::Arc;

use wasmtime::component::{ResourceTable, ResourceTableError};
use wasmtime_wasi_http::FieldMapError;

use super::wasi::{CapturedOutput, FolderError};
use super::{Capabilities, Denials, Prepare, Services};
use crate::policy::{HTTP_FIELDS_BYTES, Limits, PluginPolicy};
use crate::runtime::{CallClock, CallData, Explained, Limit, MemoryLimiter};

pub struct PluginState {
    /// The plugin's name, for refusals.
    pub(crate) plugin: String,
    /// What the capabilities refused this instance.
    pub(crate) denials: Denials,
    /// Host-side resources the guest holds (files, streams, HTTP handles), shared by the
    /// capabilities that hand them out.
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) output: CapturedOutput,
    /// The wall clock of the call in progress (shared with the capabilities that do host
    /// work on the call's behalf).
    pub(crate) clock: Arc<CallClock>,
    pub caps: Capabilities,
    /// The call's slot among the host's `concurrent_calls`, given back with the store.
    admission: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl PluginState {
    /// The state of a fresh instance of the plugin `policy` governs.
    pub fn new(
        policy: &Arc<PluginPolicy>,
        services: &Services,
        clock: Arc<CallClock>,
    ) -> Result<Self, StoreError> {
        let output = CapturedOutput::new(policy.limits.output_bytes);
        // Capping the table's size bounds what the guest can make the host hold.
        let mut table = ResourceTable::new();
        table.set_max_capacity(policy.limits.host_resources);
        let denials = Denials::default();
        let caps = Capabilities::prepare(&Prepare {
            policy,
            services,
            denials: &denials,
            output: &output,
            clock: &clock,
        })?;
        Ok(Self {
            plugin: policy.name.clone(),
            denials,
            table,
            limiter: MemoryLimiter::new(policy.limits.memory_bytes, services.memory.clone()),
            output,
            clock,
            caps,
            admission: None,
        })
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

    /// What the instance wrote to stdout and stderr.
    pub fn output(&self) -> &CapturedOutput {
        &self.output
    }
}

impl CallData for PluginState {
    fn clock(&self) -> &Arc<CallClock> {
        &self.clock
    }

    fn limiter(&self) -> &MemoryLimiter {
        &self.limiter
    }

    fn limiter_mut(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }

    fn explain(&self, error: &wasmtime::Error, limits: &Limits) -> Option<Explained> {
        if error.chain().any(|e| {
            matches!(
                e.downcast_ref::<ResourceTableError>(),
                Some(ResourceTableError::Full)
            )
        }) {
            return Some(Explained::Limit(Limit::HostResources(
                limits.host_resources,
            )));
        }
        if error.chain().any(|e| {
            matches!(
                e.downcast_ref::<FieldMapError>(),
                Some(FieldMapError::TotalSizeTooBig | FieldMapError::TooManyFields)
            )
        }) {
            return Some(Explained::Limit(Limit::HeaderSet(HTTP_FIELDS_BYTES)));
        }
        // A guest whose write to a full stdout/stderr failed usually panics on it.
        if !self.output.full_streams().is_empty() {
            return Some(Explained::Limit(Limit::Output(limits.output_bytes)));
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Some(Explained::Exited(exit.0));
        }
        None
    }
}

/// Why a plugin's store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("cannot set the limits of plugin `{plugin}`: {source:#}")]
    Limits {
        plugin: String,
        source: wasmtime::Error,
    },
}
