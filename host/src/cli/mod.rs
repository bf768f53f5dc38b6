//! The `wasmhost` CLI: parses arguments, builds the sandbox, renders results. It holds no
//! logic the library does not expose.

mod call;
mod chat;
mod config;
mod inspect;
mod logs;
mod mcp;
mod new;
mod precompile;
mod providers;
mod render;
mod run;
mod session;
mod skills;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run LLM agents whose providers and tools are sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "wasmhost", version, about, propagate_version = true)]
struct Cli {
    /// Policy file (default: ./wasmhost.toml, then the user config folder).
    #[arg(long, global = true, env = "WASMHOST_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Compile plugins afresh instead of using the compiled-component cache.
    #[arg(long, global = true)]
    no_cache: bool,

    /// Show plugin log lines (-v: info, -vv: debug, -vvv: trace). Warnings always show.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a plugin's world, API version, exports, tools or provider info, and the policy
    /// it would run under.
    Inspect(inspect::InspectArgs),
    /// Call one tool of a tool plugin directly.
    Call(call::CallArgs),
    /// Answer one prompt with a provider plugin and tools, then exit.
    Run(run::RunArgs),
    /// A conversation in the terminal, with the same options as `run`.
    Chat(chat::ChatArgs),
    /// The installed provider plugins and whether each has a credential.
    Providers(providers::ProvidersArgs),
    /// The models a provider's API offers (cached for an hour).
    Models(providers::ModelsArgs),
    /// Work with skill folders: `skills check DIR` validates them.
    Skills(skills::SkillsArgs),
    /// Serve tool plugins and skills to an MCP client (Claude Code, Codex, ...) over stdio.
    Mcp(mcp::McpArgs),
    /// Create a plugin crate: `new tool NAME` or `new provider NAME` (--dir DIR).
    New(new::NewArgs),
    /// Compile plugins and the Python runtime into the cache now, so first runs start at
    /// once (`just install` does this).
    Precompile(precompile::PrecompileArgs),
    /// Print a shell completion script: `wasmhost completions bash > ~/.local/share/bash-completion/completions/wasmhost`.
    Completions(CompletionsArgs),
    /// The compiler process the host starts for a cache miss (internal).
    #[command(name = COMPILE_COMMAND, hide = true)]
    Compile(CompileArgs),
}

#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: clap_complete::Shell,
}

/// The hidden subcommand that compiles one component in a child process.
pub const COMPILE_COMMAND: &str = "__compile";

#[derive(Debug, clap::Args)]
struct CompileArgs {
    #[arg(long)]
    metered: bool,
    #[arg(long, conflicts_with = "metered")]
    unmetered: bool,
    input: PathBuf,
    output: PathBuf,
}

/// Exit codes: 0 success, 1 runtime error, 2 usage error (clap uses 2 for its own).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        // `skills check` needs neither a policy nor a sandbox: a broken wasmhost.toml must
        // not stop it.
        let command = match cli.command {
            Command::Skills(args) => return skills::run(args).await,
            Command::New(args) => return new::run(args),
            Command::Completions(args) => {
                use clap::CommandFactory as _;
                // Without the internal subcommands: some generators list hidden ones.
                let full = Cli::command();
                let mut command = clap::Command::new("wasmhost")
                    .args(full.get_arguments().cloned())
                    .subcommands(full.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
                clap_complete::generate(
                    args.shell,
                    &mut command,
                    "wasmhost",
                    &mut std::io::stdout(),
                );
                return Ok(ExitCode::SUCCESS);
            }
            Command::Compile(args) => {
                wasmhost::runtime::compile_file(&args.input, &args.output, !args.unmetered)
                    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
                return Ok(ExitCode::SUCCESS);
            }
            other => other,
        };
        let env = config::from_flags(cli.config.as_deref(), cli.no_cache, cli.verbose)?;
        match command {
            Command::Inspect(args) => inspect::run(&env, args).await,
            Command::Call(args) => call::run(&env, args).await,
            Command::Mcp(args) => mcp::run(&env, args, cli.verbose).await,
            Command::Run(args) => run::run(&env, args).await,
            Command::Chat(args) => chat::run(&env, args).await,
            Command::Providers(args) => providers::list(&env, args).await,
            Command::Models(args) => providers::models(&env, args).await,
            Command::Skills(args) => skills::run(args).await,
            Command::New(args) => new::run(args),
            Command::Precompile(args) => precompile::run(&env, args).await,
            Command::Compile(_) | Command::Completions(_) => Ok(ExitCode::SUCCESS),
        }
    });
    // A call stopped at its deadline may leave a thread blocked in the host (a FIFO opened
    // from the other side never); exiting must not wait for it.
    runtime.shutdown_timeout(EXIT_GRACE);
    match result {
        Ok(code) => code,
        Err(error) => {
            // Errors quote plugins, servers and models: shown, never obeyed.
            eprintln!("error: {}", terminal::text(&format!("{error:#}")));
            match error.downcast_ref::<UsageError>() {
                Some(_) => ExitCode::from(2),
                None => ExitCode::from(1),
            }
        }
    }
}

/// How long exiting waits for the runtime's threads.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// A mistake in how the command was invoked (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);
