//! `wasmhost call PLUGIN TOOL [ARGS_JSON]`: one tool call, for plugin authors and scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::UsageError;
use super::config::Environment;
use super::terminal;

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// A shipped tool plugin's name or a path to a .wasm component.
    plugin: String,
    /// The tool to call.
    tool: String,
    /// The arguments, a JSON object.
    #[arg(default_value = "{}")]
    args: String,
    /// Grant this skills folder (read-only, at /skills).
    #[arg(long, value_name = "DIR")]
    skills: Option<PathBuf>,
    /// Print {"ok":true,"output":...} or {"ok":false,"error":{kind,message}} on stdout.
    #[arg(long)]
    json: bool,
}

pub async fn run(env: &Environment, args: CallArgs) -> Result<ExitCode> {
    match serde_json::from_str::<serde_json::Value>(&args.args) {
        Ok(v) if v.is_object() => {}
        Ok(_) => anyhow::bail!(UsageError(
            "ARGS_JSON must be a JSON object, like '{\"name\": \"x\"}'".into()
        )),
        Err(e) => anyhow::bail!(UsageError(format!("ARGS_JSON is not valid JSON: {e}"))),
    }
    let tool = super::config::load(env, &args.plugin, args.skills.as_deref())
        .await?
        .into_tool()?;
    let result = tool.call(&args.tool, &args.args).await?;
    match (result, args.json) {
        (Ok(output), false) => {
            println!("{}", terminal::text(&output));
            Ok(ExitCode::SUCCESS)
        }
        (Ok(output), true) => {
            println!("{}", json!({ "ok": true, "output": output }));
            Ok(ExitCode::SUCCESS)
        }
        (Err(error), false) => {
            eprintln!(
                "error: tool `{}` of plugin `{}`: {}",
                terminal::line(&args.tool),
                tool.plugin().name(),
                terminal::text(&error.to_string())
            );
            Ok(ExitCode::from(1))
        }
        (Err(error), true) => {
            println!("{}", json!({ "ok": false, "error": error }));
            Ok(ExitCode::from(1))
        }
    }
}
