//! What each plugin may do. A plugin starts with nothing: no folders, no network, no
//! environment, no config. Grants come from the built-in defaults of shipped plugins, the
//! policy file (`wasmhost.toml`) and command-line flags, and are checked in `grants`.

pub mod credentials;
mod file;
mod grants;
mod headers;
mod hosts;
mod limits;
pub mod redact;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use file::Access;
pub use grants::{Capability, Denial};
pub use headers::check_credential_header;
pub use hosts::{HostPattern, HostPatternError, Origin, OriginError};
pub use limits::*;
pub use redact::Redactor;

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
}

/// The whole policy: per-plugin sections, resolved against the file's folder.
#[derive(Debug, Default)]
pub struct Policy {
    sections: BTreeMap<String, file::PluginSection>,
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
            host,
            base_dir,
            source: Some(path.to_path_buf()),
        };
        // Resolve every section now so a bad entry is reported at start-up, not mid-run.
        for name in policy.sections.keys() {
            policy.for_plugin(name)?;
        }
        Ok(policy)
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

/// Applies a section's `[fuel, memory_mib, output_kib]` and `timeout_secs` to `limits`.
fn apply_limits(
    limits: &mut Limits,
    [fuel, memory_mib, output_kib]: [Option<u64>; 3],
    timeout_secs: Option<f64>,
) -> Result<(), String> {
    if let Some(fuel) = fuel {
        limits.fuel = fuel;
    }
    if let Some(mib) = memory_mib {
        let bytes = mib.saturating_mul(1 << 20);
        if bytes > MAX_MEMORY_BYTES {
            return Err(format!(
                "memory_mib = {mib} is above the host's ceiling of {} MiB",
                MAX_MEMORY_BYTES >> 20
            ));
        }
        limits.memory_bytes = bytes;
    }
    if let Some(secs) = timeout_secs {
        limits.timeout = Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("timeout_secs = {secs} is not a positive number"))?;
    }
    if let Some(kib) = output_kib {
        limits.output_bytes = usize::try_from(kib.saturating_mul(1024)).unwrap_or(usize::MAX);
    }
    Ok(())
}

/// Checks a `secret` section. The variable is read only when the secret is granted (see
/// `credentials`), so a section for a plugin this run does not use never fails it.
fn secret_request(secret: &file::SecretSection) -> Result<SecretRequest, String> {
    if secret.env.trim().is_empty() {
        return Err("[secret] env is empty: name the variable that holds the secret".into());
    }
    let header = match &secret.header {
        Some(h) => Some(check_credential_header(h).map_err(|e| format!("[secret] header: {e}"))?),
        None => None,
    };
    if let Some(prefix) = &secret.prefix {
        headers::check_header_text(prefix).map_err(|e| format!("[secret] prefix: {e}"))?;
    }
    let origin = match &secret.host {
        Some(h) => Some(Origin::of_entry(h).map_err(|e| format!("[secret] host: {e}"))?),
        None => None,
    };
    Ok(SecretRequest {
        env: secret.env.clone(),
        header,
        prefix: secret.prefix.clone(),
        origin,
    })
}

fn positive(key: &str, n: u64) -> Result<usize, String> {
    usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{key} = {n} must be a positive whole number"))
}

fn positive_secs(key: &str, secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{key} = {secs} is not a positive number of seconds"))
}

fn kib(key: &str, n: u64) -> Result<usize, String> {
    positive(key, n).map(|n| n.saturating_mul(1024))
}

fn apply_content_limits(c: &mut ContentLimits, s: &file::PluginSection) -> Result<(), String> {
    if let Some(n) = s.response_kib {
        c.response_bytes = kib("response_kib", n)?;
    }
    if let Some(n) = s.stream_events {
        c.stream_events = positive("stream_events", n)? as u64;
    }
    if let Some(secs) = s.stall_secs {
        c.stall = positive_secs("stall_secs", secs)?;
    }
    if let Some(n) = s.result_kib {
        c.tool_result_bytes = kib("result_kib", n)?;
    }
    if let Some(n) = s.tool_spec_kib {
        c.tool_spec_bytes = kib("tool_spec_kib", n)?;
    }
    if let Some(n) = s.max_tools {
        c.max_tools = positive("max_tools", n)?;
    }
    Ok(())
}

