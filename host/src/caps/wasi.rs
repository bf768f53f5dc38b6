//! WASI for a plugin: only the folders, environment and stdio its policy names.
//!
//! Defaults (all denied): no arguments, no inherited environment, empty stdin, stdout and
//! stderr captured into capped in-memory pipes, no sockets or name lookups, no folders.

use wasmtime::component::Linker;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::{Capability, PluginState, Prepare, StoreError};
use crate::policy::{Access, PluginPolicy};

/// Per-instance state of WASI: the context its policy allows.
pub struct Wasi {
    ctx: WasiCtx,
}

impl Capability for Wasi {
    fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            ctx: build_ctx(instance.policy, instance.output)?,
        })
    }

    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_async(linker)
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.caps.wasi.ctx,
            table: &mut self.table,
        }
    }
}

/// What the plugin wrote to stdout and stderr, kept by the host after the call.
#[derive(Clone)]
pub struct CapturedOutput {
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
    pub capacity: usize,
}

impl CapturedOutput {
    pub fn new(capacity: usize) -> Self {
        Self {
            stdout: MemoryOutputPipe::new(capacity),
            stderr: MemoryOutputPipe::new(capacity),
            capacity,
        }
    }

    /// The stream names that reached their cap.
    pub fn full_streams(&self) -> Vec<&'static str> {
        let mut full = Vec::new();
        if self.stdout.contents().len() >= self.capacity {
            full.push("stdout");
        }
        if self.stderr.contents().len() >= self.capacity {
            full.push("stderr");
        }
        full
    }
}

/// Why a plugin's WASI context could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot grant folder {host} to plugin `{plugin}` as {guest}: {source}")]
pub struct FolderError {
    pub plugin: String,
    pub host: String,
    pub guest: String,
    pub source: wasmtime::Error,
}

fn build_ctx(policy: &PluginPolicy, output: &CapturedOutput) -> Result<WasiCtx, FolderError> {
    let mut builder = WasiCtxBuilder::new();
    // Must precede the preopens: each records the flag when added. Without it, file I/O
    // goes through tokio's blocking pool and is 10–30× slower.
    builder.allow_blocking_current_thread(true);
    builder
        .stdin(MemoryInputPipe::new(Vec::new()))
        .stdout(output.stdout.clone())
        .stderr(output.stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for (key, value) in &policy.env {
        builder.env(key, value);
    }
    for folder in &policy.folders {
        let perms = match folder.access {
            Access::Ro => FsPerms::ReadOnly,
            Access::Rw => FsPerms::ReadWrite,
        };
        builder
            .preopened_dir(&folder.host, &folder.guest, perms)
            .map_err(|source| FolderError {
                plugin: policy.name.clone(),
                host: folder.host.display().to_string(),
                guest: folder.guest.clone(),
                source,
            })?;
    }
    Ok(builder.build())
}
