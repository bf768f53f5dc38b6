//! Shows agent events: for people (answer on stdout, tool calls and notices on stderr) or
//! as JSON Lines on stdout.

use std::io::Write;

use wasmhost::agent::AgentEvent;

use super::terminal;

/// Longest tool argument or result shown in human output.
const SHOWN_CHARS: usize = 200;

pub struct Renderer {
    json: bool,
    /// Whether assistant text was streamed (so the final message is not printed again).
    streamed_text: bool,
    /// Whether the cursor is mid-line on stdout.
    mid_line: bool,
}

impl Renderer {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            streamed_text: false,
            mid_line: false,
        }
    }

    pub fn show(&mut self, event: AgentEvent) {
        if self.json {
            if let Ok(line) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        match event {
            AgentEvent::Text { text } => {
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "{}", terminal::text(&text));
                let _ = out.flush();
                self.streamed_text = true;
                self.mid_line = !text.ends_with('\n');
            }
            // Reasoning is not the answer: people get the answer, `--json` gets both.
            AgentEvent::Reasoning { .. } => {}
            AgentEvent::ToolCall {
                name, arguments, ..
            } => {
                self.end_line();
                eprintln!("→ {} {}", terminal::line(&name), shorten(&arguments));
            }
            AgentEvent::ToolResult {
                name,
                ok,
                output,
                duration_ms,
                ..
            } => {
                let mark = if ok { "✓" } else { "✗" };
                eprintln!(
                    "  {mark} {} ({duration_ms} ms): {}",
                    terminal::line(&name),
                    shorten(&output)
                );
            }
            AgentEvent::Message {
                message, is_final, ..
            } => {
                if !self.streamed_text {
                    let text = message.text_content();
                    if !text.is_empty() {
                        print!("{}", terminal::text(&text));
                        self.mid_line = !text.ends_with('\n');
                    }
                }
                if is_final {
                    self.end_line();
                }
                self.streamed_text = false;
            }
            AgentEvent::Usage { .. } => {}
            AgentEvent::Retry {
                provider,
                attempt,
                delay_ms,
                error,
            } => {
                self.end_line();
                eprintln!(
                    "↻ {provider}: {}; retry {attempt} in {:.1} s",
                    terminal::line(&error),
                    delay_ms as f64 / 1000.0
                );
                self.streamed_text = false;
            }
            AgentEvent::Fallback { from, to, error } => {
                self.end_line();
                eprintln!(
                    "⇄ {from} failed ({}); switching to {to}",
                    terminal::line(&error)
                );
            }
            AgentEvent::Warning { message } => {
                self.end_line();
                eprintln!("warning: {}", terminal::text(&message));
            }
            AgentEvent::Interrupted => {
                self.end_line();
                eprintln!("(interrupted)");
                self.streamed_text = false;
            }
            AgentEvent::Error { message } => {
                self.end_line();
                eprintln!("error: {}", terminal::text(&message));
            }
        }
    }

    fn end_line(&mut self) {
        if self.mid_line {
            println!();
            self.mid_line = false;
        }
    }
}

/// One line of at most [`SHOWN_CHARS`] characters, safe for the terminal.
fn shorten(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = terminal::line(&flat).into_owned();
    if flat.chars().count() <= SHOWN_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(SHOWN_CHARS).collect();
    format!("{cut}… ({} chars)", text.chars().count())
}
