//! One agent run: provider calls with retries and fallbacks, tool calls in parallel,
//! until a final answer or the turn limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::retry::{RetryPolicy, jitter};
use super::transcript::{Transcript, TranscriptError};
use super::{AgentEvent, ChatProvider, ToolBox, events};
use crate::chat::{
    ChatRequest, ChatResponse, Message, ProviderError, RequestOptions, StreamEvent, ToolCall,
    ToolErrorKind, ToolResult,
};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Provider calls per run before the loop gives up on a final answer.
    pub max_turns: u32,
    pub stream: bool,
    pub retry: RetryPolicy,
    /// The most one provider attempt may take, streaming included.
    pub request_timeout: Duration,
    /// Tool calls of one turn that run at once; the rest wait, in order.
    pub parallel_tools: usize,
    pub options: RequestOptions,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            max_turns: 20,
            stream: true,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(600),
            parallel_tools: crate::policy::DEFAULT_PARALLEL_TOOLS,
            options: RequestOptions::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Every provider failed; the message says how.
    #[error("{provider}: {error}")]
    Provider {
        provider: String,
        error: ProviderError,
    },
    #[error("stopped after {0} provider calls without a final answer (raise --max-turns)")]
    MaxTurns(u32),
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The model answered without asking for more tools.
    Answered {
        answer: Message,
        provider_calls: u32,
    },
    /// The run was interrupted. The transcript is valid: a provider call in progress left
    /// nothing, and every tool call of the turn has a result (`cancelled` for those that
    /// had not answered), so the next prompt (or `--resume`) goes on from it.
    Interrupted,
}

/// What a tool call that had not answered gets when its turn is interrupted.
pub const CANCELLED_RESULT: &str =
    "cancelled: the turn was interrupted before this tool answered; it may or may not have run";

pub struct Agent {
    /// The primary provider first, then the fallbacks in order.
    providers: Vec<Arc<dyn ChatProvider>>,
    tools: Arc<dyn ToolBox>,
    config: AgentConfig,
}

struct Served {
    response: ChatResponse,
    provider: String,
    latency: Duration,
    retries: u32,
}

impl Agent {
    pub fn new(
        providers: Vec<Arc<dyn ChatProvider>>,
        tools: Arc<dyn ToolBox>,
        config: AgentConfig,
    ) -> Self {
        Self {
            providers,
            tools,
            config,
        }
    }

