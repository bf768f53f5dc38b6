//! The on-disk shape of `wasmhost.toml`. Every field is optional: what a section leaves out
//! keeps the built-in default, and the defaults grant nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginSection>,
    /// Limits of the host as a whole.
    pub host: Option<HostSection>,
    /// MCP servers whose tools a session may use (`--mcp NAME`).
    #[serde(default)]
    pub mcp: BTreeMap<String, McpSection>,
}

/// `[mcp.NAME]`: an MCP server a session may take tools from.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSection {
    /// A local server: the program and its arguments, started over stdio.
    pub command: Option<Vec<String>>,
    /// A remote server's Streamable HTTP endpoint, `https://host/mcp`.
    pub url: Option<String>,
    /// Hosts besides the URL's a remote server may send the client to (redirects).
    pub allowed_hosts: Option<Vec<String>>,
    /// The credential the host adds to a remote server's requests.
    pub secret: Option<McpSecretSection>,
    /// The folder the program starts in (default: the policy file's folder).
    pub cwd: Option<String>,
    /// Environment variables set for the program, by value.
    pub env: Option<BTreeMap<String, String>>,
    /// Names of host environment variables copied into the program's environment.
    pub inherit_env: Option<Vec<String>>,
    /// Only these of the server's tools are offered (default: all).
    pub tools: Option<Vec<String>>,
    /// These of the server's tools are never offered.
    pub deny_tools: Option<Vec<String>>,
    /// Longest one tool call may take.
    pub timeout_secs: Option<f64>,
    /// Longest the server may take to start and answer `initialize` and `tools/list`.
    pub startup_secs: Option<f64>,
    /// Bytes of one tool result handed to the model.
    pub result_kib: Option<u64>,
    /// Address space of the server process (RLIMIT_AS).
    pub memory_mib: Option<u64>,
}

/// `[mcp.NAME.secret]`: where a remote server's token comes from. It goes only to the
/// origin of the server's `url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSecretSection {
    /// The host environment variable (or `.env` entry) holding the token.
    pub env: String,
    /// The header that carries it (default `authorization`).
    pub header: Option<String>,
    /// Put before the token (default `Bearer ` for `authorization`, else nothing).
    pub prefix: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    /// Memory all live calls may use together.
    pub memory_mib: Option<u64>,
    /// Tool calls of one model turn that run at once.
    pub parallel_tools: Option<u64>,
    /// Plugin calls (tool calls, provider responses) alive at once across the host.
    pub concurrent_calls: Option<u64>,
    /// What a component may ask of the compiler (`CompileLimits`).
    pub compile: Option<CompileSection>,
}

/// `[host.compile]`: every field of `CompileLimits`, sizes in MiB or KiB as named.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileSection {
    pub component_mib: Option<u64>,
    pub code_mib: Option<u64>,
    pub functions: Option<u64>,
    pub function_kib: Option<u64>,
    pub locals: Option<u64>,
    pub stack: Option<u64>,
    pub control_depth: Option<u64>,
    pub loops: Option<u64>,
    pub loop_nesting: Option<u64>,
    pub br_table: Option<u64>,
    pub cfg_ops: Option<u64>,
    pub call_indirect: Option<u64>,
    pub loop_pressure: Option<u64>,
    pub total_cfg_ops: Option<u64>,
    pub total_cfg_cost: Option<u64>,
    pub total_loops: Option<u64>,
    pub total_loop_pressure: Option<u64>,
    pub timeout_secs: Option<f64>,
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
    /// A provider's API root (`https://api.example.com/v1`): the destination it may use.
    /// A provider that is not one of the host's presets gets none until one is granted here
    /// or with `--base-url`.
    pub base_url: Option<String>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u64>,
    pub timeout_secs: Option<f64>,
    pub output_kib: Option<u64>,
    /// Live host-side resources (files, streams, HTTP handles) one call may hold.
    pub host_resources: Option<u64>,
    /// Bytes of text and tool calls in one provider response.
    pub response_kib: Option<u64>,
    /// Events in one streamed response.
    pub stream_events: Option<u64>,
    /// Longest a stream may go without progress.
    pub stall_secs: Option<f64>,
    /// Tool calls one response may ask for.
    pub max_tool_calls: Option<u64>,
    /// Bytes of one tool result handed to the model.
    pub result_kib: Option<u64>,
    /// Bytes of one tool's name, description and schema.
    pub tool_spec_kib: Option<u64>,
    /// Tools one plugin may offer.
    pub max_tools: Option<u64>,
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
    /// The host environment variable (or `.env` entry) holding the secret.
    pub env: String,
    /// The request header that carries it, e.g. `authorization`. Default for a provider:
    /// the preset's, else the header the plugin declares (checked).
    pub header: Option<String>,
    /// Put before the secret, e.g. `Bearer `. Default as for `header`.
    pub prefix: Option<String>,
    /// The only origin whose requests get the header: `https://api.example.com`,
    /// `http://127.0.0.1:8080`, or a bare `host[:port]` meaning https. Default for a
    /// provider: its base URL's origin.
    pub host: Option<String>,
}