fn apply_compile_limits(c: &mut CompileLimits, s: &file::CompileSection) -> Result<(), String> {
    let mib = |key, n: u64| positive(key, n).map(|n| (n as u64).saturating_mul(1 << 20));
    let count = |key, n: u64| positive(key, n).map(|n| n as u64);
    if let Some(n) = s.component_mib {
        c.component_bytes = mib("component_mib", n)?;
    }
    if let Some(n) = s.code_mib {
        c.code_bytes = mib("code_mib", n)?;
    }
    if let Some(n) = s.function_kib {
        c.function_bytes = kib("function_kib", n)? as u64;
    }
    for (key, value, slot) in [
        ("functions", s.functions, &mut c.functions),
        ("locals", s.locals, &mut c.locals),
        ("stack", s.stack, &mut c.stack),
        ("control_depth", s.control_depth, &mut c.control_depth),
        ("loops", s.loops, &mut c.loops),
        ("loop_nesting", s.loop_nesting, &mut c.loop_nesting),
        ("br_table", s.br_table, &mut c.br_table),
        ("cfg_ops", s.cfg_ops, &mut c.cfg_ops),
        ("call_indirect", s.call_indirect, &mut c.call_indirect),
        ("loop_pressure", s.loop_pressure, &mut c.loop_pressure),
        ("total_cfg_ops", s.total_cfg_ops, &mut c.total_cfg_ops),
        ("total_cfg_cost", s.total_cfg_cost, &mut c.total_cfg_cost),
        ("total_loops", s.total_loops, &mut c.total_loops),
        (
            "total_loop_pressure",
            s.total_loop_pressure,
            &mut c.total_loop_pressure,
        ),
    ] {
        if let Some(n) = value {
            *slot = count(key, n)?;
        }
    }
    if let Some(secs) = s.timeout_secs {
        c.timeout = positive_secs("timeout_secs", secs)?;
    }
    Ok(())
}

