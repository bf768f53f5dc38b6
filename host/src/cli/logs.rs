//! Plugin log lines on stderr.

use std::sync::Arc;

use wasmhost::caps::host_api::{LogRecord, LogSink};
use wasmhost::plugin::bindings::LogLevel;

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
