//! The on-disk shape of `wasmhost.toml`. Every field is optional: what a section leaves out
//! keeps the built-in default, and the defaults grant nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginSection>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Hosts the plugin may send HTTP requests to (see `HostPattern`).
    pub allowed_hosts: Option<Vec<String>>,
    /// Folders the plugin sees; read-only unless `access = "rw"`.
    pub folders: Option<Vec<FolderSection>>,
    /// Environment variables set for the plugin, by value.
    pub env: Option<BTreeMap<String, String>>,
    /// Names of host environment variables copied into the plugin's environment.
    pub inherit_env: Option<Vec<String>>,
    /// Key/values the plugin reads through the `host.get-config` import.
    pub config: Option<BTreeMap<String, String>>,
    /// A credential the host adds to the plugin's outbound requests.
    pub secret: Option<SecretSection>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u64>,
    pub timeout_secs: Option<f64>,
    pub output_kib: Option<u64>,
    /// How this plugin's skill scripts run (the script bridge).
    pub python: Option<PythonSection>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonSection {
    /// `sandboxed` (default): CPython compiled to WASI, in the sandbox. `native`: a real
    /// interpreter on the host (the skill's virtualenv, or `interpreter`).
    pub mode: Option<PythonModeName>,
    /// The interpreter for native mode when the skill has no `.venv/` or `venv/`.
    pub interpreter: Option<String>,
    /// Native mode: run in a scratch copy of the skill folder instead of the folder itself.
    pub scratch_copy: Option<bool>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u64>,
    pub timeout_secs: Option<f64>,
    pub output_kib: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PythonModeName {
    Sandboxed,
    Native,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSection {
    /// A host path; relative paths are relative to the policy file's folder.
    pub host: String,
    /// Where the plugin sees it, e.g. `/data`.
    pub guest: String,
    #[serde(default)]
    pub access: Access,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    Ro,
    Rw,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSection {
    /// The host environment variable holding the secret.
    pub env: String,
    /// The request header that carries it, e.g. `authorization`.
    pub header: String,
    /// Put before the secret, e.g. `Bearer `.
    #[serde(default)]
    pub prefix: String,
    /// The only host (pattern) whose requests get the header.
    pub host: String,
}