fn resolve_host_limits(section: Option<&file::HostSection>) -> Result<HostLimits, String> {
    let mut limits = HostLimits::default();
    let Some(s) = section else {
        return Ok(limits);
    };
    if let Some(mib) = s.memory_mib {
        limits.total_memory_bytes = (positive("memory_mib", mib)? as u64).saturating_mul(1 << 20);
    }
    if let Some(n) = s.parallel_tools {
        limits.parallel_tools = positive("parallel_tools", n)?;
    }
    if let Some(section) = &s.compile {
        apply_compile_limits(&mut limits.compile, section)?;
    }
    Ok(limits)
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
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, Path::new("/etc/wasmhost/wasmhost.toml"))
    }

    #[test]
    fn unknown_plugin_gets_nothing() {
        let p = parse("").expect("empty policy").for_plugin("x").expect("x");
        assert!(p.allowed_hosts.is_empty() && p.folders.is_empty() && p.env.is_empty());
        assert_eq!(p.limits, Limits::default());
    }

    #[test]
    fn section_overrides_fields_and_resolves_folders() {
        let p = parse(
            r#"
            [plugins.demo]
            allowed_hosts = ["127.0.0.1:8080"]
            env = { LANG = "C" }
            config = { base-url = "http://127.0.0.1:8080/v1" }
            fuel = 1000
            memory_mib = 64
            timeout_secs = 1.5
            folders = [{ host = "data", guest = "/data" }, { host = "/tmp/out", guest = "/out", access = "rw" }]
            "#,
        )
        .expect("valid")
        .for_plugin("demo")
        .expect("demo");
        assert_eq!(p.limits.fuel, 1000);
        assert_eq!(p.limits.memory_bytes, 64 << 20);
        assert_eq!(p.limits.timeout, Duration::from_millis(1500));
        assert_eq!(p.folders[0].host, Path::new("/etc/wasmhost/data"));
        assert_eq!(p.folders[0].access, Access::Ro);
        assert_eq!(p.folders[1].access, Access::Rw);
        assert_eq!(p.env["LANG"], "C");
        assert_eq!(p.config["base-url"], "http://127.0.0.1:8080/v1");
    }

    #[test]
    fn typos_are_errors_with_location() {
        let err = parse("[plugins.demo]\nallowed_host = [\"x\"]\n").expect_err("typo");
        let text = err.to_string();
        assert!(text.contains("allowed_host"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn bad_values_name_the_plugin() {
        for bad in [
            "[plugins.demo]\nallowed_hosts = [\"https://x/v1\"]",
            "[plugins.demo]\nbase_url = \"api.x.com\"",
            "[plugins.demo]\nresult_kib = 0",
            "[plugins.demo]\nstall_secs = -1",
            "[plugins.demo.secret]\nenv = \"K\"\nheader = \"cookie\"",
            "[plugins.demo.secret]\nenv = \"K\"\nhost = \"ftp://x\"",
            "[plugins.demo.secret]\nenv = \"K\"\nprefix = \"a\\nb\"",
            "[plugins.demo]\nmemory_mib = 999999",
            "[plugins.demo]\ntimeout_secs = 0",
            "[plugins.demo]\nfolders = [{ host = \"a\", guest = \"rel\" }]",
        ] {
            let text = parse(bad).expect_err(bad).to_string();
            assert!(text.contains("plugin `demo`"), "{text}");
        }
    }

    #[test]
    fn content_and_host_limits_are_read() {
        let policy = parse(
            "[host]\nmemory_mib = 512\nparallel_tools = 2\n[host.compile]\ntimeout_secs = 5\nloops = 7\n\
             [plugins.demo]\nresult_kib = 4\nresponse_kib = 8\nstream_events = 9\n\
             stall_secs = 1.5\ntool_spec_kib = 2\nmax_tools = 3\nhost_resources = 64\n\
             base_url = \"https://api.x.com/v1/\"\n\
             [plugins.demo.secret]\nenv = \"X_KEY\"\n",
        )
        .expect("valid");
        assert_eq!(policy.host.total_memory_bytes, 512 << 20);
        assert_eq!(policy.host.parallel_tools, 2);
        assert_eq!(policy.host.compile.timeout, Duration::from_secs(5));
        assert_eq!(policy.host.compile.loops, 7);
        let p = policy.for_plugin("demo").expect("demo");
        assert_eq!(p.content.tool_result_bytes, 4096);
        assert_eq!(p.content.response_bytes, 8192);
        assert_eq!(p.content.stream_events, 9);
        assert_eq!(p.content.stall, Duration::from_millis(1500));
        assert_eq!(p.content.tool_spec_bytes, 2048);
        assert_eq!(p.content.max_tools, 3);
        assert_eq!(p.limits.host_resources, 64);
        assert_eq!(p.base_url.as_deref(), Some("https://api.x.com/v1"));
        let request = p.secret_request.expect("request");
        assert_eq!(request.env, "X_KEY");
        // Read only when granted, never at parse time.
        assert!(p.secret.is_none());
        let bad = parse("[host]\nmemory_mib = 0\n").expect_err("zero");
        assert!(bad.to_string().contains("[host]"), "{bad}");
    }

    #[test]
    fn python_section_sets_mode_interpreter_and_script_limits() {
        let p = parse(
            "[plugins.skills.python]\nmode = \"native\"\ninterpreter = \"venv/bin/python\"\ntimeout_secs = 5\n",
        )
        .expect("valid")
        .for_plugin("skills")
        .expect("skills");
        assert_eq!(p.python.mode, PythonMode::Native);
        assert_eq!(
            p.python.interpreter.as_deref(),
            Some(Path::new("/etc/wasmhost/venv/bin/python"))
        );
        assert_eq!(p.python.limits.timeout, Duration::from_secs(5));
        assert_eq!(p.python.limits.fuel, DEFAULT_SCRIPT_FUEL);
        let d = parse("")
            .expect("empty")
            .for_plugin("skills")
            .expect("skills");
        assert_eq!(d.python.mode, PythonMode::Sandboxed);
        let bad = parse("[plugins.skills.python]\nmode = \"docker\"\n").expect_err("unknown mode");
        assert!(bad.to_string().contains("docker"), "{bad}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk-very-secret");
        assert!(!format!("{s:?}").contains("sk-"));
        assert!(!serde_json::to_string(&s).expect("json").contains("sk-"));
    }
}
