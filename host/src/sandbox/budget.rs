//! Enforcing a plugin's per-call limits and naming the one it crossed.
//!
//! Fuel bounds guest CPU; an epoch deadline stops guest code at the wall-clock limit; a
//! tokio timeout around the whole call also bounds time spent waiting in host imports
//! (sleeps, HTTP); the `MemoryLimiter` refuses growth past the memory cap; capped pipes
//! bound stdout and stderr. Whichever trips, the caller gets `BudgetExceeded` naming it.

use std::fmt;
use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};

use super::engine::EPOCH_TICK;
use super::state::PluginState;
use crate::policy::Limits;

/// The limit a call crossed, with the value it was set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Fuel(u64),
    WallClock(Duration),
    Memory(u64),
    Output(usize),
    Stack,
}

impl Limit {
    /// The policy key that raises this limit, if one does.
    fn policy_key(&self) -> Option<&'static str> {
        match self {
            Limit::Fuel(_) => Some("fuel"),
            Limit::WallClock(_) => Some("timeout_secs"),
            Limit::Memory(_) => Some("memory_mib"),
            Limit::Output(_) => Some("output_kib"),
            Limit::Stack => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Fuel(n) => write!(f, "fuel budget ({n} units)"),
            Limit::WallClock(d) => write!(f, "time limit ({:.3} s)", d.as_secs_f64()),
            Limit::Memory(b) => write!(f, "memory limit ({} MiB)", b >> 20),
            Limit::Output(b) => write!(f, "output limit ({b} bytes per stream)"),
            Limit::Stack => write!(f, "stack limit (unbounded recursion)"),
        }
    }
}

/// A call stopped because it crossed one of its limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BudgetExceeded {
    pub plugin: String,
    pub limit: Limit,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "budget-exceeded: plugin `{}` exceeded its {}",
            self.plugin, self.limit
        )?;
        if let Some(key) = self.limit.policy_key() {
            write!(
                f,
                " (raise `{key}` in [plugins.{}] of wasmhost.toml)",
                self.plugin
            )?;
        }
        Ok(())
    }
}

/// Refuses linear-memory and table growth past the policy's cap, and remembers that it
/// did: the guest usually reacts by aborting, and that trap must be reported as the memory
/// limit, not as an unexplained `unreachable`.
pub struct MemoryLimiter {
    max_bytes: u64,
    hit: bool,
}

/// Table elements any one table may have; tables hold function references and CPython
/// needs tens of thousands.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl MemoryLimiter {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            hit: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = u64::try_from(desired).is_ok_and(|d| d <= self.max_bytes);
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Sets fuel and a deadline that traps once `limits.timeout` has passed; called for every
/// call, so a store that serves several calls (a stream) gets a fresh budget each time.
pub fn rearm(store: &mut Store<PluginState>, limits: &Limits) -> wasmtime::Result<()> {
    store.set_fuel(limits.fuel)?;
    let deadline = Instant::now() + limits.timeout;
    // The callback runs each tick: it yields to the executor (so the surrounding timeout
    // and other tasks can run) until the deadline, then interrupts.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    Ok(())
}

/// Runs one call under `limits.timeout` and turns a failure into the limit it crossed,
/// when it crossed one.
pub async fn run<T>(
    store: &mut Store<PluginState>,
    plugin: &str,
    limits: &Limits,
    call: impl AsyncFnOnce(&mut Store<PluginState>) -> wasmtime::Result<T>,
) -> Result<T, CallFailure> {
    // A little grace so a guest-side interrupt (more precise, keeps the trap context) wins
    // the race when the guest is running code; the timeout catches waits in host imports.
    let grace = EPOCH_TICK * 2;
    let outcome = tokio::time::timeout(limits.timeout + grace, call(&mut *store)).await;
    let exceeded = |limit| {
        CallFailure::Budget(BudgetExceeded {
            plugin: plugin.to_string(),
            limit,
        })
    };
    let error = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => error,
        Err(_elapsed) => return Err(exceeded(Limit::WallClock(limits.timeout))),
    };
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return Err(exceeded(Limit::Fuel(limits.fuel))),
        Some(Trap::Interrupt) => return Err(exceeded(Limit::WallClock(limits.timeout))),
        Some(Trap::StackOverflow) => return Err(exceeded(Limit::Stack)),
        Some(Trap::MemoryOutOfBounds) if looks_like_shadow_stack_overflow(&error) => {
            return Err(exceeded(Limit::Stack));
        }
        _ => {}
    }
    let state = store.data();
    // A guest refused memory usually aborts (`unreachable`): report the cause.
    if state.limiter.hit {
        return Err(exceeded(Limit::Memory(limits.memory_bytes)));
    }
    // A guest whose write to a full stdout/stderr failed usually panics on it.
    if !state.output.full_streams().is_empty() {
        return Err(exceeded(Limit::Output(limits.output_bytes)));
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Err(CallFailure::Exited(exit.0));
    }
    Err(CallFailure::Trap(error))
}

/// Rust and C guests keep their stack in linear memory; when it overflows, the stack
/// pointer wraps and the next access is out of bounds, long before wasmtime's own stack
/// guard trips. What gives it away is the backtrace: one or two functions, repeated.
fn looks_like_shadow_stack_overflow(error: &wasmtime::Error) -> bool {
    let Some(trace) = error.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let frames = trace.frames();
    let mut functions: Vec<u32> = frames.iter().map(|f| f.func_index()).collect();
    functions.sort_unstable();
    functions.dedup();
    frames.len() >= 16 && functions.len() <= 3
}

/// How a call failed, before the plugin layer names the plugin in it.
#[derive(Debug)]
pub enum CallFailure {
    Budget(BudgetExceeded),
    /// The guest called `exit`.
    Exited(i32),
    /// A trap or host fault, with wasmtime's full error chain.
    Trap(wasmtime::Error),
}
