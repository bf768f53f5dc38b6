//! `[mcp.NAME]`: what the user grants an MCP server whose tools a session uses. A local
//! server is a program the host starts only because the policy names it, in a scrubbed
//! environment (only the variables named here), its own process group, a memory limit and
//! the folder named here. That is containment, not a sandbox: the program runs with the
//! user's rights on the files it can reach.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::credentials::SecretSources;
use super::file::McpSection;
use super::headers::check_header_text;
use super::redact::MIN_SECRET_CHARS;
use super::{HostPattern, Origin, Secret, check_credential_header};

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
    /// How the host reaches the server: a program it starts, or a URL.
    pub transport: McpTransport,
    /// `None`: every tool the server lists.
    pub tools: Option<Vec<String>>,
    pub deny_tools: Vec<String>,
    pub call_timeout: Duration,
    pub startup: Duration,
    pub result_bytes: usize,
}

/// A local server (`command`) or a remote one (`url`).
#[derive(Debug, Clone)]
pub enum McpTransport {
    Local(LocalMcpServer),
    Remote(RemoteMcpServer),
}

/// A program the host starts, speaking MCP over its stdio.
#[derive(Debug, Clone)]
pub struct LocalMcpServer {
    /// The program and its arguments.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment the program gets.
    pub env: BTreeMap<String, String>,
    pub memory_bytes: u64,
}

/// A Streamable HTTP endpoint. The client may reach the URL's origin and the
/// `allowed_hosts`, nothing else; the credential goes to the URL's origin only.
#[derive(Debug, Clone)]
pub struct RemoteMcpServer {
    pub url: String,
    pub origin: Origin,
    /// The URL's origin first, then `allowed_hosts`.
    pub allowed_hosts: Vec<HostPattern>,
    pub credential: Option<McpCredential>,
}

/// A remote server's token: read from `env` when a session uses the server.
#[derive(Debug, Clone, Serialize)]
pub struct McpCredential {
    /// The variable it is read from (shown; the value never is).
    pub env: String,
    /// A lower-case header name that passed [`check_credential_header`].
    pub header: String,
    pub prefix: String,
    /// `None` until granted ([`McpServerPolicy::grant_credential`]).
    pub value: Option<Secret>,
}

impl McpServerPolicy {
    /// Whether the policy lets the session offer the server's tool `tool`.
    pub fn offers(&self, tool: &str) -> bool {
        self.tools
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|t| t == tool))
            && !self.deny_tools.iter().any(|t| t == tool)
    }

    /// Reads a remote server's token from `sources` (the environment, then `.env`).
    pub fn grant_credential(&mut self, sources: &SecretSources) -> Result<(), String> {
        let McpTransport::Remote(remote) = &mut self.transport else {
            return Ok(());
        };
        let Some(credential) = &mut remote.credential else {
            return Ok(());
        };
        let Some(value) = sources.lookup(&credential.env) else {
            return Err(format!(
                "`secret.env = \"{}\"`: the variable is not set in the environment or ./.env; \
                 set it to the server's token",
                credential.env
            ));
        };
        let value = value.trim().to_string();
        if value.chars().count() < MIN_SECRET_CHARS {
            return Err(format!(
                "`{}` holds fewer than {MIN_SECRET_CHARS} characters, too short to be a token \
                 and too short to keep out of output",
                credential.env
            ));
        }
        check_header_text(&value).map_err(|reason| format!("`{}`: {reason}", credential.env))?;
        credential.value = Some(Secret::new(value));
        Ok(())
    }

    /// The granted token, if the server has one.
    pub fn secret(&self) -> Option<&Secret> {
        match &self.transport {
            McpTransport::Remote(RemoteMcpServer {
                credential: Some(c),
                ..
            }) => c.value.as_ref(),
            _ => None,
        }
    }
}

