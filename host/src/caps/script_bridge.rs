//! The `script-bridge` interface: a tool plugin asks the host to run a skill's Python, and
//! the host does it under that plugin's policy. This capability defines the service it
//! calls ([`ScriptRunner`]); `scripts` has the runners that implement it.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};

use super::{Capability, PluginState, Prepare, StoreError};
use crate::BoxFuture;
use crate::bindings::script_bridge::{self, ScriptError, ScriptOutput, ScriptRequest};
use crate::policy::PluginPolicy;
use crate::runtime::CallClock;

/// What a plugin asked to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScriptJob {
    /// The skill whose folder the script sees.
    pub skill: String,
    /// Inline code; exactly one of `code`, `script` and `module` is set.
    pub code: Option<String>,
    /// A path inside the skill folder, e.g. `scripts/convert.py`.
    pub script: Option<String>,
    /// A module of the skill, run as `python -m` runs it, e.g. `scripts.office.unpack`.
    pub module: Option<String>,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    /// Input files, written into the script's working folder before it runs.
    pub files: Vec<ScriptFile>,
}

/// A file a plugin hands a script: a relative path and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFile {
    pub path: String,
    pub content: String,
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

/// Something that can run a skill's Python for a plugin: a service the host configures
/// once ([`super::Services::scripts`]) and every instance's bridge holds.
pub trait ScriptRunner: Send + Sync {
    /// Readies what a run in `policy`'s mode needs (compiles the sandboxed runtime on
    /// first use). Host work: the caller does not charge it to the plugin's clock.
    fn prepare<'a>(
        &'a self,
        _policy: &'a PluginPolicy,
    ) -> BoxFuture<'a, Result<(), ScriptFailure>> {
        Box::pin(async { Ok(()) })
    }

    fn run<'a>(
        &'a self,
        policy: &'a PluginPolicy,
        job: ScriptJob,
    ) -> BoxFuture<'a, Result<ScriptRun, ScriptFailure>>;
}

/// Per-instance state of the `script-bridge` interface.
pub struct ScriptBridge {
    runner: Option<Arc<dyn ScriptRunner>>,
    policy: Arc<PluginPolicy>,
    /// The calling plugin's clock: it stands still while the host readies the runner.
    clock: Arc<CallClock>,
}

impl Capability for ScriptBridge {
    fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            runner: instance.services.scripts.clone(),
            policy: instance.policy.clone(),
            clock: instance.clock.clone(),
        })
    }

    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        script_bridge::add_to_linker::<_, HasSelf<ScriptBridge>>(linker, |state| {
            &mut state.caps.scripts
        })?;
        crate::bindings::add_older_script_bridge_to_linker(linker)
    }
}

impl crate::bindings::ServesScripts for PluginState {
    type Bridge = ScriptBridge;
    fn script_bridge(&mut self) -> &mut ScriptBridge {
        &mut self.caps.scripts
    }
}

impl script_bridge::Host for ScriptBridge {
    async fn run_python(&mut self, request: ScriptRequest) -> Result<ScriptOutput, ScriptError> {
        let Some(runner) = &self.runner else {
            return Err(ScriptError::Unavailable(
                "this host has no Python runner configured, so skills cannot run scripts"
                    .to_string(),
            ));
        };
        let job = ScriptJob {
            skill: request.skill,
            code: request.code,
            script: request.script,
            module: request.module,
            args: request.args,
            stdin: request.stdin,
            files: request
                .files
                .into_iter()
                .map(|f| ScriptFile {
                    path: f.path,
                    content: f.content,
                })
                .collect(),
        };
        // Readying the runner (compiling the Python runtime on first use) is the host's
        // work, not the plugin's: the plugin's clock stands still meanwhile.
        let ready = {
            let _host_work = self.clock.pause();
            runner.prepare(&self.policy).await
        };
        let result = match ready {
            Ok(()) => runner.run(&self.policy, job).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(run) => Ok(ScriptOutput {
                stdout: run.stdout,
                stderr: run.stderr,
                exit_code: run.exit_code,
                timed_out: run.timed_out,
                truncated: run.truncated,
                duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
            }),
            Err(ScriptFailure::InvalidRequest(m)) => Err(ScriptError::InvalidRequest(m)),
            Err(ScriptFailure::Denied(m)) => Err(ScriptError::Denied(m)),
            Err(ScriptFailure::Unavailable(m)) => Err(ScriptError::Unavailable(m)),
        }
    }
}
