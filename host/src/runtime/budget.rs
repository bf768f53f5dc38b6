//! Enforcing a plugin's per-call limits and naming the one it crossed.
//!
//! Fuel bounds guest CPU; an epoch deadline stops guest code at the wall-clock limit; a
//! tokio timeout around the whole call also bounds time spent waiting in host imports
//! (sleeps, HTTP); the `MemoryLimiter` refuses growth past the memory cap; capped pipes
//! bound stdout and stderr. Whichever trips, the caller gets `BudgetExceeded` naming it.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};

pub use super::memory::{LimiterFlags, MemoryLimiter, MemoryPool};

use super::engine::EPOCH_TICK;
use super::{CallData, Explained};
use crate::BoxFuture;
use crate::policy::Limits;

/// The limit a call crossed, with the value it was set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Fuel(u64),
    WallClock(Duration),
    /// All of the instance's memories and tables together.
    Memory(u64),
    Output(usize),
    Stack,
    /// Live host-side resources (files, streams, HTTP handles).
    HostResources(usize),
    /// Memory of all live calls together (`[host] memory_mib`).
    HostMemory(u64),
    /// Bytes of one HTTP header set the guest builds.
    HeaderSet(usize),
}

impl Limit {
    /// A short name for the limit, as `--json` events give it.
    pub fn name(&self) -> &'static str {
        match self {
            Limit::Fuel(_) => "fuel",
            Limit::WallClock(_) => "time",
            Limit::Memory(_) => "memory",
            Limit::Output(_) => "output",
            Limit::Stack => "stack",
            Limit::HostResources(_) => "host_resources",
            Limit::HostMemory(_) => "host_memory",
            Limit::HeaderSet(_) => "header_set",
        }
    }

    /// The policy key that raises this limit, and whether it sits in `[host]` rather than
    /// the plugin's own section.
    fn policy_key(&self) -> Option<(&'static str, bool)> {
        match self {
            Limit::Fuel(_) => Some(("fuel", false)),
            Limit::WallClock(_) => Some(("timeout_secs", false)),
            Limit::Memory(_) => Some(("memory_mib", false)),
            Limit::Output(_) => Some(("output_kib", false)),
            Limit::HostResources(_) => Some(("host_resources", false)),
            Limit::HostMemory(_) => Some(("memory_mib", true)),
            Limit::Stack | Limit::HeaderSet(_) => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Fuel(n) => write!(f, "fuel budget ({n} units)"),
            Limit::WallClock(d) => write!(f, "time limit ({:.3} s)", d.as_secs_f64()),
            Limit::Memory(b) => write!(
                f,
                "memory limit ({} MiB across all its memories and tables)",
                b >> 20
            ),
            Limit::Output(b) => write!(f, "output limit ({b} bytes per stream)"),
            Limit::Stack => write!(f, "stack limit (unbounded recursion)"),
            Limit::HostResources(n) => write!(
                f,
                "host resource limit ({n} live files, streams and HTTP handles)"
            ),
            Limit::HeaderSet(b) => write!(
                f,
                "header set limit ({b} bytes of HTTP headers in one set; requests to model APIs \
                 need a few hundred)"
            ),
            Limit::HostMemory(b) => write!(
                f,
                "share of the host's memory (all live calls together may use {} MiB)",
                b >> 20
            ),
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
        match self.limit.policy_key() {
            Some((key, true)) => write!(f, " (raise `{key}` in [host] of wasmhost.toml)"),
            Some((key, false)) => {
                // A script's limits sit in its plugin's `python` subsection.
                let section = match self.plugin.strip_suffix(".python") {
                    Some(plugin) => format!("plugins.{plugin}.python"),
                    None => format!("plugins.{}", self.plugin),
                };
                write!(f, " (raise `{key}` in [{section}] of wasmhost.toml)")
            }
            None => Ok(()),
        }
    }
}

/// Sets fuel and a deadline that traps once the call's clock (armed by [`run`]) has run
/// out; called for every call, so a store that serves several calls (a stream) gets a
/// fresh budget each time.
pub fn rearm<S: CallData>(store: &mut Store<S>, limits: &Limits) -> wasmtime::Result<()> {
    store.set_fuel(limits.fuel)?;
    let clock = store.data().clock().clone();
    clock.arm(limits.timeout);
    // The callback runs each tick: it yields to the executor (so the surrounding timer
    // and other tasks can run) until the deadline, then interrupts.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= clock.deadline() {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    Ok(())
}

