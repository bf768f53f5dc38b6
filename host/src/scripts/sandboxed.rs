//! Sandboxed mode: CPython compiled to WASI (the `python-runner` component), run in this
//! host's sandbox. (Being written: see the issue "Skills".)

use std::path::PathBuf;
use std::sync::Arc;

use super::{ResolvedJob, ScriptFailure, ScriptRun};
use crate::policy::PluginPolicy;
use crate::sandbox::Sandbox;

/// Overrides where the Python runner component is looked for.
pub const PYTHON_RUNNER_ENV: &str = "WASMHOST_PYTHON_RUNNER";

pub struct SandboxedPython {
    component: Option<PathBuf>,
}

impl SandboxedPython {
    pub fn new(component: Option<PathBuf>) -> Self {
        Self { component }
    }

    pub async fn run(
        &self,
        _sandbox: &Arc<Sandbox>,
        _policy: &PluginPolicy,
        _job: &ResolvedJob,
    ) -> Result<ScriptRun, ScriptFailure> {
        Err(ScriptFailure::Unavailable(format!(
            "the sandboxed Python runner is not built yet ({:?})",
            self.component
        )))
    }
}
