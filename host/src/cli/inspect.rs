//! `wasmhost inspect PLUGIN`: what a plugin is and what it would be allowed to do.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;
use wasmhost::plugin::{ProviderInfo, ToolSpec, World};
use wasmhost::policy::PluginPolicy;
use wasmhost::runtime::CacheOutcome;

use super::config::Environment;
use super::terminal;

/// One line of the report; each is shown on one line, whatever a plugin put in it.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.push(format!($($arg)*))
    };
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A shipped plugin's name or a path to a .wasm component.
    #[arg(required_unless_present = "mcp", conflicts_with = "mcp")]
    plugin: Option<String>,
    /// Start the MCP server `[mcp.NAME]` names, and show its tools and its policy.
    #[arg(long, value_name = "NAME")]
    mcp: Option<String>,
    /// Grant this skills folder (read-only, at /skills) as `run` would.
    #[arg(long, value_name = "DIR")]
    skills: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    name: &'a str,
    path: String,
    world: World,
    api_version: String,
    compiled: CacheOutcome,
    exports: &'a [String],
    imports: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<ToolSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<ProviderInfo>,
    policy: &'a PluginPolicy,
    policy_source: Option<String>,
    /// A provider's destination and credential as they would be granted now.
    #[serde(skip_serializing_if = "Option::is_none")]
    grants: Option<Grants>,
}

#[derive(Serialize)]
struct Grants {
    base_url: String,
    credential: String,
}

pub async fn run(env: &Environment, args: InspectArgs) -> Result<ExitCode> {
    if let Some(name) = &args.mcp {
        return inspect_mcp(env, name, args.json).await;
    }
    let Some(spec) = &args.plugin else {
        anyhow::bail!(super::UsageError("give a PLUGIN or --mcp NAME".into()));
    };
    let plugin = super::config::load(env, spec, args.skills.as_deref()).await?;
    let (tools, provider, plugin) = match plugin.world {
        World::Tool => {
            let tool = plugin.into_tool()?;
            let specs = tool.list_tools().await?;
            (Some(specs), None, ToolOrProvider::Tool(tool))
        }
        World::Provider => {
            let provider = plugin.into_provider()?;
            let info = provider.info().await?;
            (None, Some(info), ToolOrProvider::Provider(provider))
        }
    };
    let p = plugin.plugin();
    let grants = provider.as_ref().map(|info| {
        let (base_url, credential) =
            super::providers::grant_status(p.name(), &p.policy, info, &env.sources);
        Grants {
            base_url,
            credential,
        }
    });
    let report = Report {
        name: p.name(),
        path: p.source.path.display().to_string(),
        world: p.world,
        api_version: format!("wasmhost:plugin@{}", p.version),
        compiled: p.cache,
        exports: &p.shape.exports,
        imports: &p.shape.imports,
        tools,
        provider,
        policy: &p.policy,
        policy_source: env.policy.source().map(|s| s.display().to_string()),
        grants,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect --mcp NAME`: the server as the session would start (or reach) it.
#[derive(Serialize)]
struct McpReport<'a> {
    name: &'a str,
    /// `local` or `remote`.
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<String>,
    /// The names only: values may be secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<Vec<&'a String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    /// Where the client may go: the url's origin, then `allowed_hosts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_hosts: Option<Vec<String>>,
    /// Which variable the token comes from and the header it travels in; never its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<McpCredentialReport<'a>>,
    tools: &'a [wasmhost::chat::ToolSpec],
    left_out: Vec<LeftOut<'a>>,
    timeout_secs: f64,
    startup_secs: f64,
    result_kib: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_mib: Option<u64>,
    policy_source: Option<String>,
}

#[derive(Serialize)]
struct McpCredentialReport<'a> {
    env: &'a str,
    header: &'a str,
}

#[derive(Serialize)]
struct LeftOut<'a> {
    tool: &'a str,
    reason: &'a str,
}

