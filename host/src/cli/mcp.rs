//! `wasmhost mcp`: serve tool plugins (and the skills plugin) to an MCP client over stdio.
//! stdout is the protocol; everything else (logs, notices) goes to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use rmcp::ServiceExt;
use wasmhost::mcp::McpServer;
use wasmhost::plugin::Collisions;

use super::UsageError;
use super::config::{Environment, cli_error};
use super::terminal;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// A tool plugin to serve: a shipped name or a .wasm path (repeatable).
    #[arg(long = "tool", value_name = "NAME|PATH")]
    tools: Vec<String>,
    /// Serve the skills plugin with this skills folder (read-only).
    #[arg(long, value_name = "DIR")]
    skills: Option<PathBuf>,
}

pub async fn run(env: &Environment, args: McpArgs) -> Result<ExitCode> {
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
    let server = McpServer::new(Arc::new(tools))?;
    eprintln!(
        "serving {} tool{} over MCP on stdio",
        server.tools().len(),
        if server.tools().len() == 1 { "" } else { "s" }
    );
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client did not complete the handshake")?;
    running.waiting().await.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}
