//! Per-call resource limits and their defaults. Every call into a plugin runs on a fresh
//! instance under these; `runtime::budget` enforces them.

use std::time::Duration;

use serde::Serialize;

/// Fuel per call: far above what a tool or provider call needs (a provider's whole
/// streamed response costs ~10 M), low enough that a runaway loop ends quickly. Fuel counts
/// instructions (bulk memory operations per byte), so how long it lasts depends on the
/// code: a tight loop spends 5e9 in 0.3–0.5 s on the reference machine (`just bench`),
/// code that waits in host calls far more slowly, and then the wall clock stops it.
pub const DEFAULT_FUEL: u64 = 5_000_000_000;

/// Memory per instance: all its linear memories and tables together (a component may hold
/// several core instances, each with its own memory). Python in the sandbox uses ~16 MiB
/// live; 256 MiB leaves room for real data while a guest that allocates without end is
/// stopped long before the host notices.
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

/// Live host-side resources one call may hold at once: open files and directories,
/// streams, pollables, HTTP requests, responses, bodies and header sets. A provider's
/// request needs about ten; past this the guest's next `push` fails and the call stops.
pub const DEFAULT_HOST_RESOURCES: usize = 1_024;

/// Bytes one header set (`wasi:http` `fields`) built by a guest may hold, counted as
/// wasi-http counts them (names, values and their in-memory overhead). Requests to LLM
/// APIs carry well under 2 KiB of headers; with [`DEFAULT_HOST_RESOURCES`] this bounds
/// the header sets of one call to 32 MiB.
pub const HTTP_FIELDS_BYTES: usize = 32 << 10;

/// Bytes of a request body the host buffers between the guest's writes and the socket
/// (one chunk in flight plus one queued). 64 KiB streams a request as fast as the
/// network takes it.
pub const HTTP_BODY_CHUNK_BYTES: usize = 64 << 10;

/// Text, tool names and tool-call arguments one provider response may carry. The longest
/// real answers (128 k output tokens) are ~0.5 MiB; a tool call writing a file is rarely
/// more than a few MiB.
pub const DEFAULT_RESPONSE_BYTES: usize = 16 << 20;

/// Events one streamed response may carry: one a token, so ten times the longest output
/// any model offers today (128 k tokens), plus room for usage and tool-call events.
pub const DEFAULT_STREAM_EVENTS: u64 = 1_500_000;

/// Longest a stream may go without progress (new text, a tool call or one of its
/// fragments): pings, empty batches and empty deltas do not count. Reasoning models can
/// think for minutes before their first token, so this is generous.
pub const DEFAULT_STALL: Duration = Duration::from_secs(300);

/// Tool calls one response may ask for. Models ask for a handful at a time; a stream of
/// empty call starts would otherwise grow the host's state (and the next turn) unbounded.
pub const DEFAULT_MAX_TOOL_CALLS: usize = 1_024;

/// Bytes of one tool result handed to the model (~250 k tokens, more than any context
/// window holds). Past it the result is cut, and both the model and the user are told.
pub const DEFAULT_TOOL_RESULT_BYTES: usize = 1 << 20;

/// Bytes of one tool's name, description and parameter schema together. Real tools
/// (MCP servers' included) describe themselves in a few KiB; every request repeats them.
pub const DEFAULT_TOOL_SPEC_BYTES: usize = 64 << 10;

/// Tools one plugin may offer. The largest real tool sets (MCP servers for GitHub,
/// cloud APIs) have ~100.
pub const DEFAULT_MAX_TOOLS: usize = 256;

/// Memory all calls alive at once may use together (every instance's memories and tables,
/// scripts' included). One call is capped by its own limit; this caps a turn that runs
/// many tools in parallel, or a server serving many clients.
pub const DEFAULT_TOTAL_MEMORY_BYTES: u64 = 2 << 30;

/// Tool calls of one model turn run at once; the rest wait for a free slot.
pub const DEFAULT_PARALLEL_TOOLS: usize = 4;

/// Plugin calls alive at once across the whole host (tool calls, provider responses,
/// streams); a call past it waits for one to end. Each may run one script of its own on
/// top, so the instance pool holds twice as many: a host never runs out of instances,
/// and nothing waits while holding a slot another call needs.
pub const DEFAULT_CONCURRENT_CALLS: usize = 50;

/// The most `concurrent_calls` may be set to (each slot reserves address space).
pub const MAX_CONCURRENT_CALLS: usize = 1000;

/// What one call of a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    pub fuel: u64,
    pub memory_bytes: u64,
    #[serde(serialize_with = "serialize_secs")]
    pub timeout: Duration,
    pub output_bytes: usize,
    pub host_resources: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_FUEL,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            output_bytes: DEFAULT_OUTPUT_BYTES,
            host_resources: DEFAULT_HOST_RESOURCES,
        }
    }
}

