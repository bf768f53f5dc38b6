//! Loading a session's plugins under the policy: each gets its own section's grants, a
//! provider its destination and credential (or the replay provider its cassette), the
//! skills plugin the skills folder and no other plugin.

use std::path::Path;
use std::sync::Arc;

use super::SessionError;
use crate::plugin::{self, Plugin, ToolPlugin, World};
use crate::plugin::{Collisions, PluginProvider, PluginToolBox};
use crate::policy::credentials::{
    CredentialNeed, Declared, ProviderFlags, SecretSources, grant_provider, grant_tool,
};
use crate::policy::{Access, DEFAULT_PROVIDER_TIMEOUT, FolderGrant, PluginPolicy, Policy};
use crate::sandbox::Sandbox;

/// What every conversation of a host shares: the policy, the sandbox, and where granted
/// secrets are read from.
pub struct HostEnv {
    pub policy: Policy,
    pub sandbox: Arc<Sandbox>,
    /// The environment and `./.env`.
    pub sources: SecretSources,
}

/// The plugin `skills` folders are granted to.
pub const SKILLS_PLUGIN: &str = "skills";

/// The provider that answers from a cassette instead of an API.
const REPLAY_PROVIDER: &str = "replay";
/// Where the cassette's folder appears inside the provider.
const CASSETTE_GUEST_DIR: &str = "/cassette";

impl HostEnv {
    /// Loads a plugin by name or path under its policy, with `skills` granted read-only
    /// when given; a tool plugin gets the secret its policy grants it.
    pub async fn load(&self, spec: &str, skills: Option<&Path>) -> Result<Plugin, SessionError> {
        let source = plugin::locate(spec)?;
        let mut grants = self.policy.for_plugin(&source.name)?;
        if let Some(dir) = skills {
            if !dir.is_dir() {
                return Err(SessionError::Usage(format!(
                    "--skills {}: not a folder",
                    dir.display()
                )));
            }
            // Absolute, so `inspect` shows and the sandbox opens exactly this folder.
            let dir = dir.canonicalize().map_err(|source| SessionError::Io {
                what: format!("--skills {}", dir.display()),
                source,
            })?;
            grants.grant_skills_folder(dir);
        }
        let mut plugin = Plugin::load_async(&self.sandbox, source, grants)
            .await
            .map_err(|source| SessionError::Load {
                spec: spec.to_string(),
                source,
            })?;
        // A tool's secret is granted now; a provider's when its destination is known.
        if plugin.world == World::Tool && plugin.policy.secret_request.is_some() {
            let mut policy = (*plugin.policy).clone();
            grant_tool(&mut policy, &self.sources)?;
            plugin.set_policy(policy);
        }
        Ok(plugin)
    }

    /// Loads a provider plugin and grants it its destination and credential.
    pub async fn provider(
        &self,
        spec: &str,
        flags: ProviderFlags<'_>,
    ) -> Result<PluginProvider, SessionError> {
        self.provider_with(spec, flags, None, false).await
    }

    /// [`HostEnv::provider`], with `cassette` granted when given, or asked for when
    /// `conversing` with the `replay` provider (which has nothing to say without one).
    pub(super) async fn provider_with(
        &self,
        spec: &str,
        flags: ProviderFlags<'_>,
        cassette: Option<&Path>,
        conversing: bool,
    ) -> Result<PluginProvider, SessionError> {
        let mut provider = self.load(spec, None).await?.into_provider()?;
        let name = provider.plugin().name().to_string();
        let info = provider.info().await.map_err(|source| SessionError::Info {
            provider: name.clone(),
            source,
        })?;
        let mut policy = (*provider.plugin().policy).clone();
        if !self.policy.sets_timeout(&name) {
            policy.limits.timeout = DEFAULT_PROVIDER_TIMEOUT;
        }
        let declared = Declared {
            default_base_url: info.default_base_url.clone(),
            credential: info.credential.as_ref().map(|c| CredentialNeed {
                header: c.header.clone(),
                prefix: c.prefix.clone(),
                env_var: c.env_var.clone(),
                required: c.required,
            }),
        };
        grant_provider(&mut policy, flags, &declared, &self.sources)?;
        if cassette.is_some() || (conversing && info.name == REPLAY_PROVIDER) {
            grant_cassette(&mut policy, cassette)?;
        }
        provider.set_policy(policy);
        Ok(PluginProvider::new(provider, info.default_model))
    }

    /// The tool plugins of a session. A skills folder is a grant to the skills plugin
    /// only: another tool never sees it. Two plugins offering one tool name are refused.
    pub async fn tool_box(
        &self,
        tools: &[String],
        skills: Option<&Path>,
    ) -> Result<PluginToolBox, SessionError> {
        self.tool_box_with(tools, skills, Collisions::Refuse).await
    }

    /// [`HostEnv::tool_box`], with colliding names handled as `collisions` says.
    pub async fn tool_box_with(
        &self,
        tools: &[String],
        skills: Option<&Path>,
        collisions: Collisions,
    ) -> Result<PluginToolBox, SessionError> {
        let mut plugins: Vec<ToolPlugin> = Vec::new();
        for spec in tools {
            let is_skills = plugin::locate(spec).is_ok_and(|s| s.name == SKILLS_PLUGIN);
            let grant = skills.filter(|_| is_skills);
            plugins.push(self.load(spec, grant).await?.into_tool()?);
        }
        let has_skills = plugins.iter().any(|p| p.plugin().name() == SKILLS_PLUGIN);
        if let (Some(dir), false) = (skills, has_skills) {
            plugins.push(self.load(SKILLS_PLUGIN, Some(dir)).await?.into_tool()?);
        }
        Ok(PluginToolBox::with_collisions(plugins, collisions).await?)
    }
}

/// Grants the cassette's folder read-only at [`CASSETTE_GUEST_DIR`] and tells the provider
/// the file's guest path in its `cassette` config.
fn grant_cassette(policy: &mut PluginPolicy, cassette: Option<&Path>) -> Result<(), SessionError> {
    let Some(path) = cassette else {
        return Err(SessionError::Usage(format!(
            "provider `{}` answers from a recording: give it one with --cassette FILE",
            policy.name
        )));
    };
    if !path.is_file() {
        return Err(SessionError::Usage(format!(
            "--cassette {}: no such file",
            path.display()
        )));
    }
    let path = path.canonicalize().map_err(|source| SessionError::Io {
        what: format!("--cassette {}", path.display()),
        source,
    })?;
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        return Err(SessionError::Usage(format!(
            "--cassette {}: not a file",
            path.display()
        )));
    };
    policy.folders.retain(|f| f.guest != CASSETTE_GUEST_DIR);
    policy.folders.push(FolderGrant {
        host: dir.to_path_buf(),
        guest: CASSETTE_GUEST_DIR.to_string(),
        access: Access::Ro,
    });
    policy.config.insert(
        "cassette".to_string(),
        format!("{CASSETTE_GUEST_DIR}/{}", file.to_string_lossy()),
    );
    Ok(())
}
