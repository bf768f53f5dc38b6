//! Per-call resource limits and their defaults. Every call into a plugin runs on a fresh
//! instance under these; `sandbox::budget` enforces them.

use std::time::Duration;

use serde::Serialize;

/// Fuel per call: about 0.3–1.5 s of guest CPU on the reference machine (1e9 fuel ≈
/// 60–250 ms), far above what a tool or provider call needs, low enough that a runaway
/// loop ends quickly.
pub const DEFAULT_FUEL: u64 = 5_000_000_000;

/// Linear memory per instance. Python in the sandbox uses ~16 MiB live; 256 MiB leaves room
/// for real data while a guest that allocates without end is stopped long before the host
/// notices.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 << 20;

/// Wall-clock time per call, including time the guest spends waiting in host imports.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Wall-clock time per provider call (one whole response, or one `next` of a stream): an
/// LLM may think for minutes before it answers.
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(300);

/// Fuel per skill script: CPython in wasm spends ~0.7 M fuel on `print(1+1)` and ~28 M on
/// a script using json/csv/statistics; 2e10 is a few seconds of interpreter CPU.
pub const DEFAULT_SCRIPT_FUEL: u64 = 20_000_000_000;

/// Wall clock per skill script, below the tool call's own 30 s so the tool can still
/// report the timeout and the partial output.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Bytes a plugin may write to each of stdout and stderr per call. Plugins talk to the host
/// through their exports, not stdio: this is for diagnostics only.
pub const DEFAULT_OUTPUT_BYTES: usize = 1 << 20;

/// The largest memory any policy may grant: the pooling allocator reserves address space
/// for this much per slot.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    pub fuel: u64,
    pub memory_bytes: u64,
    #[serde(serialize_with = "serialize_secs")]
    pub timeout: Duration,
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_FUEL,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            output_bytes: DEFAULT_OUTPUT_BYTES,
        }
    }
}

impl Limits {
    /// The defaults for a skill script run through the script bridge.
    pub fn script_defaults() -> Self {
        Self {
            fuel: DEFAULT_SCRIPT_FUEL,
            timeout: DEFAULT_SCRIPT_TIMEOUT,
            ..Self::default()
        }
    }
}

fn serialize_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
