//! Sandboxed mode: CPython compiled to WASI (the `python-runner` component, built from
//! `runtimes/python/` by `just python-runner`), run in this host's sandbox.
//!
//! Each run gets a fresh instance whose policy grants the skill's folder read-only at
//! `/skill`, a new temporary folder read-write at `/scratch` (the working directory,
//! holding only the request's input files, deleted afterwards), `/dev/stdin` (the input, read-only), the calling
//! plugin's environment and nothing else: no hosts, no other folders. It runs under the plugin's script limits
//! (`[plugins.NAME.python]`). A script that crosses one is the script's failure, reported
//! as a [`ScriptRun`] with exit code -1 ([`outcome::KILLED_EXIT_CODE`]), not a host
//! error.

mod bindings;
mod outcome;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::OnceCell;

use self::bindings::{PythonRunnerPre, RunRequest, Source};
use super::{ResolvedJob, ScriptFailure, ScriptRun, ScriptSource};
use crate::caps::PluginState;
use crate::caps::StoreError;
use crate::policy::{Access, FolderGrant, PluginPolicy};
use crate::runtime::budget;
use crate::sandbox::Sandbox;

/// Overrides where the Python runner component is looked for.
pub const PYTHON_RUNNER_ENV: &str = "WASMHOST_PYTHON_RUNNER";

/// Where a script sees its skill's folder (read-only).
pub const SKILL_GUEST_PATH: &str = "/skill";

/// Where a script sees its scratch folder (read-write, its working directory).
pub const SCRATCH_GUEST_PATH: &str = "/scratch";

/// Where a script finds `stdin`: the request's input as a file, for scripts that take a
/// path (`convert.py /dev/stdin`). Nothing else is there.
pub const DEV_GUEST_PATH: &str = "/dev";

/// How progress and errors name the runner.
pub const RUNTIME_NAME: &str = "the Python runtime";

/// The component's file, relative to the folder of the `wasmhost` executable.
const RUNNER_FILE: &str = "runtimes/python.wasm";

pub struct SandboxedPython {
    component: Option<PathBuf>,
    /// Where scripts run: a sandbox with no script runner of its own.
    sandbox: Arc<Sandbox>,
    loaded: OnceCell<PythonRunnerPre<PluginState>>,
}

impl SandboxedPython {
    /// Runs the component at `component` (see [`SandboxedPython::locate`]) in `sandbox`;
    /// `None` makes every run answer `unavailable`. The component is loaded on first use.
    pub fn new(component: Option<PathBuf>, sandbox: Arc<Sandbox>) -> Self {
        Self {
            component,
            sandbox,
            loaded: OnceCell::new(),
        }
    }

