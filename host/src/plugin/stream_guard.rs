//! What a provider's response may be, checked as it arrives: at most `response_kib` of
//! text, reasoning and tool calls, at most `stream_events` events and `max_tool_calls` calls, never
//! `stall_secs` without progress; and with the plugin's granted secret redacted, even when
//! a stream splits it across deltas.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::chat::{ChatResponse, ContentPart, ProviderError, StreamEvent};
use crate::policy::redact::StreamRedactor;
use crate::policy::{ContentLimits, Redactor};

/// Checks and redacts one streamed response.
pub struct StreamGuard<'a> {
    plugin: &'a str,
    limits: ContentLimits,
    redactor: &'a Redactor,
    text: StreamRedactor<'a>,
    reasoning: StreamRedactor<'a>,
    /// One redactor per started tool call's arguments, by stream index.
    fragments: HashMap<u32, StreamRedactor<'a>>,
    bytes: usize,
    events: u64,
    calls: usize,
    last_progress: Instant,
}

impl<'a> StreamGuard<'a> {
    pub fn new(plugin: &'a str, limits: ContentLimits, redactor: &'a Redactor) -> Self {
        Self {
            plugin,
            limits,
            redactor,
            text: redactor.stream(),
            reasoning: redactor.stream(),
            fragments: HashMap::new(),
            bytes: 0,
            events: 0,
            calls: 0,
            last_progress: Instant::now(),
        }
    }

    /// One batch from the plugin, as the host may show and keep it; an error when the
    /// stream crossed a limit.
    pub fn admit(
        &mut self,
        batch: impl IntoIterator<Item = StreamEvent>,
    ) -> Result<Vec<StreamEvent>, ProviderError> {
        let mut out = Vec::new();
        let mut progressed = false;
        for event in batch {
            self.events += 1;
            if self.events > self.limits.stream_events {
                return Err(ProviderError::Limit {
                    message: format!(
                        "provider `{}` sent more than {} events in one response (raise \
                         `stream_events` in [plugins.{}] of wasmhost.toml)",
                        self.plugin, self.limits.stream_events, self.plugin
                    ),
                });
            }
            self.bytes += event_bytes(&event);
            if self.bytes > self.limits.response_bytes {
                return Err(over_response_limit(self.plugin, self.limits.response_bytes));
            }
            progressed |= is_progress(&event);
            match event {
                StreamEvent::TextDelta(text) => {
                    // What the reasoning redactor held back comes before the answer.
                    self.flush_reasoning(&mut out);
                    let shown = self.text.push(&text);
                    if !shown.is_empty() {
                        out.push(StreamEvent::TextDelta(shown));
                    }
                }
                StreamEvent::ReasoningDelta(text) => {
                    let shown = self.reasoning.push(&text);
                    if !shown.is_empty() {
                        out.push(StreamEvent::ReasoningDelta(shown));
                    }
                }
                StreamEvent::ToolCallDelta { index, fragment } => {
                    self.flush_reasoning(&mut out);
                    // A fragment of a call that never started is dropped by the assembler
                    // too; keeping a redactor for it would let a stream grow host state.
                    if let Some(redactor) = self.fragments.get_mut(&index) {
                        let shown = redactor.push(&fragment);
                        if !shown.is_empty() {
                            out.push(StreamEvent::ToolCallDelta {
                                index,
                                fragment: shown,
                            });
                        }
                    }
                }
                StreamEvent::ToolCallStart { index, id, name } => {
                    self.flush_reasoning(&mut out);
                    self.calls += 1;
                    if self.calls > self.limits.max_tool_calls {
                        return Err(ProviderError::Limit {
                            message: format!(
                                "provider `{}` asked for more than {} tool calls in one \
                                 response (raise `max_tool_calls` in [plugins.{}] of \
                                 wasmhost.toml)",
                                self.plugin, self.limits.max_tool_calls, self.plugin
                            ),
                        });
                    }
                    // An index used again starts a new call: what the old one held back
                    // belongs to the old one.
                    if let Some(mut previous) = self.fragments.insert(index, self.redactor.stream())
                    {
                        let rest = previous.finish();
                        if !rest.is_empty() {
                            out.push(StreamEvent::ToolCallDelta {
                                index,
                                fragment: rest,
                            });
                        }
                    }
                    out.push(StreamEvent::ToolCallStart {
                        index,
                        id: self.redactor.redact(&id).into_owned(),
                        name: self.redactor.redact(&name).into_owned(),
                    });
                }
                StreamEvent::Finish(reason) => {
                    self.flush(&mut out);
                    out.push(StreamEvent::Finish(reason));
                }
                usage @ StreamEvent::Usage(_) => out.push(usage),
            }
        }
        if progressed {
            self.last_progress = Instant::now();
        } else if self.last_progress.elapsed() > self.limits.stall {
            return Err(ProviderError::Limit {
                message: format!(
                    "provider `{}` made no progress for {} (only empty events; raise \
                     `stall_secs` in [plugins.{}] of wasmhost.toml)",
                    self.plugin,
                    secs(self.limits.stall),
                    self.plugin
                ),
            });
        }
        Ok(out)
    }

