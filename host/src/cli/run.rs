//! `wasmhost run PROMPT`: one prompt, answered with tools, then exit.

use std::process::ExitCode;

use anyhow::Result;

use super::config::Environment;
use super::render::Renderer;
use super::session::{Session, SessionArgs, user_message};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// What to ask.
    pub prompt: String,
}

pub async fn run(env: &Environment, args: RunArgs) -> Result<ExitCode> {
    let mut session = Session::open(env, &args.session).await?;
    session
        .transcript
        .push(user_message(&args.prompt, &args.session.images)?)?;
    let mut renderer = Renderer::new(args.session.json);
    let mut show = |e| renderer.show(e);
    let outcome = tokio::select! {
        outcome = session.agent.run(&mut session.transcript, &mut show) => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ncancelled; the conversation so far is in {}", session.transcript_path.display());
            return Ok(ExitCode::from(130));
        }
    };
    if !args.session.json {
        eprintln!("transcript: {}", session.transcript_path.display());
    }
    Ok(match outcome {
        Ok(_) => ExitCode::SUCCESS,
        // The error event was rendered already.
        Err(_) => ExitCode::from(1),
    })
}