/// Resolves a section; `env_var` reads the host's environment (for `inherit_env`). A
/// remote server's token is read later, by [`McpServerPolicy::grant_credential`], so a
/// policy naming a server the session does not use loads without its token.
pub(super) fn resolve(
    name: &str,
    section: &McpSection,
    base_dir: &Path,
    env_var: impl Fn(&str) -> Option<String>,
) -> Result<McpServerPolicy, String> {
    let transport = match (&section.command, &section.url) {
        (Some(_), Some(_)) => {
            return Err("give `command` (a local server) or `url` (a remote one), not both".into());
        }
        (None, Some(url)) => McpTransport::Remote(remote(section, url)?),
        (_, None) => McpTransport::Local(local(section, base_dir, env_var)?),
    };
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
    Ok(McpServerPolicy {
        name: name.to_string(),
        transport,
        tools: section.tools.clone(),
        deny_tools: section.deny_tools.clone().unwrap_or_default(),
        call_timeout: secs(
            "timeout_secs",
            section.timeout_secs,
            DEFAULT_MCP_CALL_TIMEOUT,
        )?,
        startup: secs("startup_secs", section.startup_secs, DEFAULT_MCP_STARTUP)?,
        result_bytes,
    })
}

fn local(
    section: &McpSection,
    base_dir: &Path,
    env_var: impl Fn(&str) -> Option<String>,
) -> Result<LocalMcpServer, String> {
    for (key, set) in [
        ("allowed_hosts", section.allowed_hosts.is_some()),
        ("secret", section.secret.is_some()),
    ] {
        if set {
            return Err(format!(
                "`{key}` is for a remote server (`url = \"https://…/mcp\"`); a local server \
                 is given its environment with `env` and `inherit_env`"
            ));
        }
    }
    let Some(command) = section.command.clone().filter(|c| !c.is_empty()) else {
        return Err(
            "`command` or `url` is missing: give the program and its arguments, e.g. \
             command = [\"uvx\", \"mcp-server-fetch\"], or a remote server's \
             url = \"https://example.com/mcp\""
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
    let memory_bytes = match section.memory_mib {
        None => DEFAULT_MCP_MEMORY_BYTES,
        Some(0) => return Err("`memory_mib = 0` leaves the server no memory".into()),
        Some(mib) => mib.saturating_mul(1 << 20),
    };
    Ok(LocalMcpServer {
        command,
        cwd,
        env,
        memory_bytes,
    })
}

fn remote(section: &McpSection, url: &str) -> Result<RemoteMcpServer, String> {
    for (key, set) in [
        ("cwd", section.cwd.is_some()),
        ("env", section.env.is_some()),
        ("inherit_env", section.inherit_env.is_some()),
        ("memory_mib", section.memory_mib.is_some()),
    ] {
        if set {
            return Err(format!(
                "`{key}` is for a local server (`command = [...]`); a remote server runs \
                 elsewhere"
            ));
        }
    }
    let url = url.trim().to_string();
    let origin = Origin::of_url(&url).map_err(|e| format!("`url`: {e}"))?;
    if url.contains(['?', '#']) {
        return Err(format!(
            "`url = \"{url}\"`: give the endpoint without a query or fragment (a token \
             belongs in [mcp.NAME.secret], where it is kept out of output)"
        ));
    }
    let mut allowed_hosts = vec![HostPattern::for_origin(&origin)];
    for entry in section.allowed_hosts.iter().flatten() {
        allowed_hosts.push(HostPattern::parse(entry).map_err(|e| format!("`allowed_hosts`: {e}"))?);
    }
    let credential = match &section.secret {
        None => None,
        Some(secret) => {
            if secret.env.trim().is_empty() {
                return Err("`secret.env` is empty: name the variable that holds the token".into());
            }
            if origin.scheme() == "http" && !origin.is_loopback() {
                return Err(format!(
                    "`url = \"{url}\"` is plain http to another machine: the token would \
                     travel unencrypted; use https"
                ));
            }
            let header =
                check_credential_header(secret.header.as_deref().unwrap_or("authorization"))
                    .map_err(|reason| format!("`secret.header`: {reason}"))?;
            let prefix = match &secret.prefix {
                Some(prefix) => prefix.clone(),
                None if header == "authorization" => "Bearer ".to_string(),
                None => String::new(),
            };
            check_header_text(&prefix).map_err(|reason| format!("`secret.prefix`: {reason}"))?;
            Some(McpCredential {
                env: secret.env.trim().to_string(),
                header,
                prefix,
                value: None,
            })
        }
    };
    Ok(RemoteMcpServer {
        url,
        origin,
        allowed_hosts,
        credential,
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
        let McpTransport::Local(local) = &p.transport else {
            panic!("a local server");
        };
        assert_eq!(local.command, ["python3", "server.py"]);
        assert_eq!(local.cwd, Path::new("/etc/wh"));
        assert_eq!(
            local.env.iter().collect::<Vec<_>>(),
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
            ("cwd = \"x\"", "`command` or `url` is missing"),
            ("command = []", "`command` or `url` is missing"),
            ("command = [\"x\"]\nurl = \"https://x/mcp\"", "not both"),
            ("url = \"ftp://x/mcp\"", "only http:// and https://"),
            ("url = \"https://x/mcp?token=abc\"", "without a query"),
            (
                "url = \"https://x/mcp\"\ncwd = \"y\"",
                "`cwd` is for a local server",
            ),
            (
                "command = [\"x\"]\nallowed_hosts = [\"y\"]",
                "for a remote server",
            ),
            (
                "url = \"https://x/mcp\"\nallowed_hosts = [\"a/b\"]",
                "`allowed_hosts`",
            ),
            (
                "url = \"http://example.com/mcp\"\nsecret = { env = \"T\" }",
                "use https",
            ),
            (
                "url = \"https://x/mcp\"\nsecret = { env = \"T\", header = \"host\" }",
                "`secret.header`",
            ),
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

    #[test]
    fn a_remote_server_may_reach_its_origin_and_the_named_hosts_and_gets_its_token_late() {
        let s = section(
            "url = \"https://mcp.example.com/v1/mcp\"\nallowed_hosts = [\"auth.example.com\"]\n[secret]\nenv = \"EX_TOKEN\"",
        );
        let mut p = resolve("ex", &s, Path::new("."), |_| None).expect("resolves");
        let McpTransport::Remote(remote) = &p.transport else {
            panic!("a remote server");
        };
        assert!(remote.allowed_hosts[0].allows("https", "mcp.example.com", None));
        assert!(!remote.allowed_hosts[0].allows("http", "mcp.example.com", None));
        assert!(remote.allowed_hosts[1].allows("https", "auth.example.com", None));
        let credential = remote.credential.as_ref().expect("credential");
        assert_eq!(
            (credential.header.as_str(), credential.prefix.as_str()),
            ("authorization", "Bearer ")
        );
        assert!(p.secret().is_none(), "not read when the policy loads");

        let mut sources = SecretSources::default();
        let err = p.grant_credential(&sources).expect_err("unset");
        assert!(err.contains("EX_TOKEN") && err.contains("not set"), "{err}");
        sources.environment = Some([("EX_TOKEN".to_string(), "short".to_string())].into());
        let err = p.grant_credential(&sources).expect_err("short");
        assert!(err.contains("fewer than"), "{err}");
        sources.environment =
            Some([("EX_TOKEN".to_string(), "tok\nen-with-a-break".to_string())].into());
        assert!(
            p.grant_credential(&sources).is_err(),
            "a line break would forge headers"
        );
        sources.environment =
            Some([("EX_TOKEN".to_string(), "  s3cret-token-value ".to_string())].into());
        p.grant_credential(&sources).expect("granted");
        assert_eq!(p.secret().map(Secret::expose), Some("s3cret-token-value"));
        assert!(
            !format!("{p:?}").contains("s3cret"),
            "never in Debug output"
        );

        let plain = section(
            "url = \"http://127.0.0.1:9/mcp\"\nsecret = { env = \"T\", header = \"X-Api-Key\" }",
        );
        let p = resolve("lo", &plain, Path::new("."), |_| None)
            .expect("loopback http may carry a token");
        let McpTransport::Remote(remote) = &p.transport else {
            panic!("remote");
        };
        let credential = remote.credential.as_ref().expect("credential");
        assert_eq!(
            (credential.header.as_str(), credential.prefix.as_str()),
            ("x-api-key", "")
        );
    }
}