    /// Where the runner is: `$WASMHOST_PYTHON_RUNNER` if set, else `runtimes/python.wasm`
    /// next to the executable, else `../runtimes/python.wasm` from the executable's folder
    /// (so test binaries in `target/debug/deps` find `target/debug/runtimes`).
    pub fn locate() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(PYTHON_RUNNER_ENV).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        [dir.join(RUNNER_FILE), dir.join("..").join(RUNNER_FILE)]
            .into_iter()
            .find(|candidate| candidate.is_file())
    }

    /// Loads (the first time: compiles) the runner, so that a run that follows starts at
    /// once.
    pub async fn prepare(&self) -> Result<(), ScriptFailure> {
        self.loaded.get_or_try_init(|| self.load()).await?;
        Ok(())
    }

    pub async fn run(
        &self,
        policy: &PluginPolicy,
        job: &ResolvedJob,
    ) -> Result<ScriptRun, ScriptFailure> {
        let pre = self.loaded.get_or_try_init(|| self.load()).await?.clone();
        let sandbox = &self.sandbox;
        let scratch = tempfile::Builder::new()
            .prefix("wasmhost-scratch-")
            .tempdir()
            .map_err(|e| {
                ScriptFailure::Unavailable(format!("cannot create a scratch folder: {e}"))
            })?;
        super::resolve::write_files(scratch.path(), &job.files).await?;
        // `/dev/stdin` for scripts that take a path: a read-only folder holding the input.
        let dev = tempfile::Builder::new()
            .prefix("wasmhost-dev-")
            .tempdir()
            .and_then(|dev| {
                std::fs::write(
                    dev.path().join("stdin"),
                    job.stdin.as_deref().unwrap_or_default(),
                )?;
                Ok(dev)
            })
            .map_err(|e| ScriptFailure::Unavailable(format!("cannot create /dev/stdin: {e}")))?;
        let grants = Arc::new(script_policy(
            policy,
            &job.skill_dir,
            scratch.path(),
            dev.path(),
        ));
        let unavailable = |e: StoreError| {
            ScriptFailure::Unavailable(format!("cannot set up the sandboxed Python: {e}"))
        };
        let mut store = sandbox.new_store(&grants).map_err(unavailable)?;
        sandbox.rearm(&mut store, &grants).map_err(unavailable)?;
        // Kept outside the store: a run stopped at its deadline leaves the store behind,
        // and its output so far is still the script's.
        let output = store.data().output().clone();
        let request = RunRequest {
            source: match &job.source {
                ScriptSource::Code(code) => Source::Code(code.clone()),
                ScriptSource::File(path) => Source::Script(path.to_string_lossy().into_owned()),
                ScriptSource::Module { name, .. } => Source::Code(run_module(name)),
            },
            args: job.args.clone(),
            stdin: job.stdin.clone().unwrap_or_default(),
            max_output_bytes: u64::try_from(grants.limits.output_bytes).unwrap_or(u64::MAX),
        };
        let started = Instant::now();
        let (_store, result) = budget::run(
            store,
            &grants.name,
            &grants.limits,
            Box::new(move |store| {
                Box::pin(async move {
                    let instance = pre.instantiate_async(&mut *store).await?;
                    instance.call_run(&mut *store, &request).await
                })
            }),
        )
        .await;
        let duration = started.elapsed();
        outcome::describe(result, &output, &grants, duration)
    }

    async fn load(&self) -> Result<PythonRunnerPre<PluginState>, ScriptFailure> {
        let sandbox = &self.sandbox;
        let Some(path) = self.component.clone() else {
            return Err(not_installed(None));
        };
        let wasm = tokio::fs::read(&path)
            .await
            .map_err(|e| not_installed(Some((&path, e))))?;
        let cannot_load = |message: String| {
            ScriptFailure::Unavailable(format!(
                "the sandboxed Python runner {} cannot be loaded: {message}; rebuild it with \
                 `just python-runner`",
                path.display()
            ))
        };
        // Compiling is seconds of CPU the first time (then a cache hit): keep it off the
        // async workers.
        let compiler = sandbox.clone();
        let compiled = tokio::task::spawn_blocking(move || compiler.compile(&wasm, RUNTIME_NAME))
            .await
            .map_err(|e| cannot_load(e.to_string()))?;
        let (component, _cache) = compiled.map_err(|e| cannot_load(format!("{e:#}")))?;
        sandbox
            .linker()
            .instantiate_pre(&component)
            .and_then(PythonRunnerPre::new)
            .map_err(|e| cannot_load(format!("{e:#}")))
    }
}

/// Inline code that runs skill module `name` as `python -m` would from the skill folder:
/// the skill folder first on `sys.path`, the module as `__main__`, `sys.argv[0]` its file.
/// The preflight follows the literal `runpy.run_module` into the module's own imports.
fn run_module(name: &str) -> String {
    // JSON strings are Python string literals (the name is checked to be ASCII, so there
    // is not even an escape in it).
    let literal = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        "import runpy, sys\nsys.path.insert(0, {})\n\
         runpy.run_module({}, run_name=\"__main__\", alter_sys=True)\n",
        literal(SKILL_GUEST_PATH),
        literal(name)
    )
}

