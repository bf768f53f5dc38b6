//! Turning what the runner's call ended with into a [`ScriptRun`] (or, when nothing ran,
//! a [`ScriptFailure`]).
//!
//! Where output comes from. The runner captures what the script prints through
//! `sys.stdout`/`sys.stderr` (cut at the cap) and returns it; it also forwards that
//! capture, a line at a time, to the instance's WASI stdout and stderr, where the host
//! keeps it in capped pipes together with whatever the script wrote to the descriptors
//! itself (`os.write(1, ...)`), in order.
//! - When the runner returns: its capture, unless a pipe holds more (the script also
//!   wrote to the descriptor), in which case the pipe, which has both in order.
//! - When the call is stopped (a limit, `os._exit`, a crash), the return value is lost
//!   with the instance: the pipes, that is everything up to the last complete line.

use std::time::Duration;

use wasmtime::Trap;

use super::bindings::RunOutput;
use super::{ScriptFailure, ScriptRun};
use crate::caps::wasi::CapturedOutput;
use crate::policy::PluginPolicy;
use crate::runtime::{CallFailure, Limit};

/// The exit code of a script stopped by the host (a limit, or a crash of the
/// interpreter): never one a script can give itself, since exit statuses are 0–255.
pub const KILLED_EXIT_CODE: i32 = -1;

/// How the runner's refusal of a program it cannot run starts (see its preflight).
const NEEDS_NATIVE: &str = "needs native mode";

pub(super) fn describe(
    result: Result<Result<RunOutput, String>, CallFailure>,
    output: &CapturedOutput,
    grants: &PluginPolicy,
    duration: Duration,
) -> Result<ScriptRun, ScriptFailure> {
    let stopped = |exit_code: i32, note: Option<String>, limit: Option<Limit>| {
        let (stdout, mut stderr, full) = forwarded(output);
        if let Some(note) = note {
            if !stderr.is_empty() && !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            stderr.push_str(&note);
            stderr.push('\n');
        }
        ScriptRun {
            stdout,
            stderr,
            exit_code,
            timed_out: matches!(limit, Some(Limit::WallClock(_))),
            truncated: full || matches!(limit, Some(Limit::Output(_))),
            duration,
        }
    };
    match result {
        Ok(Ok(out)) => {
            let (piped_stdout, piped_stderr, full) = forwarded(output);
            let mut raw_writes = false;
            let mut pick = |captured: String, piped: String| {
                if piped.len() > captured.len() {
                    raw_writes = true;
                    piped
                } else {
                    captured
                }
            };
            let stdout = pick(out.stdout, piped_stdout);
            let stderr = pick(out.stderr, piped_stderr);
            Ok(ScriptRun {
                stdout,
                stderr,
                exit_code: out.exit_code,
                timed_out: false,
                truncated: out.truncated || (raw_writes && full),
                duration,
            })
        }
        Ok(Err(message)) if message.starts_with(NEEDS_NATIVE) => {
            let plugin = grants.name.strip_suffix(".python").unwrap_or(&grants.name);
            Err(ScriptFailure::Denied(format!(
                "{message} (the sandbox has the standard library only, and no processes; \
                 [plugins.{plugin}.python] mode = \"native\" runs scripts on the host)"
            )))
        }
        // The runner could not start the program (say, an unreadable script).
        Ok(Err(message)) => Ok(ScriptRun {
            stderr: message,
            exit_code: 1,
            duration,
            ..ScriptRun::default()
        }),
        Err(CallFailure::Budget(exceeded)) => Ok(stopped(
            KILLED_EXIT_CODE,
            Some(exceeded.to_string()),
            Some(exceeded.limit),
        )),
        // `os._exit(n)` (WASI reports any n as 1).
        Err(CallFailure::Exited(code)) => Ok(stopped(code, None, None)),
        // The interpreter itself trapped: the script's failure as far as the model goes.
        Err(CallFailure::Trap(error)) if error.downcast_ref::<Trap>().is_some() => {
            let note = format!("the Python interpreter crashed: {}", error.root_cause());
            Ok(stopped(KILLED_EXIT_CODE, Some(note), None))
        }
        // Not a trap: the runner could not be instantiated or called at all.
        Err(CallFailure::Trap(error)) => Err(ScriptFailure::Unavailable(format!(
            "the sandboxed Python runner failed: {error:#}"
        ))),
    }
}

/// What reached the instance's WASI stdout and stderr, and whether either filled up.
fn forwarded(output: &CapturedOutput) -> (String, String, bool) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        text(&output.stdout.contents()),
        text(&output.stderr.contents()),
        !output.full_streams().is_empty(),
    )
}