    /// Releases what the reasoning redactor held back: it was not a secret.
    fn flush_reasoning(&mut self, out: &mut Vec<StreamEvent>) {
        let reasoning = self.reasoning.finish();
        if !reasoning.is_empty() {
            out.push(StreamEvent::ReasoningDelta(reasoning));
        }
    }

    /// Releases what the redactors held back: it was not a secret.
    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        self.flush_reasoning(out);
        let text = self.text.finish();
        if !text.is_empty() {
            out.push(StreamEvent::TextDelta(text));
        }
        let mut indices: Vec<u32> = self.fragments.keys().copied().collect();
        indices.sort_unstable();
        for index in indices {
            if let Some(redactor) = self.fragments.get_mut(&index) {
                let fragment = redactor.finish();
                if !fragment.is_empty() {
                    out.push(StreamEvent::ToolCallDelta { index, fragment });
                }
            }
        }
    }
}

/// New text, a tool call or a piece of one: what counts as a stream moving on.
fn is_progress(event: &StreamEvent) -> bool {
    match event {
        StreamEvent::TextDelta(t) | StreamEvent::ReasoningDelta(t) => !t.is_empty(),
        StreamEvent::ToolCallDelta { fragment, .. } => !fragment.is_empty(),
        StreamEvent::ToolCallStart { .. } | StreamEvent::Finish(_) => true,
        StreamEvent::Usage(_) => false,
    }
}

/// What an event adds to the response the host keeps.
fn event_bytes(event: &StreamEvent) -> usize {
    match event {
        StreamEvent::TextDelta(t) | StreamEvent::ReasoningDelta(t) => t.len(),
        StreamEvent::ToolCallDelta { fragment, .. } => fragment.len(),
        StreamEvent::ToolCallStart { id, name, .. } => id.len() + name.len(),
        StreamEvent::Usage(_) | StreamEvent::Finish(_) => 0,
    }
}

/// What a whole response holds, counted as for a stream.
pub fn response_bytes(response: &ChatResponse) -> usize {
    let text: usize = response
        .message
        .content
        .iter()
        .map(|p| match p {
            ContentPart::Text { text } => text.len(),
            ContentPart::Image { .. } => 0,
        })
        .sum();
    let calls: usize = response
        .message
        .tool_calls
        .iter()
        .map(|c| c.id.len() + c.name.len() + c.arguments.len())
        .sum();
    let reasoning = response.reasoning.as_ref().map_or(0, String::len);
    text + calls + reasoning
}

pub fn over_response_limit(plugin: &str, limit: usize) -> ProviderError {
    ProviderError::Limit {
        message: format!(
            "provider `{plugin}` sent more than {limit} bytes of text, reasoning and tool calls \
             in one response (raise `response_kib` in [plugins.{plugin}] of wasmhost.toml)"
        ),
    }
}

/// Every string of `response` redacted.
pub fn redact_response(response: &mut ChatResponse, redactor: &Redactor) {
    if redactor.is_empty() {
        return;
    }
    for part in &mut response.message.content {
        if let ContentPart::Text { text } = part {
            redactor.redact_string(text);
        }
    }
    for call in &mut response.message.tool_calls {
        redactor.redact_string(&mut call.id);
        redactor.redact_string(&mut call.name);
        redactor.redact_string(&mut call.arguments);
    }
    if let Some(reasoning) = &mut response.reasoning {
        redactor.redact_string(reasoning);
    }
    redactor.redact_string(&mut response.model);
}