/// What a plugin may hand the host: the size of responses and streams (providers), of
/// results and tool descriptions (tools).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContentLimits {
    pub response_bytes: usize,
    pub stream_events: u64,
    #[serde(serialize_with = "serialize_secs")]
    pub stall: Duration,
    pub max_tool_calls: usize,
    pub tool_result_bytes: usize,
    pub tool_spec_bytes: usize,
    pub max_tools: usize,
}

impl Default for ContentLimits {
    fn default() -> Self {
        Self {
            response_bytes: DEFAULT_RESPONSE_BYTES,
            stream_events: DEFAULT_STREAM_EVENTS,
            stall: DEFAULT_STALL,
            max_tool_calls: DEFAULT_MAX_TOOL_CALLS,
            tool_result_bytes: DEFAULT_TOOL_RESULT_BYTES,
            tool_spec_bytes: DEFAULT_TOOL_SPEC_BYTES,
            max_tools: DEFAULT_MAX_TOOLS,
        }
    }
}

/// Limits of the host as a whole (`[host]` in wasmhost.toml).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HostLimits {
    pub total_memory_bytes: u64,
    pub parallel_tools: usize,
    pub concurrent_calls: usize,
    pub compile: CompileLimits,
}

impl Default for HostLimits {
    fn default() -> Self {
        Self {
            total_memory_bytes: DEFAULT_TOTAL_MEMORY_BYTES,
            parallel_tools: DEFAULT_PARALLEL_TOOLS,
            concurrent_calls: DEFAULT_CONCURRENT_CALLS,
            compile: CompileLimits::default(),
        }
    }
}

/// What a component may ask of the compiler before any budget applies: checked on the
/// bytes, without compiling (`runtime::precheck`), then the compile runs under a deadline.
/// Each default is at least twice what the sandboxed CPython runner (the biggest
/// component we know: 14 core modules, 13,351 functions, 6.5 MB of code) needs; every
/// compile bomb measured while choosing them crosses one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompileLimits {
    /// The component file (CPython: 38 MB).
    pub component_bytes: u64,
    /// Code across all core modules (CPython: 6.5 MB).
    pub code_bytes: u64,
    /// Functions across all core modules (CPython: 13,351).
    pub functions: u64,
    /// One function's code (CPython's largest: 427 KB).
    pub function_bytes: u64,
    /// Locals of one function, parameters included (CPython: 273).
    pub locals: u64,
    /// Operand-stack values live at once in one function (CPython: 54).
    pub stack: u64,
    /// Nested blocks in one function (CPython: 782).
    pub control_depth: u64,
    /// Loops in one function (CPython: 81).
    pub loops: u64,
    /// Nested loops in one function (CPython: 6); compile time is cubic in it.
    pub loop_nesting: u64,
    /// `br_table` targets in one function, all its tables together (CPython's largest
    /// table has 3,202).
    pub br_table: u64,
    /// Branches, blocks, indirect calls and runtime-call instructions in one function
    /// (CPython: 8,557); compile time is quadratic in it.
    pub cfg_ops: u64,
    /// Indirect calls in one function (CPython: 98).
    pub call_indirect: u64,
    /// (locals + stack values) × loops in one function (CPython: 8,680): register
    /// allocation around every loop's fuel and epoch checks.
    pub loop_pressure: u64,
    /// `cfg_ops` over the component (CPython: 337 k).
    pub total_cfg_ops: u64,
    /// Σ `cfg_ops`² over the component's functions (CPython: 1.6e8).
    pub total_cfg_cost: u64,
    /// Loops over the component (CPython: 9,575).
    pub total_loops: u64,
    /// `loop_pressure` over the component (CPython: 227 k).
    pub total_loop_pressure: u64,
    /// Longest a compile may take. CPython compiles in 15–17 s on a busy 2-core machine;
    /// a compile runs once and is cached.
    #[serde(serialize_with = "serialize_secs")]
    pub timeout: Duration,
}

impl Default for CompileLimits {
    fn default() -> Self {
        Self {
            component_bytes: 128 << 20,
            code_bytes: 16 << 20,
            functions: 32_768,
            function_bytes: 1 << 20,
            locals: 2_048,
            stack: 1_024,
            control_depth: 2_048,
            loops: 512,
            loop_nesting: 32,
            br_table: 65_536,
            cfg_ops: 16_384,
            call_indirect: 1_024,
            loop_pressure: 65_536,
            total_cfg_ops: 1 << 20,
            total_cfg_cost: 400_000_000,
            total_loops: 32_768,
            total_loop_pressure: 1 << 20,
            timeout: Duration::from_secs(120),
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
