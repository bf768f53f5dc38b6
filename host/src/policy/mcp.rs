//! `[mcp.NAME]`: what the user grants an MCP server whose tools a session uses. A local
//! server is a program the host starts only because the policy names it, in a scrubbed
//! environment (only the variables named here), its own process group, a memory limit and
//! the folder named here. That is containment, not a sandbox: the program runs with the
//! user's rights on the files it can reach.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::McpSection;

/// How long one MCP tool call may take unless the section says otherwise.
pub const DEFAULT_MCP_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to start, answer `initialize` and list its tools.
pub const DEFAULT_MCP_STARTUP: Duration = Duration::from_secs(30);
/// Bytes of one MCP tool result handed to the model unless the section says otherwise
/// (longer results are cut, and say so).
pub const DEFAULT_MCP_RESULT_BYTES: usize = 256 * 1024;
/// Address space of a local server unless the section says otherwise: room for a Python
/// or Node runtime and its libraries.
pub const DEFAULT_MCP_MEMORY_BYTES: u64 = 4 << 30;

/// One MCP server's grants, resolved.
#[derive(Debug, Clone)]
pub struct McpServerPolicy {
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment the program gets.
    pub env: BTreeMap<String, String>,
    /// `None`: every tool the server lists.
    pub tools: Option<Vec<String>>,
    pub deny_tools: Vec<String>,
    pub call_timeout: Duration,
    pub startup: Duration,
    pub result_bytes: usize,
    pub memory_bytes: u64,
}

impl McpServerPolicy {
    /// Whether the policy lets the session offer the server's tool `tool`.
    pub fn offers(&self, tool: &str) -> bool {
        self.tools
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|t| t == tool))
            && !self.deny_tools.iter().any(|t| t == tool)
    }
}

/// Resolves a section; `env_var` reads the host's environment (for `inherit_env`).
pub(super) fn resolve(
    name: &str,
    section: &McpSection,
    base_dir: &Path,
    env_var: impl Fn(&str) -> Option<String>,
) -> Result<McpServerPolicy, String> {
    if section.url.is_some() {
        return Err(
            "`url`: remote (Streamable HTTP) MCP servers are not supported yet; run the \
             server locally with `command = [...]`"
                .into(),
        );
    }
    let Some(command) = section.command.clone().filter(|c| !c.is_empty()) else {
        return Err(
            "`command` is missing: give the program and its arguments, e.g. \
                    command = [\"uvx\", \"mcp-server-fetch\"]"
                .into(),
        );
    };
    if command[0].trim().is_empty() {
        return Err("`command`: the program name is empty".into());
    }
    let cwd = match &section.cwd {
        Some(dir) => base_dir.join(dir),
        None => base_dir.to_path_buf(),
    };
    let mut env = BTreeMap::new();
    for var in section.inherit_env.iter().flatten() {
        if let Some(value) = env_var(var) {
            env.insert(var.clone(), value);
        }
    }
    for (key, value) in section.env.iter().flatten() {
        if key.is_empty() || key.contains('=') || key.contains('\0') || value.contains('\0') {
            return Err(format!("`env`: `{key}` is not a valid variable"));
        }
        env.insert(key.clone(), value.clone());
    }
    let secs = |key: &str, value: Option<f64>, default: Duration| match value {
        None => Ok(default),
        Some(secs) => Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("`{key} = {secs}` is not a positive number of seconds")),
    };
    let result_bytes = match section.result_kib {
        None => DEFAULT_MCP_RESULT_BYTES,
        Some(0) => return Err("`result_kib = 0` would hand the model nothing".into()),
        Some(kib) => usize::try_from(kib.saturating_mul(1024)).unwrap_or(usize::MAX),
    };
    let memory_bytes = match section.memory_mib {
        None => DEFAULT_MCP_MEMORY_BYTES,
        Some(0) => return Err("`memory_mib = 0` leaves the server no memory".into()),
        Some(mib) => mib.saturating_mul(1 << 20),
    };
    Ok(McpServerPolicy {
        name: name.to_string(),
        command,
        cwd,
        env,
        tools: section.tools.clone(),
        deny_tools: section.deny_tools.clone().unwrap_or_default(),
        call_timeout: secs(
            "timeout_secs",
            section.timeout_secs,
            DEFAULT_MCP_CALL_TIMEOUT,
        )?,
        startup: secs("startup_secs", section.startup_secs, DEFAULT_MCP_STARTUP)?,
        result_bytes,
        memory_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> McpSection {
        toml::from_str(text).expect("section")
    }

    #[test]
    fn a_section_resolves_with_named_defaults_and_only_the_variables_it_names() {
        let s = section(
            "command = [\"python3\", \"server.py\"]\ninherit_env = [\"HOME\", \"NOPE\"]\nenv = { MODE = \"test\" }\ndeny_tools = [\"rm\"]",
        );
        let env = |v: &str| (v == "HOME").then(|| "/home/u".to_string());
        let p = resolve("demo", &s, Path::new("/etc/wh"), env).expect("resolves");
        assert_eq!(p.command, ["python3", "server.py"]);
        assert_eq!(p.cwd, Path::new("/etc/wh"));
        assert_eq!(
            p.env.iter().collect::<Vec<_>>(),
            [
                (&"HOME".to_string(), &"/home/u".to_string()),
                (&"MODE".to_string(), &"test".to_string())
            ]
        );
        assert_eq!(p.call_timeout, DEFAULT_MCP_CALL_TIMEOUT);
        assert_eq!(p.result_bytes, DEFAULT_MCP_RESULT_BYTES);
        assert!(p.offers("fetch"));
        assert!(!p.offers("rm"));
        let only = section("command = [\"x\"]\ntools = [\"a\"]\ndeny_tools = [\"a\"]");
        let p = resolve("x", &only, Path::new("."), |_| None).expect("resolves");
        assert!(!p.offers("a"), "deny wins over allow");
        assert!(!p.offers("b"), "not on the allow-list");
    }

    #[test]
    fn bad_sections_say_what_to_write() {
        for (text, says) in [
            ("url = \"https://x/mcp\"", "not supported yet"),
            ("cwd = \"x\"", "`command` is missing"),
            ("command = []", "`command` is missing"),
            ("command = [\"\"]", "program name is empty"),
            ("command = [\"x\"]\ntimeout_secs = 0", "`timeout_secs = 0`"),
            ("command = [\"x\"]\nresult_kib = 0", "result_kib = 0"),
            (
                "command = [\"x\"]\nenv = { \"A=B\" = \"c\" }",
                "not a valid variable",
            ),
        ] {
            let err = resolve("x", &section(text), Path::new("."), |_| None).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
