//! `wasmhost chat`: a REPL. Each line is a prompt in the same conversation; Ctrl+C cancels
//! the turn in progress, Ctrl+D or `/exit` ends the session.

use std::process::ExitCode;

use anyhow::Result;
use rustyline::error::ReadlineError;

use super::config::Environment;
use super::render::Renderer;
use super::session::{self, SessionArgs, user_message};

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub session: SessionArgs,
}

pub async fn run(env: &Environment, args: ChatArgs) -> Result<ExitCode> {
    let session = session::open(env, &args.session).await?;
    let transcript_path = session.transcript_path.clone();
    let mut task = session.spawn();
    let mut renderer = Renderer::new(args.session.json);
    let history = directories::ProjectDirs::from("", "", "wasmhost")
        .map(|d| d.data_dir().join("chat-history.txt"));
    let mut editor = rustyline::DefaultEditor::new()?;
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!(
        "chatting with {} (transcript: {}); /exit or Ctrl+D to leave",
        args.session.plugin,
        transcript_path.display()
    );
    let mut images = args.session.images.clone();
    loop {
        // rustyline blocks: read on a blocking thread so the runtime stays free.
        let (line, back) = tokio::task::spawn_blocking(move || {
            let line = editor.readline("you> ");
            (line, editor)
        })
        .await?;
        editor = back;
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let prompt = line.trim();
        if prompt.is_empty() {
            continue;
        }
        if prompt == "/exit" || prompt == "/quit" {
            break;
        }
        let _ = editor.add_history_entry(prompt);
        // Images given on the command line go with the first prompt only.
        let message = user_message(prompt, &std::mem::take(&mut images))?;
        // Ctrl+C interrupts the turn, which then ends on its own with every tool call
        // answered, so the next prompt goes on from a valid conversation. A failed turn
        // was shown as an error event; the next prompt may go better.
        let _outcome = session::turn(&mut task, message, &mut renderer).await?;
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    task.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}
