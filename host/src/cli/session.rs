//! The flags `run` and `chat` share, turned into the library's [`SessionSpec`]; the
//! conversation itself is built by `wasmhost::session`.

use std::path::PathBuf;

use anyhow::Result;
use wasmhost::agent::{AgentError, AgentTask, Outcome, RetryPolicy, Submission, TaskEvent};
use wasmhost::chat::Message;
use wasmhost::session::{self, Session, SessionSpec};

use super::UsageError;
use super::config::{Environment, cli_error};
use super::render::Renderer;

/// What both `run` and `chat` take.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// The provider plugin: a shipped name (openai, anthropic) or a .wasm path.
    #[arg(long, value_name = "NAME|PATH")]
    pub plugin: String,
    /// The model (default: the provider's).
    #[arg(long)]
    pub model: Option<String>,
    /// The API root, as the provider documents it (e.g. http://127.0.0.1:11434/v1).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The environment variable (or .env entry) holding the key for this destination: needed
    /// for a provider wasmhost has no preset for, or a preset pointed elsewhere with
    /// --base-url (unless wasmhost.toml grants one).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A tool plugin to offer the model (repeatable).
    #[arg(long = "tool", value_name = "NAME|PATH")]
    pub tools: Vec<String>,
    /// An MCP server whose tools the model may use: a `[mcp.NAME]` section of the policy
    /// names its command and what it gets (repeatable).
    #[arg(long = "mcp", value_name = "NAME")]
    pub mcp: Vec<String>,
    /// A skills folder: loads the skills plugin with it, read-only.
    #[arg(long, value_name = "DIR")]
    pub skills: Option<PathBuf>,
    /// An image to attach to the prompt (repeatable).
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// Extra system instructions.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Provider calls per prompt before giving up on a final answer.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_turns: u32,
    /// A provider to switch to when the main one keeps failing (repeatable, in order).
    #[arg(long = "fallback", value_name = "NAME|PATH")]
    pub fallbacks: Vec<String>,
    /// Retries of a failed provider call (rate limits, 5xx, timeouts, dropped streams)
    /// before falling back or giving up.
    #[arg(long, default_value_t = RetryPolicy::default().max_retries, value_name = "N")]
    pub max_retries: u32,
    /// The longest one provider response may take, in seconds.
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    pub request_timeout: f64,
    #[arg(long)]
    pub temperature: Option<f32>,
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Wait for whole responses instead of streaming them.
    #[arg(long)]
    pub no_stream: bool,
    /// JSON Lines events on stdout (one per line, each with a `type`).
    #[arg(long)]
    pub json: bool,
    /// Where to write the conversation as JSON Lines (default: a new file in the data folder).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Continue the conversation in this transcript (and append to it).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Save every provider exchange (requests, streamed events, responses; never
    /// credentials) to this cassette, for `--plugin replay --cassette FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The cassette the `replay` provider answers from (granted to it read-only).
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<PathBuf>,
}

impl SessionArgs {
    /// The conversation these flags describe.
    pub fn spec(&self) -> Result<SessionSpec> {
        let request_timeout = std::time::Duration::try_from_secs_f64(self.request_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                UsageError("--request-timeout takes a positive number of seconds".into())
            })?;
        Ok(SessionSpec {
            plugin: self.plugin.clone(),
            model: self.model.clone(),
            base_url: self.base_url.clone(),
            api_key_env: self.api_key_env.clone(),
            tools: self.tools.clone(),
            mcp: self.mcp.clone(),
            skills: self.skills.clone(),
            system: self.system.clone(),
            max_turns: self.max_turns,
            fallbacks: self.fallbacks.clone(),
            max_retries: self.max_retries,
            request_timeout,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            stream: !self.no_stream,
            transcript: self.transcript.clone(),
            resume: self.resume.clone(),
            record: self.record.clone(),
            cassette: self.cassette.clone(),
        })
    }
}

/// The session for these flags; says so when a resumed transcript needed repair.
pub async fn open(env: &Environment, args: &SessionArgs) -> Result<Session> {
    let session = Session::open(env, &args.spec()?).await.map_err(cli_error)?;
    for notice in &session.notices {
        eprintln!("note: {}", super::terminal::line(notice));
    }
    if session.repaired > 0 {
        let n = session.repaired;
        eprintln!(
            "note: {n} tool call{} in {} had no result (the run was interrupted or killed \
             mid-turn); {} answered as cancelled",
            if n == 1 { "" } else { "s" },
            session.transcript_path.display(),
            if n == 1 { "it is" } else { "they are" },
        );
    }
    Ok(session)
}

/// The user's message: the prompt and any `--image` files.
pub fn user_message(prompt: &str, images: &[PathBuf]) -> Result<Message> {
    session::user_message(prompt, images).map_err(cli_error)
}

/// Sends `message` to the conversation and shows its events until the turn ends; Ctrl+C
/// (SIGINT) interrupts it, and it then ends on its own with every tool call answered.
pub async fn turn(
    task: &mut AgentTask,
    message: Message,
    renderer: &mut Renderer,
) -> Result<Result<Outcome, AgentError>> {
    task.submit(Submission::UserTurn(message))?;
    // One listener for the whole turn: a SIGINT that arrives while none is registered
    // (between two events, had each made its own) would be lost.
    let mut sigint = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            event = task.next_event() => match event {
                Some(TaskEvent::Agent(event)) => renderer.show(event),
                Some(TaskEvent::TurnEnded { outcome, .. }) => return Ok(outcome),
                Some(TaskEvent::TurnStarted { .. } | TaskEvent::TurnDropped { .. }) => {}
                None => anyhow::bail!(
                    "the conversation stopped unexpectedly (a bug in wasmhost; please report \
                     it); the transcript holds everything saved until then"
                ),
            },
            _ = &mut sigint => {
                let _ = task.submit(Submission::Interrupt);
                sigint.set(tokio::signal::ctrl_c());
            }
        }
    }
}
