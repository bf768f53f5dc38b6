//! What every subcommand shares: the policy file, the sandbox, and how plugins are loaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use wasmhost::plugin::{self, Plugin, World};
use wasmhost::policy::Policy;
use wasmhost::policy::credentials::{SecretSources, grant_tool};
use wasmhost::sandbox::{Compiler, ComponentCache, Sandbox, SandboxOptions};
use wasmhost::scripts::{SandboxedPython, ScriptHost};

use super::logs;

pub struct Environment {
    pub policy: Policy,
    pub sandbox: Arc<Sandbox>,
    /// Where granted secrets are read from: the environment and `./.env`.
    pub sources: SecretSources,
}

impl Environment {
    pub fn from_flags(config: Option<&Path>, no_cache: bool, verbose: u8) -> Result<Self> {
        let policy = match policy_path(config)? {
            Some(path) => Policy::load(&path)?,
            None => Policy::default(),
        };
        let cache = if no_cache {
            ComponentCache::disabled()
        } else {
            ComponentCache::default_location()
        };
        let sandbox = Sandbox::new(SandboxOptions {
            cache,
            logs: logs::stderr_sink(verbose),
            progress: logs::stderr_progress(),
            // The runner component loads on first use, so a host without it works until a
            // skill script needs sandboxed Python, and then says how to get it.
            scripts: Some(Arc::new(ScriptHost::new(SandboxedPython::new(
                SandboxedPython::locate(),
            )))),
            limits: policy.host,
            // A compile runs in a child process, so its deadline can stop it.
            compiler: std::env::current_exe()
                .map(|program| Compiler::Subprocess {
                    program,
                    args: vec![super::COMPILE_COMMAND.to_string()],
                })
                .unwrap_or_default(),
            ..SandboxOptions::default()
        })?;
        Ok(Self {
            policy,
            sandbox,
            sources: SecretSources::standard(),
        })
    }

    /// Loads a plugin by name or path under its policy, with `skills` granted read-only
    /// when given.
    pub async fn load(&self, spec: &str, skills: Option<&Path>) -> Result<Plugin> {
        let source = plugin::locate(spec)?;
        let mut grants = self.policy.for_plugin(&source.name)?;
        if let Some(dir) = skills {
            if !dir.is_dir() {
                anyhow::bail!(super::UsageError(format!(
                    "--skills {}: not a folder",
                    dir.display()
                )));
            }
            // Absolute, so `inspect` shows and the sandbox opens exactly this folder.
            let dir = dir
                .canonicalize()
                .with_context(|| format!("--skills {}", dir.display()))?;
            grants.grant_skills_folder(dir);
        }
        let mut plugin = Plugin::load_async(&self.sandbox, source, grants)
            .await
            .with_context(|| format!("cannot load plugin `{spec}`"))?;
        // A tool's secret is granted now; a provider's when its destination is known.
        if plugin.world == World::Tool && plugin.policy.secret_request.is_some() {
            let mut policy = (*plugin.policy).clone();
            grant_tool(&mut policy, &self.sources)?;
            plugin.set_policy(policy);
        }
        Ok(plugin)
    }
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