fn not_installed(looked_at: Option<(&Path, std::io::Error)>) -> ScriptFailure {
    let detail = match looked_at {
        Some((path, e)) => format!(" ({}: {e})", path.display()),
        None => String::new(),
    };
    ScriptFailure::Unavailable(format!(
        "the sandboxed Python runner is not installed: run `just python-runner` (or set \
         {PYTHON_RUNNER_ENV}){detail}"
    ))
}

/// What a script may touch: its skill read-only, its scratch folder, the calling
/// plugin's environment, no network, under the plugin's script limits. Named
/// `PLUGIN.python` so a limit's message points at `[plugins.PLUGIN.python]`, the section
/// that raises it.
fn script_policy(
    plugin: &PluginPolicy,
    skill_dir: &Path,
    scratch: &Path,
    dev: &Path,
) -> PluginPolicy {
    let mut grants = PluginPolicy::deny_all(&format!("{}.python", plugin.name));
    grants.folders = vec![
        FolderGrant {
            host: skill_dir.to_path_buf(),
            guest: SKILL_GUEST_PATH.to_string(),
            access: Access::Ro,
        },
        FolderGrant {
            host: scratch.to_path_buf(),
            guest: SCRATCH_GUEST_PATH.to_string(),
            access: Access::Rw,
        },
        FolderGrant {
            host: dev.to_path_buf(),
            guest: DEV_GUEST_PATH.to_string(),
            access: Access::Ro,
        },
    ];
    grants.env = plugin.env.clone();
    grants.limits = plugin.python.limits;
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_policy_grants_only_the_skill_scratch_and_env() {
        let mut plugin = PluginPolicy::deny_all("skills");
        plugin.env.insert("LANG".into(), "C".into());
        plugin.config.insert("model".into(), "x".into());
        plugin.grant_skills_folder("/srv/skills".into());
        plugin.python.limits.fuel = 7;
        let grants = script_policy(
            &plugin,
            Path::new("/srv/skills/demo"),
            Path::new("/tmp/s"),
            Path::new("/tmp/d"),
        );
        assert_eq!(grants.name, "skills.python");
        assert_eq!(grants.folders.len(), 3);
        assert_eq!(grants.folders[2].guest, DEV_GUEST_PATH);
        assert_eq!(grants.folders[2].access, Access::Ro);
        assert_eq!(grants.folders[0].guest, SKILL_GUEST_PATH);
        assert_eq!(grants.folders[0].access, Access::Ro);
        assert_eq!(grants.folders[1].guest, SCRATCH_GUEST_PATH);
        assert_eq!(grants.folders[1].access, Access::Rw);
        assert_eq!(grants.env, plugin.env);
        assert!(grants.allowed_hosts.is_empty() && grants.config.is_empty());
        assert!(grants.secret.is_none());
        assert_eq!(grants.limits.fuel, 7);
    }

    #[tokio::test]
    async fn a_missing_runner_is_unavailable_with_the_fix() {
        let sandbox = Sandbox::new(crate::sandbox::SandboxOptions {
            cache: crate::runtime::ComponentCache::disabled(),
            ..Default::default()
        })
        .expect("sandbox");
        let python = SandboxedPython::new(Some("/nonexistent/python.wasm".into()), sandbox);
        let job = ResolvedJob {
            skill: "demo".into(),
            skill_dir: std::env::temp_dir(),
            source: ScriptSource::Code("print(1)".into()),
            args: Vec::new(),
            stdin: None,
            files: Vec::new(),
        };
        let failure = python
            .run(&PluginPolicy::deny_all("skills"), &job)
            .await
            .expect_err("no runner");
        let ScriptFailure::Unavailable(message) = failure else {
            panic!("{failure:?}");
        };
        assert!(message.contains("just python-runner"), "{message}");
        assert!(message.contains("/nonexistent/python.wasm"), "{message}");
    }
}
