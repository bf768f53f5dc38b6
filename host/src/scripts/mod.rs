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

use crate::BoxFuture;
pub use crate::caps::script_bridge::{ScriptFailure, ScriptJob, ScriptRun, ScriptRunner};
use crate::policy::{PluginPolicy, PythonMode};
use crate::sandbox::Sandbox;

pub use resolve::{ResolvedJob, ScriptSource};
pub use sandboxed::{PYTHON_RUNNER_ENV, RUNTIME_NAME, SandboxedPython};

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
