//! Native mode: a real interpreter on the host, opted into per plugin with
//! `[plugins.NAME.python] mode = "native"`, for skills that need packages or speed the
//! sandbox cannot give. This is **not** a sandbox: the script runs with the host user's
//! rights and can read, write and connect to whatever that user can. What native mode does
//! guarantee is bounded, predictable runs:
//!
//! - **Interpreter**: the skill's own virtualenv (`.venv/bin/python`, then
//!   `venv/bin/python`, whose `bin` folder must resolve inside the skill folder), else the
//!   policy's `interpreter`, else `unavailable` ([`interpreter`]).
//! - **Working directory**: the skill folder, or with `scratch_copy = true` a fresh copy of
//!   it in a temporary folder that is deleted afterwards ([`scratch`]).
//! - **Command line**: `PYTHON -s -c CODE ARGS…`, `PYTHON -s -m MODULE ARGS…` or
//!   `PYTHON -s -- SCRIPT ARGS…`, the script
//!   path relative to the working directory, so `sys.argv` is what the skill's instructions
//!   show (`python3 scripts/convert.py 10 km mi`). Not `-I` (isolated mode): it implies `-E`,
//!   which would ignore the `PYTHON*` variables below and any the policy grants on purpose
//!   (`PYTHONPATH`), and `-P`, which drops the script's folder from `sys.path` and breaks
//!   skills that import a helper module next to their script. What `-I` protects against is
//!   covered otherwise: the environment is cleared, and `-s` keeps the user's site-packages
//!   (found through the password database even without `HOME`) out of `sys.path`.
//! - **Environment**: cleared, then only `PATH=/usr/bin:/bin` (the skill virtualenv's `bin`
//!   first when that is the interpreter, as `activate` would), `LANG=C.UTF-8`,
//!   `PYTHONIOENCODING=utf-8`, `PYTHONDONTWRITEBYTECODE=1` (no `__pycache__` left in the
//!   skill folder), then the policy's `env`, which wins on a conflict. No secret, token or
//!   `HOME` of the host's environment reaches the script unless the policy names it.
//! - **stdin**: the request's `stdin` (or nothing), then end of file.
//! - **Time**: the interpreter leads its own process group. At the script time limit the
//!   whole group is killed with `SIGKILL` and the output so far is returned with
//!   `timed_out`; when the interpreter exits by itself, whatever it left running in its group
//!   is killed too, so no run outlives its tool call. A process that leaves the group
//!   (`setsid`) escapes this; native mode is not a sandbox.
//! - **Output**: stdout and stderr are read concurrently, each kept up to the script
//!   `output_kib` limit and read and discarded past it (so the child never blocks on a full
//!   pipe), with `truncated` set.
//! - **Memory**: `RLIMIT_AS` (address space) at the script `memory_mib` limit, set in the
//!   child before `exec` and inherited by its children (each gets its own budget). Address
//!   space is more than resident memory: heavily threaded programs (one malloc arena and
//!   stack per thread) may need the limit raised. Over it, allocations fail (Python raises
//!   `MemoryError`) instead of the host running out of memory.
//! - **Exit code**: the interpreter's own, or minus the signal number when a signal ended it
//!   (`-9` after a timeout kill), as Python's `subprocess` reports it.
//!
//! Nothing a script does can panic or block the host: every failure to start is a
//! [`ScriptFailure`], everything after that is part of the [`ScriptRun`].

mod interpreter;
mod process;
mod scratch;

use std::ffi::OsString;

use tokio::process::Command;

use super::{ResolvedJob, ScriptFailure, ScriptRun, ScriptSource};
use crate::policy::PluginPolicy;
use interpreter::Interpreter;

/// The `PATH` a script gets, after the skill virtualenv's `bin` if that is the interpreter.
pub const SCRIPT_PATH: &str = "/usr/bin:/bin";

/// The variables every script gets (before the policy's `env`, which may override them).
const BASE_ENV: [(&str, &str); 3] = [
    ("LANG", "C.UTF-8"),
    ("PYTHONIOENCODING", "utf-8"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
];

/// Runs `job` with a host interpreter under `policy` (see the module docs).
pub async fn run(policy: &PluginPolicy, job: &ResolvedJob) -> Result<ScriptRun, ScriptFailure> {
    check_no_nul(job)?;
    let interpreter = interpreter::find(policy, &job.skill_dir)?;
    let scratch = if policy.python.scratch_copy {
        Some(scratch::copy(&job.skill_dir).await?)
    } else {
        None
    };
    let workdir = scratch
        .as_ref()
        .map_or(job.skill_dir.as_path(), |s| s.path());
    if !job.files.is_empty() {
        // Input files go into the working folder: never the skill's own folder.
        if scratch.is_none() {
            return Err(ScriptFailure::Denied(format!(
                "input files need a scratch copy of the skill in native mode: set \
                 `scratch_copy = true` in [plugins.{}.python] of wasmhost.toml",
                policy.name
            )));
        }
        if let Err(failure) = super::resolve::write_files(workdir, &job.files).await {
            // Removing the copy is blocking file I/O: keep it off the async workers.
            drop(tokio::task::spawn_blocking(move || drop(scratch)));
            return Err(failure);
        }
    }
    let command = command(policy, job, &interpreter, workdir);
    let stdin = job.stdin.as_deref().unwrap_or_default().as_bytes();
    let run = process::run(command, &interpreter.path, stdin, &policy.python.limits).await;
    if let Some(scratch) = scratch {
        // Removing a copied tree is blocking file I/O: keep it off the async workers.
        drop(tokio::task::spawn_blocking(move || drop(scratch)));
    }
    run
}

/// A NUL byte cannot pass through `argv`; say so instead of failing to start.
fn check_no_nul(job: &ResolvedJob) -> Result<(), ScriptFailure> {
    let code = match &job.source {
        ScriptSource::Code(code) => Some(code.as_str()),
        ScriptSource::File(_) | ScriptSource::Module { .. } => None,
    };
    if code.is_some_and(|c| c.contains('\0')) || job.args.iter().any(|a| a.contains('\0')) {
        return Err(ScriptFailure::InvalidRequest(
            "the code and the arguments cannot contain a NUL character".into(),
        ));
    }
    Ok(())
}

fn command(
    policy: &PluginPolicy,
    job: &ResolvedJob,
    interpreter: &Interpreter,
    workdir: &std::path::Path,
) -> Command {
    let mut command = Command::new(&interpreter.path);
    command.arg("-s");
    match &job.source {
        ScriptSource::Code(code) => command.arg("-c").arg(code),
        // `--`: a script file named like an option (`-m`) is still a file.
        ScriptSource::File(path) => command.arg("--").arg(path),
        // Run from the working folder, as `python -m` puts it first on `sys.path`.
        ScriptSource::Module { name, .. } => command.arg("-m").arg(name),
    };
    command
        .args(&job.args)
        .current_dir(workdir)
        .env_clear()
        .env("PATH", script_path(interpreter))
        .envs(BASE_ENV)
        .envs(&policy.env);
    command
}

fn script_path(interpreter: &Interpreter) -> OsString {
    match &interpreter.venv_bin {
        Some(bin) => {
            let mut path = bin.as_os_str().to_owned();
            path.push(":");
            path.push(SCRIPT_PATH);
            path
        }
        None => SCRIPT_PATH.into(),
    }
}