async fn inspect_mcp(env: &Environment, name: &str, json: bool) -> Result<ExitCode> {
    use wasmhost::agent::ToolBox;
    use wasmhost::policy::McpTransport;
    let policy = env.policy.mcp_server(name).map_err(|e| match e {
        wasmhost::policy::PolicyError::UnknownMcp(message) => {
            anyhow::Error::new(super::UsageError(message))
        }
        other => anyhow::Error::new(other),
    })?;
    let server = wasmhost::mcp_client::McpServerTools::start(policy)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = server.policy();
    let (local, remote) = match &p.transport {
        McpTransport::Local(local) => (Some(local), None),
        McpTransport::Remote(remote) => (None, Some(remote)),
    };
    let report = McpReport {
        name,
        kind: if local.is_some() { "local" } else { "remote" },
        command: local.map(|l| l.command.as_slice()),
        cwd: local.map(|l| l.cwd.display().to_string()),
        env: local.map(|l| l.env.keys().collect()),
        url: remote.map(|r| r.url.as_str()),
        allowed_hosts: remote.map(|r| r.allowed_hosts.iter().map(|h| h.to_string()).collect()),
        credential: remote
            .and_then(|r| r.credential.as_ref())
            .map(|c| McpCredentialReport {
                env: &c.env,
                header: &c.header,
            }),
        tools: server.specs(),
        left_out: server
            .left_out()
            .iter()
            .map(|l| LeftOut {
                tool: &l.tool,
                reason: &l.reason,
            })
            .collect(),
        timeout_secs: p.call_timeout.as_secs_f64(),
        startup_secs: p.startup.as_secs_f64(),
        result_kib: p.result_bytes / 1024,
        memory_mib: local.map(|l| l.memory_bytes >> 20),
        policy_source: env.policy.source().map(|s| s.display().to_string()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut out: Vec<String> = Vec::new();
    say!(
        out,
        "mcp server  {} (from {})",
        report.name,
        report.policy_source.as_deref().unwrap_or("?")
    );
    let names = |list: &[&String]| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if let Some(command) = report.command {
        say!(out, "command     {}", command.join(" "));
    }
    if let Some(cwd) = &report.cwd {
        say!(out, "folder      {cwd}");
    }
    if let Some(vars) = &report.env {
        say!(out, "env         {}", names(vars));
    }
    if let Some(url) = report.url {
        say!(out, "url         {url}");
    }
    if let Some(hosts) = &report.allowed_hosts {
        say!(out, "may reach   {}", hosts.join(", "));
    }
    if remote.is_some() {
        match &report.credential {
            Some(c) => say!(
                out,
                "token       from {}, in the {} header",
                c.env,
                c.header
            ),
            None => say!(out, "token       none"),
        }
    }
    match report.memory_mib {
        Some(mib) => say!(
            out,
            "limits      {} s a call, {} s to start, {} KiB a result, {mib} MiB of memory",
            report.timeout_secs,
            report.startup_secs,
            report.result_kib
        ),
        None => say!(
            out,
            "limits      {} s a call, {} s to connect, {} KiB a result",
            report.timeout_secs,
            report.startup_secs,
            report.result_kib
        ),
    }
    say!(out, "tools");
    let width = report.tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for t in report.tools {
        say!(
            out,
            "  {:width$}  {}",
            t.name,
            first_sentence(&t.description)
        );
    }
    for left in &report.left_out {
        say!(out, "left out    {}: {}", left.tool, left.reason);
    }
    for line in out {
        println!("{}", terminal::line(&line));
    }
    Ok(ExitCode::SUCCESS)
}

enum ToolOrProvider {
    Tool(wasmhost::plugin::ToolPlugin),
    Provider(wasmhost::plugin::ProviderPlugin),
}

impl ToolOrProvider {
    fn plugin(&self) -> &wasmhost::plugin::Plugin {
        match self {
            ToolOrProvider::Tool(t) => t.plugin(),
            ToolOrProvider::Provider(p) => p.plugin(),
        }
    }
}

fn print_text(r: &Report<'_>) {
    // Everything here can come from the plugin: shown, never obeyed by the terminal.
    let mut out: Vec<String> = Vec::new();
    say!(out, "plugin    {} ({})", r.name, r.path);
    say!(out, "world     {}", r.world);
    say!(out, "api       {}", r.api_version);
    let compiled = match r.compiled {
        CacheOutcome::Hit => "loaded from the compile cache",
        CacheOutcome::Compiled => "compiled now (cached for next time)",
        CacheOutcome::Replaced => "compiled now (replaced a bad cache entry)",
        CacheOutcome::Uncached => "compiled now (cache off)",
    };
    say!(out, "compiled  {compiled}");
    say!(out, "exports   {}", r.exports.join(", "));
    say!(out, "imports   {}", r.imports.join(", "));
    if let Some(tools) = &r.tools {
        say!(out, "tools");
        let width = tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in tools {
            let summary = first_sentence(&t.description);
            say!(out, "  {:width$}  {summary}", t.name);
        }
    }
    if let Some(info) = &r.provider {
        say!(out, "provider  {} {}", info.name, info.version);
        say!(out, "  default model     {}", info.default_model);
        say!(
            out,
            "  default base URL  {} (a request: see destination)",
            info.default_base_url
        );
        match &info.credential {
            Some(c) => say!(
                out,
                "  credential        asks for {} in its {} header{}",
                c.env_var,
                c.header,
                if c.required { "" } else { " (optional)" }
            ),
            None => say!(out, "  credential        none"),
        }
        say!(out, "  capabilities      {}", info.capabilities.join(", "));
    }
    let p = r.policy;
    let source = r.policy_source.as_deref().unwrap_or("built-in defaults");
    say!(out, "policy    (from {source})");
    let none = || "none".to_string();
    let hosts: Vec<String> = p.allowed_hosts.iter().map(ToString::to_string).collect();
    say!(
        out,
        "  allowed hosts  {}",
        if hosts.is_empty() {
            none()
        } else {
            hosts.join(", ")
        }
    );
    let folders: Vec<String> = p
        .folders
        .iter()
        .map(|f| format!("{} -> {} ({:?})", f.host.display(), f.guest, f.access).to_lowercase())
        .collect();
    say!(
        out,
        "  folders        {}",
        if folders.is_empty() {
            none()
        } else {
            folders.join(", ")
        }
    );
    let env: Vec<&String> = p.env.keys().collect();
    say!(
        out,
        "  env            {}",
        if env.is_empty() {
            none()
        } else {
            env.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let config: Vec<&String> = p.config.keys().collect();
    say!(
        out,
        "  config keys    {}",
        if config.is_empty() {
            none()
        } else {
            config
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    match (&p.secret, &p.secret_request) {
        (Some(s), _) => say!(
            out,
            "  secret         {} header for {} only, from {} (value hidden)",
            s.header,
            s.origin,
            s.source
        ),
        (None, Some(r)) => say!(
            out,
            "  secret         from {} ([plugins.{}.secret]; granted when the plugin runs)",
            r.env,
            p.name
        ),
        (None, None) => say!(out, "  secret         none"),
    }
    if let Some(grants) = &r.grants {
        say!(out, "  destination    {}", grants.base_url);
        say!(out, "  credential     {}", grants.credential);
    }
    let l = &p.limits;
    say!(
        out,
        "  limits         fuel {}, memory {} MiB, timeout {} s, output {} KiB per stream, {} host resources",
        l.fuel,
        l.memory_bytes >> 20,
        l.timeout.as_secs_f64(),
        l.output_bytes / 1024,
        l.host_resources
    );
    let c = &p.content;
    say!(
        out,
        "  content        response {} KiB, {} stream events, stall {} s, tool result {} KiB, tool spec {} KiB, {} tools",
        c.response_bytes / 1024,
        c.stream_events,
        c.stall.as_secs_f64(),
        c.tool_result_bytes / 1024,
        c.tool_spec_bytes / 1024,
        c.max_tools
    );
    for line in out {
        println!("{}", terminal::line(&line));
    }
}

/// A description's first sentence, for one-line listings.
fn first_sentence(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    match line.find(". ") {
        Some(end) => &line[..=end],
        None => line,
    }
}
