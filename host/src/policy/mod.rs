//! What each plugin may do. A plugin starts with nothing: no folders, no network, no
//! environment, no config. Grants come from the built-in defaults of shipped plugins, the
//! policy file (`wasmhost.toml`) and command-line flags, and are checked in `grants`.

pub mod credentials;
mod file;
mod grants;
mod headers;
mod hosts;
mod limits;
mod mcp;
pub mod redact;
mod sections;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use file::Access;
pub use grants::{Capability, Denial};
pub use headers::check_credential_header;
pub use hosts::{HostPattern, HostPatternError, Origin, OriginError};
pub use limits::*;
pub use mcp::{
    DEFAULT_MCP_CALL_TIMEOUT, DEFAULT_MCP_MEMORY_BYTES, DEFAULT_MCP_RESULT_BYTES,
    DEFAULT_MCP_STARTUP, LocalMcpServer, McpCredential, McpServerPolicy, McpTransport,
    RemoteMcpServer,
};
pub use redact::Redactor;
use sections::{apply_content_limits, apply_limits, positive, resolve_host_limits, secret_request};

/// The guest path where a tool plugin sees the skills folder given with `--skills`.
pub const SKILLS_GUEST_PATH: &str = "/skills";

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid policy file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid policy for plugin `{plugin}`: {message}")]
    Invalid { plugin: String, message: String },
    #[error("invalid [mcp.{server}] in the policy: {message}")]
    InvalidMcp { server: String, message: String },
    #[error("{0}")]
    UnknownMcp(String),
}

/// The whole policy: per-plugin sections, resolved against the file's folder.
#[derive(Debug, Default)]
pub struct Policy {
    sections: BTreeMap<String, file::PluginSection>,
    /// The `[mcp.NAME]` sections.
    mcp: BTreeMap<String, file::McpSection>,
    /// Limits of the host as a whole (`[host]`).
    pub host: HostLimits,
    /// Relative folder paths in the file are relative to this.
    base_dir: PathBuf,
    source: Option<PathBuf>,
}

/// Everything one plugin is granted.
#[derive(Debug, Clone, Serialize)]
pub struct PluginPolicy {
    pub name: String,
    #[serde(serialize_with = "serialize_display_list")]
    pub allowed_hosts: Vec<HostPattern>,
    pub folders: Vec<FolderGrant>,
    pub env: BTreeMap<String, String>,
    pub config: BTreeMap<String, String>,
    /// The credential the HTTP gate adds, once granted (see `credentials`).
    pub secret: Option<SecretGrant>,
    /// The user's `[plugins.NAME.secret]` section, before it is granted.
    pub secret_request: Option<SecretRequest>,
    /// The user's `base_url` for a provider.
    pub base_url: Option<String>,
    pub limits: Limits,
    /// What the plugin may hand the host (responses, results, tool descriptions).
    pub content: ContentLimits,
    /// How the plugin's skill scripts run.
    pub python: PythonPolicy,
}

/// How skill scripts run through the script bridge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PythonPolicy {
    pub mode: PythonMode,
    /// Native mode's interpreter when the skill has no virtualenv.
    pub interpreter: Option<PathBuf>,
    /// Native mode: run in a scratch copy of the skill folder.
    pub scratch_copy: bool,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PythonMode {
    /// CPython compiled to WASI, in the sandbox: the default.
    Sandboxed,
    /// A host interpreter, opted into per plugin.
    Native,
}

