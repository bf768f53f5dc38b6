//! `wasmhost run PROMPT`: one prompt, answered with tools, then exit.

use std::process::ExitCode;

use anyhow::Result;
use wasmhost::agent::Outcome;

use super::config::Environment;
use super::render::Renderer;
use super::session::{self, SessionArgs, user_message};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// What to ask.
    pub prompt: String,
}

pub async fn run(env: &Environment, args: RunArgs) -> Result<ExitCode> {
    let session = session::open(env, &args.session).await?;
    let message = user_message(&args.prompt, &args.session.images)?;
    let path = session.transcript_path.clone();
    let mut task = session.spawn();
    let mut renderer = Renderer::new(args.session.json);
    // SIGINT (Ctrl+C) interrupts the run, which ends with every tool call answered, so
    // `--resume` goes on from the transcript.
    let outcome = session::turn(&mut task, message, &mut renderer).await?;
    task.shutdown().await?;
    let path = path.display();
    Ok(match outcome {
        Ok(Outcome::Answered { .. }) => {
            if !args.session.json {
                eprintln!("transcript: {path}");
            }
            ExitCode::SUCCESS
        }
        Ok(Outcome::Interrupted) => {
            eprintln!("interrupted; the conversation so far is in {path} (go on with --resume)");
            ExitCode::from(130)
        }
        // The error event was rendered already.
        Err(_) => ExitCode::from(1),
    })
}