/// A provider's error with its secret redacted (APIs echo keys in 401 bodies).
pub fn redact_error(error: ProviderError, redactor: &Redactor) -> ProviderError {
    if redactor.is_empty() {
        return error;
    }
    error.map_message(|m| redactor.redact(m).into_owned())
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::FinishReason;

    fn text(t: &str) -> StreamEvent {
        StreamEvent::TextDelta(t.into())
    }

    #[test]
    fn a_split_secret_is_redacted_and_the_rest_released_at_finish() {
        let redactor = Redactor::new(["sk-live-0123456789"]);
        let mut guard = StreamGuard::new("p", ContentLimits::default(), &redactor);
        let mut shown = String::new();
        for batch in [
            vec![text("key sk-li"), text("ve-01234")],
            vec![text("56789 and sk")],
            vec![StreamEvent::Finish(FinishReason::Stop)],
        ] {
            for event in guard.admit(batch).expect("within limits") {
                if let StreamEvent::TextDelta(t) = event {
                    shown.push_str(&t);
                }
            }
        }
        assert_eq!(shown, "key [REDACTED] and sk");
    }

    #[test]
    fn a_reused_index_keeps_each_calls_arguments_apart() {
        let redactor = Redactor::new(["sk-live-0123456789"]);
        let mut guard = StreamGuard::new("p", ContentLimits::default(), &redactor);
        let start = |id: &str| StreamEvent::ToolCallStart {
            index: 0,
            id: id.into(),
            name: "t".into(),
        };
        let delta = |f: &str| StreamEvent::ToolCallDelta {
            index: 0,
            fragment: f.into(),
        };
        let events = guard
            .admit([start("a"), delta("{\"k\":\"sk"), start("b"), delta("{}")])
            .expect("ok");
        let mut assembler = crate::chat::StreamAssembler::default();
        for e in events {
            assembler.push(e);
        }
        assembler.push(StreamEvent::Finish(FinishReason::ToolCalls));
        let calls = assembler.finish("m".into()).message.tool_calls;
        assert_eq!(calls[0].arguments, "{\"k\":\"sk");
        assert_eq!(calls[1].arguments, "{}");
    }

    #[test]
    fn tool_calls_per_response_are_capped_and_orphan_fragments_dropped() {
        let redactor = Redactor::default();
        let limits = ContentLimits {
            max_tool_calls: 2,
            ..ContentLimits::default()
        };
        let mut guard = StreamGuard::new("p", limits, &redactor);
        let orphan = StreamEvent::ToolCallDelta {
            index: 9,
            fragment: "x".into(),
        };
        assert!(guard.admit([orphan]).expect("ok").is_empty());
        let start = |index| StreamEvent::ToolCallStart {
            index,
            id: String::new(),
            name: String::new(),
        };
        let err = guard
            .admit([start(0), start(1), start(2)])
            .expect_err("calls");
        assert!(err.to_string().contains("`max_tool_calls`"), "{err}");
    }

    #[test]
    fn bytes_events_and_stalls_are_limits() {
        let redactor = Redactor::default();
        let limits = ContentLimits {
            response_bytes: 10,
            stream_events: 3,
            stall: Duration::from_millis(1),
            ..ContentLimits::default()
        };
        let mut guard = StreamGuard::new("p", limits, &redactor);
        let err = guard.admit([text("0123456789abc")]).expect_err("bytes");
        assert!(err.to_string().contains("`response_kib`"), "{err}");
        assert!(!err.is_retryable());

        let mut guard = StreamGuard::new("p", limits, &redactor);
        let err = guard
            .admit([text(""), text(""), text(""), text("")])
            .expect_err("events");
        assert!(err.to_string().contains("`stream_events`"), "{err}");

        let mut guard = StreamGuard::new("p", limits, &redactor);
        std::thread::sleep(Duration::from_millis(5));
        let err = guard.admit([text("")]).expect_err("stall");
        assert!(err.to_string().contains("`stall_secs`"), "{err}");
        let mut guard = StreamGuard::new("p", limits, &redactor);
        std::thread::sleep(Duration::from_millis(5));
        assert!(guard.admit([text("x")]).is_ok(), "text is progress");
    }

    #[test]
    fn reasoning_is_redacted_released_before_the_answer_and_counted() {
        let redactor = Redactor::new(["sk-live-0123456789"]);
        let mut guard = StreamGuard::new("p", ContentLimits::default(), &redactor);
        let think = |t: &str| StreamEvent::ReasoningDelta(t.into());
        let mut out = guard
            .admit([think("the key is sk-li"), think("ve-0123456789 ok")])
            .expect("ok");
        out.extend(guard.admit([text("answer")]).expect("ok"));
        let reasoning: String = out
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ReasoningDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasoning, "the key is [REDACTED] ok");
        // Everything the reasoning redactor held back came out before the answer.
        let answer_at = out
            .iter()
            .position(|e| *e == text("answer"))
            .expect("answer");
        assert!(
            out[answer_at + 1..]
                .iter()
                .all(|e| !matches!(e, StreamEvent::ReasoningDelta(_)))
        );

        // Reasoning counts toward the response's bytes, streamed and whole.
        let limits = ContentLimits {
            response_bytes: 10,
            ..ContentLimits::default()
        };
        let mut guard = StreamGuard::new("p", limits, &redactor);
        let err = guard.admit([think("0123456789abc")]).expect_err("bytes");
        assert!(err.to_string().contains("`response_kib`"), "{err}");
        let whole = ChatResponse {
            reasoning: Some("x".repeat(11)),
            ..crate::chat::StreamAssembler::default().finish("m".into())
        };
        assert_eq!(response_bytes(&whole), 11);
        let mut secret = ChatResponse {
            reasoning: Some("use sk-live-0123456789".into()),
            ..whole
        };
        redact_response(&mut secret, &redactor);
        assert_eq!(secret.reasoning.as_deref(), Some("use [REDACTED]"));
    }
}