impl Default for PythonPolicy {
    fn default() -> Self {
        Self {
            mode: PythonMode::Sandboxed,
            interpreter: None,
            scratch_copy: false,
            limits: Limits::script_defaults(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FolderGrant {
    pub host: PathBuf,
    pub guest: String,
    pub access: Access,
}

/// A credential the host adds to requests to one origin (scheme, host and port). The
/// plugin never sees `value`.
#[derive(Debug, Clone, Serialize)]
pub struct SecretGrant {
    /// A lower-case header name that passed [`check_credential_header`].
    pub header: String,
    pub prefix: String,
    #[serde(serialize_with = "serialize_display")]
    pub origin: Origin,
    pub value: Secret,
    /// Where the value came from, for `inspect`: e.g. `OPENAI_API_KEY (preset)`.
    pub source: String,
}

/// A `[plugins.NAME.secret]` section: which variable holds the secret, and optionally its
/// header, prefix and origin (a provider's are filled in from its preset, declaration and
/// base URL when it is granted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretRequest {
    pub env: String,
    pub header: Option<String>,
    pub prefix: Option<String>,
    #[serde(serialize_with = "serialize_display_opt")]
    pub origin: Option<Origin>,
}

/// A secret value: never printed, serialized or logged.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

impl Policy {
    /// Reads a policy file. Unknown keys are errors, so a typo never silently grants
    /// nothing.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses policy text as if it were read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PolicyError> {
        let parsed: file::PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let host =
            resolve_host_limits(parsed.host.as_ref()).map_err(|message| PolicyError::Parse {
                path: path.to_path_buf(),
                message: format!("[host]: {message}"),
            })?;
        let policy = Self {
            sections: parsed.plugins,
            mcp: parsed.mcp,
            host,
            base_dir,
            source: Some(path.to_path_buf()),
        };
        // Resolve every section now so a bad entry is reported at start-up, not mid-run.
        for name in policy.sections.keys() {
            policy.for_plugin(name)?;
        }
        for name in policy.mcp.keys() {
            policy.mcp_section(name)?;
        }
        Ok(policy)
    }

    /// The grants of MCP server `name` (`[mcp.NAME]`); a server the policy does not name
    /// is refused: only the user starts programs or reaches servers.
    pub fn mcp_server(&self, name: &str) -> Result<McpServerPolicy, PolicyError> {
        self.mcp_server_with(name, &credentials::SecretSources::standard())
    }

    /// [`Policy::mcp_server`] with the token (of a remote server) read from `sources`.
    pub fn mcp_server_with(
        &self,
        name: &str,
        sources: &credentials::SecretSources,
    ) -> Result<McpServerPolicy, PolicyError> {
        let mut server = self.mcp_section(name)?;
        server
            .grant_credential(sources)
            .map_err(|message| PolicyError::InvalidMcp {
                server: name.to_string(),
                message,
            })?;
        Ok(server)
    }

    /// `[mcp.NAME]` resolved, without reading a remote server's token.
    fn mcp_section(&self, name: &str) -> Result<McpServerPolicy, PolicyError> {
        let Some(section) = self.mcp.get(name) else {
            let known: Vec<&str> = self.mcp.keys().map(String::as_str).collect();
            let file = self
                .source
                .as_ref()
                .map_or("wasmhost.toml".to_string(), |p| p.display().to_string());
            return Err(PolicyError::UnknownMcp(format!(
                "--mcp {name}: no [mcp.{name}] section in {file}{}; add one, e.g.\n  \
                 [mcp.{name}]\n  command = [\"uvx\", \"mcp-server-fetch\"]",
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it names: {})", known.join(", "))
                }
            )));
        };
        mcp::resolve(name, section, &self.base_dir, |var| std::env::var(var).ok()).map_err(
            |message| PolicyError::InvalidMcp {
                server: name.to_string(),
                message,
            },
        )
    }

    /// Where this policy came from, if a file.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Whether the file sets plugin `name`'s time limit (so a caller's own default for
    /// that kind of plugin must not override it).
    pub fn sets_timeout(&self, name: &str) -> bool {
        self.sections
            .get(name)
            .is_some_and(|s| s.timeout_secs.is_some())
    }