    /// Runs until the model answers without asking for tools. `transcript` holds the
    /// conversation (the new user message already pushed) and records every step.
    pub async fn run(
        &self,
        transcript: &mut Transcript,
        emit: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Outcome, AgentError> {
        self.run_until(transcript, emit, &CancellationToken::new())
            .await
    }

    /// [`Agent::run`], until `interrupt` is cancelled: then the run stops at once and ends
    /// with [`Outcome::Interrupted`], the transcript left valid.
    pub async fn run_until(
        &self,
        transcript: &mut Transcript,
        emit: &mut (dyn FnMut(AgentEvent) + Send),
        interrupt: &CancellationToken,
    ) -> Result<Outcome, AgentError> {
        for turn in 1..=self.config.max_turns {
            let request = ChatRequest {
                messages: transcript.messages().to_vec(),
                tools: self.tools.specs().to_vec(),
                options: self.config.options.clone(),
            };
            let served = tokio::select! {
                biased;
                () = interrupt.cancelled() => {
                    emit(AgentEvent::Interrupted);
                    return Ok(Outcome::Interrupted);
                }
                served = self.respond(&request, emit) => served,
            };
            let served = match served {
                Ok(served) => served,
                Err(error) => {
                    emit(AgentEvent::Error {
                        message: error.to_string(),
                    });
                    return Err(error);
                }
            };
            let message = served.response.message.clone();
            transcript.push(message.clone())?;
            transcript.record_response(
                &served.provider,
                &served.response.model,
                millis(served.latency),
                served.retries,
                served.response.usage,
            )?;
            if let Some(usage) = served.response.usage {
                emit(AgentEvent::Usage { usage });
            }
            let is_final = message.tool_calls.is_empty();
            emit(AgentEvent::Message {
                message: message.clone(),
                is_final,
                provider: served.provider,
                model: served.response.model,
                latency_ms: millis(served.latency),
                retries: served.retries,
                finish_reason: served.response.finish_reason,
            });
            if is_final {
                if let Some(message) =
                    events::answer_warning(&message, served.response.finish_reason)
                {
                    emit(AgentEvent::Warning { message });
                }
                return Ok(Outcome::Answered {
                    answer: message,
                    provider_calls: turn,
                });
            }
            let (results, interrupted) = self.run_tools(&message.tool_calls, emit, interrupt).await;
            for result in results {
                transcript.push(Message::tool_result(result))?;
            }
            if interrupted {
                emit(AgentEvent::Interrupted);
                return Ok(Outcome::Interrupted);
            }
        }
        let error = AgentError::MaxTurns(self.config.max_turns);
        emit(AgentEvent::Error {
            message: error.to_string(),
        });
        Err(error)
    }

    /// Asks each provider in turn, retrying what is worth retrying.
    async fn respond(
        &self,
        request: &ChatRequest,
        emit: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<Served, AgentError> {
        let mut last: Option<(String, ProviderError)> = None;
        for provider in &self.providers {
            if let Some((from, error)) = &last {
                if !error.allows_fallback() {
                    break;
                }
                emit(AgentEvent::Fallback {
                    from: from.clone(),
                    to: provider.name().to_string(),
                    error: error.to_string(),
                });
            }
            let mut attempt = 0;
            let error = loop {
                let started = Instant::now();
                match self.attempt(provider.as_ref(), request, emit).await {
                    Ok(response) => {
                        return Ok(Served {
                            response,
                            provider: provider.name().to_string(),
                            latency: started.elapsed(),
                            retries: attempt,
                        });
                    }
                    Err(error) => {
                        let delay = (error.is_retryable()
                            && attempt < self.config.retry.max_retries)
                            .then(|| {
                                self.config
                                    .retry
                                    .delay(attempt, error.retry_after(), jitter())
                            })
                            .flatten();
                        let Some(delay) = delay else { break error };
                        attempt += 1;
                        emit(AgentEvent::Retry {
                            provider: provider.name().to_string(),
                            attempt,
                            delay_ms: millis(delay),
                            error: error.to_string(),
                        });
                        tokio::time::sleep(delay).await;
                    }
                }
            };
            last = Some((provider.name().to_string(), error));
        }
        let (provider, error) = last.unwrap_or_else(|| {
            (
                "agent".to_string(),
                ProviderError::Other {
                    message: "no provider configured".into(),
                },
            )
        });
        Err(AgentError::Provider { provider, error })
    }

    async fn attempt(
        &self,
        provider: &dyn ChatProvider,
        request: &ChatRequest,
        emit: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<ChatResponse, ProviderError> {
        let mut streamed = false;
        let mut reasoning_shown = false;
        let mut forward = |event: &StreamEvent| {
            streamed |= matches!(
                event,
                StreamEvent::TextDelta(t) | StreamEvent::ReasoningDelta(t) if !t.is_empty()
            ) || matches!(event, StreamEvent::ToolCallStart { .. });
            match event {
                StreamEvent::TextDelta(text) => emit(AgentEvent::Text { text: text.clone() }),
                StreamEvent::ReasoningDelta(text) => {
                    reasoning_shown = true;
                    emit(AgentEvent::Reasoning { text: text.clone() });
                }
                _ => {}
            }
        };
        let call = if self.config.stream {
            provider.respond(request, Some(&mut forward))
        } else {
            provider.respond(request, None)
        };
        let outcome = tokio::time::timeout(self.config.request_timeout, call).await;
        let secs = self.config.request_timeout.as_secs_f64();
        match outcome {
            Ok(Ok(response)) => {
                // A response that was not streamed shows its reasoning whole.
                if !reasoning_shown && let Some(text) = &response.reasoning {
                    emit(AgentEvent::Reasoning { text: text.clone() });
                }
                Ok(response)
            }
            Ok(Err(error)) => Err(error),
            // Still streaming at the deadline: a retry would stream as long again.
            Err(_) if streamed => Err(ProviderError::Limit {
                message: format!(
                    "the response was still streaming after {secs} s (raise --request-timeout \
                     for longer answers)"
                ),
            }),
            Err(_) => Err(ProviderError::Timeout {
                message: format!("no complete response within {secs} s"),
            }),
        }
    }

    /// One tool call and how long it took.
    async fn call_tool(
        &self,
        call: &ToolCall,
    ) -> (Result<String, crate::chat::ToolFailure>, Duration) {
        let started = Instant::now();
        let result = self.tools.call(&call.name, &call.arguments).await;
        (result, started.elapsed())
    }

    /// Runs the calls concurrently; results come back in the order of the calls, one per
    /// call, whatever happened to it.
    /// Stopped by `interrupt`, the calls that had not answered get a `cancelled` result;
    /// the second value says whether that happened.
    async fn run_tools(
        &self,
        calls: &[ToolCall],
        emit: &mut (dyn FnMut(AgentEvent) + Send),
        interrupt: &CancellationToken,
    ) -> (Vec<ToolResult>, bool) {
        for call in calls {
            emit(AgentEvent::ToolCall {
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
        }
        use futures::StreamExt as _;
        // Futures of a named async fn (not closures): the run stays `Send` for any
        // lifetime, so a frontend can spawn it on a multi-threaded runtime.
        let runs: Vec<_> = calls.iter().map(|call| self.call_tool(call)).collect();
        // At most `parallel_tools` at once, results in the order of the calls.
        let mut running =
            Box::pin(futures::stream::iter(runs).buffered(self.config.parallel_tools.max(1)));
        let mut outcomes = Vec::with_capacity(calls.len());
        let mut interrupted = false;
        while outcomes.len() < calls.len() {
            tokio::select! {
                biased;
                () = interrupt.cancelled() => {
                    interrupted = true;
                    break;
                }
                next = running.next() => match next {
                    Some(outcome) => outcomes.push(outcome),
                    None => break,
                },
            }
        }
        // Calls that had not answered: dropping their futures stops waiting for them (a
        // plugin call still running ends at its own deadline, its answer unused).
        drop(running);
        let answered = outcomes.len();
        outcomes.extend(calls[answered..].iter().map(|_| {
            (
                Err(crate::chat::ToolFailure::new(
                    ToolErrorKind::Cancelled,
                    CANCELLED_RESULT,
                )),
                Duration::ZERO,
            )
        }));
        let results = calls
            .iter()
            .zip(outcomes)
            .map(|(call, (result, took))| {
                let (content, kind, limit) = match result {
                    Ok(output) => (output, None, None),
                    Err(failure) => (failure.message, Some(failure.kind), failure.limit),
                };
                emit(AgentEvent::ToolResult {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    ok: kind.is_none(),
                    output: content.clone(),
                    duration_ms: millis(took),
                    error_kind: kind,
                    limit,
                });
                ToolResult {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    content,
                    is_error: kind.is_some(),
                    error_kind: kind,
                }
            })
            .collect();
        (results, interrupted)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "turn_tests.rs"]
mod tests;