/// One call into a store: given the store, returns the call's future.
pub type Call<S, T> =
    Box<dyn for<'a> FnOnce(&'a mut Store<S>) -> BoxFuture<'a, wasmtime::Result<T>> + Send>;

/// Runs one call under `limits.timeout` and turns a failure into the limit it crossed,
/// when it crossed one. Returns the store for further calls, unless the call was stopped
/// at its deadline.
///
/// The call runs as a task of its own, so the deadline holds whatever the guest calls:
/// a host import that blocks its thread (a read that never returns) stops only that task,
/// and the caller gets its answer at the deadline. The stuck task is aborted and its store
/// dropped when the blocking call returns.
pub async fn run<S: CallData, T: Send + 'static>(
    mut store: Store<S>,
    plugin: &str,
    limits: &Limits,
    call: Call<S, T>,
) -> (Option<Store<S>>, Result<T, CallFailure>) {
    // A little grace so a guest-side interrupt (more precise, keeps the trap context) wins
    // the race when the guest is running code; the timeout catches waits in host imports.
    let grace = EPOCH_TICK * 2;
    let flags = store.data().limiter().flags.clone();
    let pool_max = store.data().limiter().pool_max_bytes();
    let clock = store.data().clock().clone();
    let mut task = tokio::spawn(async move {
        let result = call(&mut store).await;
        (store, result)
    });
    let abort = task.abort_handle();
    // A caller that stops waiting (an interrupted turn, a cancelled MCP call) stops the
    // call: the guest yields at every epoch tick, so it ends within one. Aborting a task
    // that has finished does nothing.
    let _stop_if_dropped = AbortOnDrop(abort.clone());
    let exceeded = |limit| {
        CallFailure::Budget(BudgetExceeded {
            plugin: plugin.to_string(),
            limit,
        })
    };
    // The clock may stand still while the host works for the call: wait until it has
    // run out, not merely until the first deadline it had.
    let joined = loop {
        let wake = tokio::time::Instant::from_std(clock.deadline() + grace);
        tokio::select! {
            joined = &mut task => break Some(joined),
            () = tokio::time::sleep_until(wake) => {
                if Instant::now() >= clock.deadline() + grace {
                    break None;
                }
            }
        }
    };
    let (store, error) = match joined {
        Some(Ok((store, Ok(value)))) => return (Some(store), Ok(value)),
        Some(Ok((store, Err(error)))) => (store, error),
        Some(Err(join)) => {
            // The host's own code panicked inside the call: report it, keep running.
            let message = match join.try_into_panic() {
                Ok(payload) => panic_text(payload.as_ref()),
                Err(e) => e.to_string(),
            };
            return (
                None,
                Err(CallFailure::Trap(wasmtime::format_err!(
                    "the host failed while serving the call: {message}"
                ))),
            );
        }
        None => {
            abort.abort();
            return (None, Err(exceeded(Limit::WallClock(limits.timeout))));
        }
    };
    let failure = classify(error, &store, limits, &flags, pool_max, exceeded);
    (Some(store), Err(failure))
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn classify<S: CallData>(
    error: wasmtime::Error,
    store: &Store<S>,
    limits: &Limits,
    flags: &LimiterFlags,
    pool_max: u64,
    exceeded: impl Fn(Limit) -> CallFailure,
) -> CallFailure {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return exceeded(Limit::Fuel(limits.fuel)),
        Some(Trap::Interrupt) => return exceeded(Limit::WallClock(limits.timeout)),
        Some(Trap::StackOverflow) => return exceeded(Limit::Stack),
        Some(Trap::MemoryOutOfBounds) if looks_like_shadow_stack_overflow(&error) => {
            return exceeded(Limit::Stack);
        }
        _ => {}
    }
    // A guest refused memory usually aborts (`unreachable`): report the cause.
    if flags.memory.load(Ordering::Relaxed) {
        return exceeded(Limit::Memory(limits.memory_bytes));
    }
    if flags.host_memory.load(Ordering::Relaxed) {
        return exceeded(Limit::HostMemory(pool_max));
    }
    // What a capability limits (resources, headers, output) or does (`exit`) it explains.
    match store.data().explain(&error, limits) {
        Some(Explained::Limit(limit)) => return exceeded(limit),
        Some(Explained::Exited(code)) => return CallFailure::Exited(code),
        None => {}
    }
    CallFailure::Trap(error)
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::runtime::CallClock;

    /// Store data with nothing but what the runtime needs.
    struct Bare {
        clock: Arc<CallClock>,
        limiter: MemoryLimiter,
    }

    impl Bare {
        fn new(clock: Arc<CallClock>) -> Self {
            Self {
                clock,
                limiter: MemoryLimiter::new(1 << 30, Arc::new(MemoryPool::new(1 << 30))),
            }
        }
    }

    impl CallData for Bare {
        fn clock(&self) -> &Arc<CallClock> {
            &self.clock
        }
        fn limiter(&self) -> &MemoryLimiter {
            &self.limiter
        }
        fn limiter_mut(&mut self) -> &mut MemoryLimiter {
            &mut self.limiter
        }
        fn explain(&self, _: &wasmtime::Error, _: &Limits) -> Option<Explained> {
            None
        }
    }

    #[test]
    fn the_clock_stands_still_during_host_work_within_its_allowance() {
        let clock = Arc::new(CallClock::new(Duration::from_millis(200)));
        clock.arm(Duration::from_secs(10));
        let armed = clock.deadline();
        {
            let _outer = clock.pause();
            let _inner = clock.pause();
            std::thread::sleep(Duration::from_millis(30));
            // While paused, the deadline keeps moving with the clock.
            assert!(clock.deadline() >= armed + Duration::from_millis(30));
        }
        let after_one = clock.deadline();
        let moved = after_one - armed;
        assert!(moved >= Duration::from_millis(30), "{moved:?}");
        assert!(moved < Duration::from_millis(200), "{moved:?}");
        // Once stopped, it runs again.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.deadline(), after_one);
        // The allowance bounds the credit of all pauses of one call together.
        {
            let _work = clock.pause();
            std::thread::sleep(Duration::from_millis(250));
        }
        assert!(clock.deadline() - armed <= Duration::from_millis(200));
        // A new call starts with its whole allowance.
        clock.arm(Duration::from_secs(1));
        let rearmed = clock.deadline();
        {
            let _work = clock.pause();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(clock.deadline() - rearmed >= Duration::from_millis(20));
    }

    #[tokio::test]
    async fn a_call_paused_past_its_timeout_is_not_stopped() {
        let engine = wasmtime::Engine::default();
        let clock = Arc::new(CallClock::new(Duration::from_secs(5)));
        let state = Bare::new(clock.clone());
        let mut store = Store::new(&engine, state);
        let limits = Limits {
            timeout: Duration::from_millis(50),
            ..Limits::default()
        };
        clock.arm(limits.timeout);
        let work = clock.clone();
        let (_store, result) = run(
            store,
            "p",
            &limits,
            Box::new(move |_store| {
                Box::pin(async move {
                    let _paused = work.pause();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok(7)
                })
            }),
        )
        .await;
        assert_eq!(result.ok(), Some(7));
        // Without a pause the same wait is stopped at the deadline.
        store = Store::new(&engine, Bare::new(clock.clone()));
        clock.arm(limits.timeout);
        let (_store, result) = run(
            store,
            "p",
            &limits,
            Box::new(|_store| {
                Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok(7)
                })
            }),
        )
        .await;
        assert!(
            matches!(
                result,
                Err(CallFailure::Budget(BudgetExceeded {
                    limit: Limit::WallClock(_),
                    ..
                }))
            ),
            "{result:?}"
        );
    }

    #[test]
    fn each_limit_names_its_key_and_section() {
        let text = |plugin: &str, limit| {
            BudgetExceeded {
                plugin: plugin.into(),
                limit,
            }
            .to_string()
        };
        assert!(
            text("p", Limit::HostResources(8)).contains("raise `host_resources` in [plugins.p]")
        );
        assert!(text("p", Limit::HostMemory(1 << 30)).contains("raise `memory_mib` in [host]"));
        assert!(text("p.python", Limit::Fuel(1)).contains("in [plugins.p.python]"));
        assert!(text("p", Limit::HeaderSet(32768)).contains("header set limit (32768 bytes"));
    }
}
