//! What every subcommand shares: the policy file, the sandbox, and how plugins are loaded.

use std::path::{Path, PathBuf};

use anyhow::Result;
use wasmhost::plugin::Plugin;
use wasmhost::policy::Policy;
use wasmhost::policy::credentials::SecretSources;
use wasmhost::runtime::{Compiler, ComponentCache};
use wasmhost::sandbox::SandboxOptions;
use wasmhost::scripts::{SandboxedPython, python_sandbox};
use wasmhost::session::{HostEnv, SessionError};

use super::logs;

/// What every subcommand shares: the library's host environment.
pub type Environment = HostEnv;

/// The host environment from the global flags: the policy file, the compile cache, plugin
/// logs and compile progress on stderr, compiles in a child process.
pub fn from_flags(config: Option<&Path>, no_cache: bool, verbose: u8) -> Result<Environment> {
    let policy = match policy_path(config)? {
        Some(path) => Policy::load(&path)?,
        None => Policy::default(),
    };
    let cache = if no_cache {
        ComponentCache::disabled()
    } else {
        ComponentCache::default_location()
    };
    // The runner component loads on first use, so a host without it works until a skill
    // script needs sandboxed Python, and then says how to get it.
    let options = SandboxOptions {
        cache,
        logs: logs::stderr_sink(verbose),
        progress: logs::stderr_progress(),
        limits: policy.host,
        // A compile runs in a child process, so its deadline can stop it.
        compiler: std::env::current_exe()
            .map(|program| Compiler::Subprocess {
                program,
                args: vec![super::COMPILE_COMMAND.to_string()],
            })
            .unwrap_or_default(),
        ..SandboxOptions::default()
    };
    let sandbox = python_sandbox(options, SandboxedPython::locate())?;
    Ok(HostEnv {
        policy,
        sandbox,
        sources: SecretSources::standard(),
    })
}

/// A session error as the CLI reports it: a mistake in the command's use exits with 2.
pub fn cli_error(error: SessionError) -> anyhow::Error {
    match error {
        SessionError::Usage(message) => anyhow::Error::new(super::UsageError(message)),
        other => anyhow::Error::new(other),
    }
}

/// [`HostEnv::load`] for a subcommand.
pub async fn load(env: &Environment, spec: &str, skills: Option<&Path>) -> Result<Plugin> {
    env.load(spec, skills).await.map_err(cli_error)
}

/// The explicit file if given (it must exist), else `./wasmhost.toml`, else the user's
/// config folder, else none.
fn policy_path(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(path) = explicit {
        if !path.is_file() {
            anyhow::bail!(super::UsageError(format!(
                "policy file {} does not exist",
                path.display()
            )));
        }
        return Ok(Some(path.to_path_buf()));
    }
    let local = PathBuf::from("wasmhost.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    let user = directories::ProjectDirs::from("", "", "wasmhost")
        .map(|d| d.config_dir().join("wasmhost.toml"));
    Ok(user.filter(|p| p.is_file()))
}
