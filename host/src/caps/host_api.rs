//! The `host` interface every plugin imports: logging and its own configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use super::{Capability, PluginState, Prepare, StoreError};
use crate::bindings::LogLevel;
use crate::bindings::provider::wasmhost::plugin::host;
use crate::policy::Redactor;

/// Log lines one call may write; past it, lines are dropped and one notice says so.
pub const MAX_LOG_LINES_PER_CALL: usize = 1_000;

/// Longest log line kept, in bytes; the rest is cut.
pub const MAX_LOG_LINE_BYTES: usize = 4_096;

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub plugin: String,
    pub level: LogLevel,
    pub message: String,
}

/// Where plugin log lines go (the CLI prints them to stderr; tests collect them).
pub type LogSink = Arc<dyn Fn(LogRecord) + Send + Sync>;

/// A sink that drops everything.
pub fn discard_logs() -> LogSink {
    Arc::new(|_| {})
}

/// Per-instance state of the `host` interface.
pub struct HostApi {
    plugin: String,
    config: Arc<BTreeMap<String, String>>,
    sink: LogSink,
    lines: usize,
    /// The plugin's granted secret never reaches a log line.
    redactor: Redactor,
}

impl Capability for HostApi {
    fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError> {
        let policy = instance.policy;
        Ok(Self::new(
            &policy.name,
            Arc::new(policy.config.clone()),
            instance.services.logs.clone(),
            policy.redactor(),
        ))
    }

    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        host::add_to_linker::<_, HasSelf<HostApi>>(linker, |state| &mut state.caps.host)?;
        crate::bindings::add_older_host_to_linker(linker)
    }
}

impl crate::bindings::ServesHost for PluginState {
    type Api = HostApi;
    fn host_api(&mut self) -> &mut HostApi {
        &mut self.caps.host
    }
}

impl HostApi {
    pub fn new(
        plugin: &str,
        config: Arc<BTreeMap<String, String>>,
        sink: LogSink,
        redactor: Redactor,
    ) -> Self {
        Self {
            plugin: plugin.to_string(),
            config,
            sink,
            lines: 0,
            redactor,
        }
    }

    fn emit(&self, level: LogLevel, message: String) {
        (self.sink)(LogRecord {
            plugin: self.plugin.clone(),
            level,
            message,
        });
    }
}

impl host::Host for HostApi {
    fn log(&mut self, level: LogLevel, message: String) {
        self.lines += 1;
        if self.lines > MAX_LOG_LINES_PER_CALL {
            if self.lines == MAX_LOG_LINES_PER_CALL + 1 {
                let notice = format!(
                    "more than {MAX_LOG_LINES_PER_CALL} log lines in one call; dropping the rest"
                );
                self.emit(LogLevel::Warn, notice);
            }
            return;
        }
        // Redacted before it is cut, so a cut cannot leave part of a secret behind.
        let message = self.redactor.redact(&message).into_owned();
        self.emit(level, truncate_utf8(message, MAX_LOG_LINE_BYTES));
    }

    fn get_config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn config_entries(&mut self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn truncate_utf8(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("… (truncated)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use host::Host as _;

    #[test]
    fn log_is_capped_per_call_and_lines_are_cut() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink_seen = seen.clone();
        let sink: LogSink = Arc::new(move |r| sink_seen.lock().expect("lock").push(r));
        let mut api = HostApi::new("demo", Arc::default(), sink, Redactor::default());
        api.log(LogLevel::Info, "é".repeat(MAX_LOG_LINE_BYTES));
        for _ in 0..MAX_LOG_LINES_PER_CALL + 10 {
            api.log(LogLevel::Debug, "x".into());
        }
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), MAX_LOG_LINES_PER_CALL + 1);
        assert!(seen[0].message.len() <= MAX_LOG_LINE_BYTES + 20);
        assert!(seen[0].message.ends_with("(truncated)"));
        assert_eq!(seen.last().map(|r| r.level), Some(LogLevel::Warn));
        assert!(seen.iter().all(|r| r.plugin == "demo"));
    }

    #[test]
    fn a_logged_secret_is_redacted() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink_seen = seen.clone();
        let sink: LogSink = Arc::new(move |r| sink_seen.lock().expect("lock").push(r));
        let mut api = HostApi::new(
            "demo",
            Arc::default(),
            sink,
            Redactor::new(["sk-canary-42"]),
        );
        api.log(LogLevel::Warn, "got sk-canary-42 back".into());
        // A secret that straddles the cut at MAX_LOG_LINE_BYTES is gone whole.
        let edge = format!("{}sk-canary-42", "x".repeat(MAX_LOG_LINE_BYTES - 5));
        api.log(LogLevel::Warn, edge);
        let seen = seen.lock().expect("lock");
        assert_eq!(seen[0].message, "got [REDACTED] back");
        assert!(
            !seen[1].message.contains("sk-ca"),
            "{}",
            &seen[1].message[4000..]
        );
    }

    #[test]
    fn config_is_the_policy_config() {
        let config = Arc::new(BTreeMap::from([("model".to_string(), "m1".to_string())]));
        let mut api = HostApi::new("demo", config, discard_logs(), Redactor::default());
        assert_eq!(api.get_config("model".into()).as_deref(), Some("m1"));
        assert_eq!(api.get_config("api-key".into()), None);
        assert_eq!(api.config_entries().len(), 1);
    }
}
