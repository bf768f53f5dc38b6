//! Compiling a component under the host's compile limits: checked first
//! ([`super::precheck`]), then compiled on a thread of its own under a deadline.
//!
//! Cranelift cannot be interrupted. At the deadline the host stops waiting and reports
//! the limit; the compiling thread finishes in the background and its result is dropped
//! (a CLI run exits at once; a long-lived host pays the CPU once, and the checks keep that
//! bounded).

use std::time::Duration;

use wasmtime::Engine;

use super::precheck::{self, CompileRefusal};
use crate::policy::CompileLimits;

/// Why a component was not compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// It asks too much of the compiler: refused before compiling.
    #[error("{0}")]
    Refused(#[from] CompileRefusal),
    #[error(
        "compiling it took longer than {} s (raise `compile_timeout_secs` in [host] of wasmhost.toml)",
        .0.as_secs_f64()
    )]
    Timeout(Duration),
    #[error("{0:#}")]
    Failed(#[from] wasmtime::Error),
}

/// `wasm` checked against `limits`, then compiled into an artifact of `engine`.
pub fn guarded(
    engine: &Engine,
    wasm: &[u8],
    limits: &CompileLimits,
) -> Result<Vec<u8>, CompileError> {
    precheck::check(wasm, limits)?;
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let engine = engine.clone();
    let bytes = wasm.to_vec();
    std::thread::Builder::new()
        .name("wasmhost-compile".into())
        .spawn(move || {
            let _ = send.send(engine.precompile_component(&bytes));
        })
        .map_err(|e| {
            CompileError::Failed(wasmtime::format_err!(
                "cannot start the compiler thread: {e}"
            ))
        })?;
    match receive.recv_timeout(limits.timeout) {
        Ok(result) => Ok(result?),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(CompileError::Timeout(limits.timeout))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(CompileError::Failed(
            wasmtime::format_err!("the compiler thread stopped without a result"),
        )),
    }
}
