//! The sandbox holds against hostile plugins, one class of attack per module: each drives
//! the real `wasmhost` binary with a hostile guest (`tests/guests/hostile`,
//! `hostile-provider`, `multi-memory.wat`) and checks what reached a listener, the screen,
//! the transcript or the cassette, how much memory the host held, and that the limit's
//! message names the limit and the key that raises it.

mod blocking;
mod compile;
mod credentials;
mod grants;
mod memory;
mod redaction;
mod streams;
mod terminal;

use std::path::Path;

use crate::support::{stderr, stdout};

/// A destination for the hostile provider in the modes that never use the network: a
/// provider wasmhost has no preset for goes nowhere until one is granted.
pub const LOCAL: &str = "http://127.0.0.1:9/v1";

/// `wasmhost run --plugin hostile-provider --base-url LOCAL ARGS…` in `dir`.
pub fn hostile_run(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["run", "--plugin", "hostile-provider", "--base-url", LOCAL];
    all.extend_from_slice(args);
    crate::support::wasmhost_env(&all, dir, &[])
}

/// What a run printed, both streams, for assertion messages.
pub fn printed(o: &std::process::Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// Every file under `dir`, as text (lossy), for "the canary is nowhere" checks.
pub fn all_text_under(dir: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                // The compile cache holds machine code, not anything the host wrote for
                // the user.
                if path.file_name().is_some_and(|n| n == ".cache") {
                    continue;
                }
                stack.push(path);
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(&path)
            {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}
