//! `wasmhost precompile [PLUGIN]...`: compile components into the cache now, so that the
//! first run that needs one does not wait for it (the Python runtime takes seconds).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use wasmhost::plugin;
use wasmhost::runtime::CacheOutcome;
use wasmhost::scripts::{RUNTIME_NAME, SandboxedPython};

use super::config::Environment;
use super::terminal;

#[derive(Debug, clap::Args)]
pub struct PrecompileArgs {
    /// Plugins by name or path (default: every installed plugin and the Python runtime).
    plugins: Vec<String>,
    /// Print one JSON array instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    path: String,
    /// `hit`: already in the cache; `compiled`/`replaced`: compiled now and cached;
    /// `uncached`: compiled, but the cache folder could not be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<CacheOutcome>,
    millis: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub async fn run(env: &Environment, args: PrecompileArgs) -> Result<ExitCode> {
    let targets = if args.plugins.is_empty() {
        installed()
    } else {
        let mut targets = Vec::new();
        for spec in &args.plugins {
            let source = plugin::locate(spec)?;
            targets.push((
                format!("plugin `{}`", source.name),
                source.name,
                source.path,
            ));
        }
        targets
    };
    if targets.is_empty() {
        anyhow::bail!(super::UsageError(
            "no plugins found to compile: install them with `just install`, or name a .wasm \
             file"
                .to_string()
        ));
    }
    let mut rows = Vec::new();
    for (what, name, path) in targets {
        let started = Instant::now();
        let sandbox = env.sandbox.clone();
        let read = path.clone();
        // Compiling is seconds of CPU: keep it off the async workers.
        let compiled = tokio::task::spawn_blocking(move || {
            let wasm = std::fs::read(&read).map_err(|e| format!("cannot read it: {e}"))?;
            sandbox
                .compile(&wasm, &what)
                .map(|(_, outcome)| outcome)
                .map_err(|e| format!("{e:#}"))
        })
        .await
        .unwrap_or_else(|e| Err(format!("the compile failed: {e}")));
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, error) = match compiled {
            Ok(outcome) => (Some(outcome), None),
            Err(error) => (None, Some(error)),
        };
        rows.push(Row {
            name,
            path: path.display().to_string(),
            outcome,
            millis,
            error,
        });
    }
    let failed = rows.iter().any(|row| row.error.is_some());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for row in &rows {
            let status = match (&row.outcome, &row.error) {
                (_, Some(error)) => format!("error: {error}"),
                (Some(CacheOutcome::Hit), _) => "already in the cache".to_string(),
                (Some(CacheOutcome::Uncached), _) => {
                    "compiled, but the cache folder is not writable".to_string()
                }
                _ => format!("compiled in {:.1} s", row.millis as f64 / 1000.0),
            };
            println!(
                "{:<16} {}  ({})",
                terminal::line(&row.name),
                terminal::line(&status),
                terminal::line(&row.path)
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every installed plugin and the Python runtime.
fn installed() -> Vec<(String, String, PathBuf)> {
    let mut targets: Vec<_> = plugin::installed()
        .into_iter()
        .map(|source| {
            (
                format!("plugin `{}`", source.name),
                source.name,
                source.path,
            )
        })
        .collect();
    if let Some(path) = SandboxedPython::locate() {
        targets.push((RUNTIME_NAME.to_string(), "python".to_string(), path));
    }
    targets
}
