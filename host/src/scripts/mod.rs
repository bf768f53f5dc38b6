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

use std::path::PathBuf;
use std::sync::Arc;

use crate::BoxFuture;
pub use crate::caps::script_bridge::{
    ScriptFailure, ScriptFile, ScriptJob, ScriptRun, ScriptRunner,
};
use crate::policy::{PluginPolicy, PythonMode};
use crate::runtime::Runtime;
use crate::sandbox::{Sandbox, SandboxError, SandboxOptions};

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

/// A sandbox whose plugins can run skills' Python: sandboxed mode runs the CPython
/// component at `python` (see [`SandboxedPython::locate`]; `None` answers `unavailable`)
/// in a sandbox of its own on the same runtime, so scripts share the runtime's engine,
/// cache, memory pool and limits, and link no `script-bridge` of their own.
/// `options.scripts` is not used: the runner is this sandbox's Python.
pub fn python_sandbox(
    options: SandboxOptions,
    python: Option<PathBuf>,
) -> Result<Arc<Sandbox>, SandboxError> {
    let (runtime, logs, _) = options.split();
    let runtime = Runtime::new(runtime)?;
    let scripts = Sandbox::on(runtime.clone(), logs.clone(), None)?;
    let host = ScriptHost::new(SandboxedPython::new(python, scripts));
    Sandbox::on(runtime, logs, Some(Arc::new(host)))
}

impl ScriptRunner for ScriptHost {
    fn prepare<'a>(&'a self, policy: &'a PluginPolicy) -> BoxFuture<'a, Result<(), ScriptFailure>> {
        Box::pin(async move {
            match policy.python.mode {
                PythonMode::Sandboxed => self.sandboxed.prepare().await,
                PythonMode::Native => Ok(()),
            }
        })
    }

    fn run<'a>(
        &'a self,
        policy: &'a PluginPolicy,
        job: ScriptJob,
    ) -> BoxFuture<'a, Result<ScriptRun, ScriptFailure>> {
        Box::pin(async move {
            let resolved = resolve::resolve(policy, job)?;
            match policy.python.mode {
                PythonMode::Sandboxed => self.sandboxed.run(policy, &resolved).await,
                PythonMode::Native => native::run(policy, &resolved).await,
            }
        })
    }
}
