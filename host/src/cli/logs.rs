//! Plugin log lines on stderr.

use std::sync::Arc;

use wasmhost::bindings::LogLevel;
use wasmhost::caps::host_api::{LogRecord, LogSink};
use wasmhost::runtime::{Progress, ProgressSink};

use super::terminal;

/// Prints plugin log lines at or above the verbosity to stderr; warnings and errors always.
pub fn stderr_sink(verbose: u8) -> LogSink {
    let threshold = match verbose {
        0 => 3,
        1 => 2,
        2 => 1,
        _ => 0,
    };
    Arc::new(move |record: LogRecord| {
        let (rank, label) = match record.level {
            LogLevel::Trace => (0, "trace"),
            LogLevel::Debug => (1, "debug"),
            LogLevel::Info => (2, "info"),
            LogLevel::Warn => (3, "warn"),
            LogLevel::Error => (4, "error"),
        };
        if rank >= threshold {
            // One line per record, whatever the plugin put in it.
            eprintln!(
                "[{} {label}] {}",
                terminal::line(&record.plugin),
                terminal::line(&record.message)
            );
        }
    })
}

/// What the MCP SDK (rmcp) reports, on stderr: its errors (a request line dropped for its
/// size) and the skill catalog's warnings (a skill left out) always; -v adds its other
/// warnings (each error answer a client got), -vv its info, -vvv its debug lines. Plain
/// text, with the control codes in any field escaped by the formatter.
pub fn sdk_logs(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match verbose {
        0 => LevelFilter::ERROR,
        1 => LevelFilter::WARN,
        2 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let catalog = level.max(LevelFilter::WARN);
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false);
    // Already set (a second server in one process) is fine: the first one reports.
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(
            Targets::new()
                .with_target("rmcp", level)
                .with_target("rmcp::handler::server::skill_catalog", catalog),
        )
        .try_init();
}

/// Core-seconds a compile takes per MB of component, measured with the CPython runner
/// (38 MB, 22 core-seconds on a 2-core machine); compiles run in parallel on every core.
const COMPILE_CORE_SECS_PER_MB: f64 = 0.58;

/// Shows compiles on stderr as they start and end: the first run of a large component
/// (the Python runtime) is seconds of work, then a cache hit.
pub fn stderr_progress() -> ProgressSink {
    Arc::new(|progress: &Progress| match progress {
        Progress::Compiling { what, bytes } => {
            let mb = *bytes as f64 / 1e6;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            let estimate = mb * COMPILE_CORE_SECS_PER_MB / cores;
            let estimate = if estimate >= 2.0 {
                format!(", ~{estimate:.0} s here")
            } else {
                String::new()
            };
            eprintln!(
                "compiling {} ({mb:.1} MB) once{estimate}; later runs load it from the cache",
                terminal::line(what)
            );
        }
        Progress::Compiled { what, took } => {
            eprintln!(
                "compiled {} in {:.1} s",
                terminal::line(what),
                took.as_secs_f64()
            );
        }
    })
}
