//! Running skills' Python for tool plugins (the host side of the `script-bridge`).
//!
//! Two modes, chosen per plugin by its policy (`[plugins.NAME.python] mode`):
//! - `sandboxed` (default): CPython compiled to WASI, in this host's sandbox, with the
//!   skill's folder read-only at `/skill`, a fresh scratch folder read-write as the working
//!   directory, no network, only the policy's environment, and the script budget;
//! - `native`: a real interpreter on the host (the skill's virtualenv, else the one the
//!   policy names), with a scrubbed environment, a process-group timeout and capped output.
//!
//! Both report stdout, stderr, the exit code, whether it timed out or was truncated, and
//! how long it took. Nothing a script does can take the host down.

mod native;
mod resolve;
mod sandboxed;

use std::sync::Arc;
use std::time::Duration;

use crate::BoxFuture;
use crate::policy::{PluginPolicy, PythonMode};
use crate::sandbox::Sandbox;

pub use resolve::{ResolvedJob, ScriptSource};
pub use sandboxed::{PYTHON_RUNNER_ENV, RUNTIME_NAME, SandboxedPython};

/// What a plugin asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptJob {
    /// The skill whose folder the script sees.
    pub skill: String,
    /// Inline code; exactly one of `code` and `script` is set.
    pub code: Option<String>,
    /// A path inside the skill folder, e.g. `scripts/convert.py`.
    pub script: Option<String>,
    pub args: Vec<String>,
    pub stdin: Option<String>,
}

/// What a script did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScriptRun {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    pub timed_out: bool,
    /// stdout or stderr passed the output cap and was cut.
    pub truncated: bool,
    pub duration: Duration,
}

/// Why a script could not be run at all (as opposed to running and failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptFailure {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("denied: {0}")]
    Denied(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Something that can run a skill's Python for a plugin.
pub trait ScriptRunner: Send + Sync {
    /// Readies what a run in `policy`'s mode needs (compiles the sandboxed runtime on
    /// first use). Host work: the caller does not charge it to the plugin's clock.
    fn prepare<'a>(
        &'a self,
        _sandbox: &'a Arc<Sandbox>,
        _policy: &'a PluginPolicy,
    ) -> BoxFuture<'a, Result<(), ScriptFailure>> {
        Box::pin(async { Ok(()) })
    }

    fn run<'a>(
        &'a self,
        sandbox: &'a Arc<Sandbox>,
        policy: &'a PluginPolicy,
        job: ScriptJob,
    ) -> BoxFuture<'a, Result<ScriptRun, ScriptFailure>>;
}

/// The host's script runner: checks the request against the plugin's grants, then runs it
/// in the mode the policy chose.
pub struct ScriptHost {
    sandboxed: SandboxedPython,
}

impl ScriptHost {
    /// `sandboxed` runs the sandboxed mode (it loads its component lazily, on first use).
    pub fn new(sandboxed: SandboxedPython) -> Self {
        Self { sandboxed }
    }
}

impl ScriptRunner for ScriptHost {
    fn prepare<'a>(
        &'a self,
        sandbox: &'a Arc<Sandbox>,
        policy: &'a PluginPolicy,
    ) -> BoxFuture<'a, Result<(), ScriptFailure>> {
        Box::pin(async move {
            match policy.python.mode {
                PythonMode::Sandboxed => self.sandboxed.prepare(sandbox).await,
                PythonMode::Native => Ok(()),
            }
        })
    }

    fn run<'a>(
        &'a self,
        sandbox: &'a Arc<Sandbox>,
        policy: &'a PluginPolicy,
        job: ScriptJob,
    ) -> BoxFuture<'a, Result<ScriptRun, ScriptFailure>> {
        Box::pin(async move {
            let resolved = resolve::resolve(policy, job)?;
            match policy.python.mode {
                PythonMode::Sandboxed => self.sandboxed.run(sandbox, policy, &resolved).await,
                PythonMode::Native => native::run(policy, &resolved).await,
            }
        })
    }
}