    /// The grants of plugin `name`: built-in defaults, overridden field by field by its
    /// section in the file.
    pub fn for_plugin(&self, name: &str) -> Result<PluginPolicy, PolicyError> {
        let mut policy = PluginPolicy::deny_all(name);
        let Some(section) = self.sections.get(name) else {
            return Ok(policy);
        };
        let invalid = |message: String| PolicyError::Invalid {
            plugin: name.to_string(),
            message,
        };
        if let Some(hosts) = &section.allowed_hosts {
            policy.allowed_hosts = hosts
                .iter()
                .map(|h| HostPattern::parse(h))
                .collect::<Result<_, _>>()
                .map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(folders) = &section.folders {
            for folder in folders {
                if !folder.guest.starts_with('/') {
                    return Err(invalid(format!(
                        "folder guest path `{}` must be absolute, like /data",
                        folder.guest
                    )));
                }
                policy.folders.push(FolderGrant {
                    host: self.base_dir.join(&folder.host),
                    guest: folder.guest.clone(),
                    access: folder.access,
                });
            }
        }
        if let Some(env) = &section.env {
            policy.env.extend(env.clone());
        }
        for var in section.inherit_env.iter().flatten() {
            if let Ok(value) = std::env::var(var) {
                policy.env.insert(var.clone(), value);
            }
        }
        if let Some(config) = &section.config {
            policy.config.extend(config.clone());
        }
        if let Some(secret) = &section.secret {
            policy.secret_request = Some(secret_request(secret).map_err(invalid)?);
        }
        if let Some(url) = &section.base_url {
            Origin::of_url(url).map_err(|e| invalid(format!("base_url: {e}")))?;
            policy.base_url = Some(url.trim_end_matches('/').to_string());
        }
        apply_limits(
            &mut policy.limits,
            [section.fuel, section.memory_mib, section.output_kib],
            section.timeout_secs,
        )
        .map_err(invalid)?;
        if let Some(n) = section.host_resources {
            policy.limits.host_resources = positive("host_resources", n).map_err(invalid)?;
        }
        apply_content_limits(&mut policy.content, section).map_err(invalid)?;
        if let Some(python) = &section.python {
            let p = &mut policy.python;
            if let Some(mode) = python.mode {
                p.mode = match mode {
                    file::PythonModeName::Sandboxed => PythonMode::Sandboxed,
                    file::PythonModeName::Native => PythonMode::Native,
                };
            }
            p.interpreter = python.interpreter.as_ref().map(|i| self.base_dir.join(i));
            p.scratch_copy = python.scratch_copy.unwrap_or(false);
            apply_limits(
                &mut p.limits,
                [python.fuel, python.memory_mib, python.output_kib],
                python.timeout_secs,
            )
            .map_err(|m| invalid(format!("[plugins.{name}.python]: {m}")))?;
        }
        Ok(policy)
    }
}

impl PluginPolicy {
    /// Nothing granted, default limits.
    pub fn deny_all(name: &str) -> Self {
        Self {
            name: name.to_string(),
            allowed_hosts: Vec::new(),
            folders: Vec::new(),
            env: BTreeMap::new(),
            config: BTreeMap::new(),
            secret: None,
            secret_request: None,
            base_url: None,
            limits: Limits::default(),
            content: ContentLimits::default(),
            python: PythonPolicy::default(),
        }
    }

    /// What must never leave the host in anything it writes: this plugin's granted secret.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.secret.iter().map(|s| s.value.expose()))
    }

    /// The host folder granted at [`SKILLS_GUEST_PATH`], if any.
    pub fn skills_folder(&self) -> Option<&Path> {
        self.folders
            .iter()
            .find(|f| f.guest == SKILLS_GUEST_PATH)
            .map(|f| f.host.as_path())
    }

    /// Grants the skills folder read-only at [`SKILLS_GUEST_PATH`], replacing any folder
    /// already mapped there.
    pub fn grant_skills_folder(&mut self, host: PathBuf) {
        self.folders.retain(|f| f.guest != SKILLS_GUEST_PATH);
        self.folders.push(FolderGrant {
            host,
            guest: SKILLS_GUEST_PATH.to_string(),
            access: Access::Ro,
        });
    }
}

fn serialize_display<T: fmt::Display, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn serialize_display_opt<T: fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

fn serialize_display_list<T: fmt::Display, S: serde::Serializer>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.to_string()))
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
