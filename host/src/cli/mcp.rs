//! `wasmhost mcp`: serve tool plugins (and the skills plugin) to an MCP client over stdio,
//! or over Streamable HTTP with `--listen`. In stdio mode stdout is the protocol; in both,
//! everything else (logs, notices) goes to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use rmcp::ServiceExt;
use wasmhost::mcp::http::{self, HttpOptions};
use wasmhost::mcp::skills::SkillFiles;
use wasmhost::mcp::{DEFAULT_MAX_CALLS, DEFAULT_MAX_WAITING, McpServer};
use wasmhost::plugin::Collisions;

use super::UsageError;
use super::config::{Environment, cli_error};
use super::{logs, terminal};

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// A tool plugin to serve: a shipped name or a .wasm path (repeatable).
    #[arg(long = "tool", value_name = "NAME|PATH")]
    tools: Vec<String>,
    /// Serve the skills plugin with this skills folder (read-only).
    #[arg(long, value_name = "DIR")]
    skills: Option<PathBuf>,
    /// Serve Streamable HTTP at http://ADDR/mcp instead of stdio (port 0 picks one).
    /// An address that is not loopback needs --token-env.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Require `Authorization: Bearer TOKEN` with the token in this environment variable.
    #[arg(long, value_name = "VAR", requires = "listen")]
    token_env: Option<String>,
    /// An origin allowed in the Origin header, e.g. http://localhost:5173 (repeatable);
    /// any other is refused. No CORS preflight is answered.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "listen")]
    allowed_origins: Vec<String>,
    /// A Host name to serve besides the loopback ones, e.g. the name a proxy forwards
    /// (repeatable). Off loopback, without this, any Host is served (the token guards).
    #[arg(long = "allow-host", value_name = "HOST", requires = "listen")]
    allowed_hosts: Vec<String>,
    /// No sessions over HTTP, so instances behind a plain load balancer are
    /// interchangeable (a call is then cancelled by closing its request).
    #[arg(long, requires = "listen")]
    stateless: bool,
    /// Calls that run at once; more wait for a free slot.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CALLS)]
    max_calls: usize,
    /// Calls that may wait for a slot; a call beyond them is refused as overloaded.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_WAITING)]
    max_waiting: usize,
    /// The largest request, in bytes: an HTTP body over it gets 413; a stdio line over it
    /// is dropped (rmcp discards it and reads on).
    #[arg(long, value_name = "BYTES", default_value_t = http::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Requests in flight over HTTP beyond which new ones get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = http::DEFAULT_MAX_PENDING, requires = "listen")]
    max_pending: usize,
    /// Sessions open at once over HTTP; a new client beyond them gets 503.
    #[arg(long, value_name = "N", default_value_t = http::DEFAULT_MAX_SESSIONS, requires = "listen", conflicts_with = "stateless")]
    max_sessions: usize,
    /// Seconds a session lives without a request or a message from the server.
    #[arg(long, value_name = "SECS", default_value_t = http::DEFAULT_SESSION_IDLE.as_secs(), requires = "listen", conflicts_with = "stateless")]
    session_idle_secs: u64,
    /// Seconds the calls in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "SECS", default_value_t = http::DEFAULT_DRAIN.as_secs(), requires = "listen")]
    drain_secs: u64,
}

pub async fn run(env: &Environment, args: McpArgs, verbose: u8) -> Result<ExitCode> {
    logs::sdk_logs(verbose);
    if args.tools.is_empty() && args.skills.is_none() {
        anyhow::bail!(UsageError(
            "nothing to serve: give --tool NAME|PATH (repeatable) and/or --skills DIR".into()
        ));
    }
    let tools = env
        .tool_box_with(&args.tools, args.skills.as_deref(), Collisions::Prefix)
        .await
        .map_err(cli_error)?;
    for renamed in tools.renamed() {
        eprintln!(
            "note: plugins both offer `{}`; `{}`'s is served as `{}`",
            terminal::line(&renamed.tool),
            terminal::line(&renamed.plugin),
            terminal::line(&renamed.offered_as)
        );
    }
    let mut server = McpServer::new(Arc::new(tools))?.with_limits(args.max_calls, args.max_waiting);
    if let Some(folder) = &args.skills {
        // Skills the catalog leaves out are named on stderr (through rmcp's warnings).
        let skills = SkillFiles::load(folder).await?;
        server = server.with_skills(skills);
    }
    let count = server.tools().len();
    let mut tools = format!("{count} tool{}", if count == 1 { "" } else { "s" });
    if let Some(skills) = server.skills() {
        let count = skills.skills().len();
        tools.push_str(&format!(
            " and {count} skill{} (as resources and prompts)",
            if count == 1 { "" } else { "s" }
        ));
    }
    if let Some(addr) = args.listen {
        return serve_http(server, &args, addr, &tools).await;
    }
    eprintln!("serving {tools} over MCP on stdio");
    let (stdin, stdout) = rmcp::transport::stdio();
    let transport = rmcp::transport::async_rw::AsyncRwTransport::new_server(stdin, stdout)
        .with_max_line_length(args.max_body_bytes);
    let running = server
        .serve(transport)
        .await
        .context("the MCP client did not complete the handshake")?;
    running.waiting().await.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}

async fn serve_http(
    server: McpServer,
    args: &McpArgs,
    addr: SocketAddr,
    tools: &str,
) -> Result<ExitCode> {
    let token = match &args.token_env {
        None => None,
        Some(var) => Some(std::env::var(var).map_err(|_| {
            UsageError(format!(
                "--token-env {var}: the variable is not set (or not UTF-8); export the \
                 bearer token clients will send in it"
            ))
        })?),
    };
    let options = HttpOptions {
        token,
        allowed_hosts: args.allowed_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
        max_body_bytes: args.max_body_bytes,
        max_pending: args.max_pending,
        drain: std::time::Duration::from_secs(args.drain_secs),
        stateless: args.stateless,
        max_sessions: args.max_sessions,
        session_idle: std::time::Duration::from_secs(args.session_idle_secs.max(1)),
    };
    http::check(addr, &options).map_err(|e| UsageError(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the listening address")?;
    eprintln!(
        "serving {tools} over MCP at http://{bound}{} (health: http://{bound}{})",
        http::MCP_PATH,
        http::HEALTH_PATH
    );
    let stopped = http::serve(listener, server, options, shutdown_signal()).await?;
    if stopped.abandoned > 0 {
        eprintln!(
            "stopped {} call{} still running after --drain-secs {}",
            stopped.abandoned,
            if stopped.abandoned == 1 { "" } else { "s" },
            args.drain_secs
        );
    } else {
        eprintln!("stopped: every call in flight finished");
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (how orchestrators stop a service) or Ctrl-C: both drain. A second one ends
/// the process at once.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    stop_requested(&mut term).await;
    eprintln!("draining: finishing the calls in flight (a second signal stops at once)");
    tokio::spawn(async move {
        stop_requested(&mut term).await;
        eprintln!("stopped at once on a second signal");
        std::process::exit(130);
    });
}

/// The next SIGTERM or Ctrl-C.
async fn stop_requested(term: &mut Option<tokio::signal::unix::Signal>) {
    let terminated = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
