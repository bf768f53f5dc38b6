//! A scripted provider and slow tools for the loop's tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::BoxFuture;
use crate::agent::{ChatProvider, EventCallback, ToolBox, Transcript};
use crate::chat::{
    ChatRequest, ChatResponse, FinishReason, Message, ProviderError, Role, StreamEvent, ToolCall,
    ToolSpec,
};

/// Answers with the next of its scripted results; counts calls.
pub(crate) struct Scripted {
    pub(crate) replies: Mutex<Vec<Result<ChatResponse, ProviderError>>>,
    pub(crate) calls: AtomicUsize,
    /// Streams one text delta, then waits this long before answering.
    pub(crate) stall: Option<Duration>,
}

impl Scripted {
    pub(crate) fn new(replies: Vec<Result<ChatResponse, ProviderError>>) -> Self {
        Self {
            replies: Mutex::new(replies),
            calls: AtomicUsize::new(0),
            stall: None,
        }
    }
}

pub(crate) fn answer(message: Message) -> ChatResponse {
    let finish_reason = if message.tool_calls.is_empty() {
        FinishReason::Stop
    } else {
        FinishReason::ToolCalls
    };
    ChatResponse {
        message,
        finish_reason,
        usage: None,
        model: "m".into(),
        reasoning: None,
    }
}

impl ChatProvider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn respond<'a>(
        &'a self,
        _request: &'a ChatRequest,
        on_event: Option<EventCallback<'a>>,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(stall) = self.stall {
                if let Some(on_event) = on_event {
                    on_event(&StreamEvent::TextDelta("partial".into()));
                }
                tokio::time::sleep(stall).await;
            }
            let mut replies = self.replies.lock().expect("lock");
            if replies.is_empty() {
                return Ok(answer(Message::text(Role::Assistant, "done")));
            }
            replies.remove(0)
        })
    }
}

/// Tools that take a moment and record how many ran at once.
#[derive(Default)]
pub(crate) struct Slow {
    pub(crate) running: AtomicUsize,
    pub(crate) most: AtomicUsize,
    pub(crate) specs: Vec<ToolSpec>,
}

impl ToolBox for Slow {
    fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        _arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, crate::chat::ToolFailure>> {
        Box::pin(async move {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(format!("{name} ok"))
        })
    }
}

pub(crate) fn calls(n: usize) -> Message {
    let mut m = Message::text(Role::Assistant, "");
    m.content.clear();
    m.tool_calls = (0..n)
        .map(|i| ToolCall {
            id: format!("c{i}"),
            name: format!("t{i}"),
            arguments: "{}".into(),
        })
        .collect();
    m
}

pub(crate) fn conversation() -> Transcript {
    let mut t = Transcript::in_memory();
    t.push(Message::text(Role::User, "go")).expect("push");
    t
}

/// A fast tool `quick` and a tool `slow` that takes longer than any test waits.
pub(crate) struct Mixed {
    pub(crate) specs: Vec<ToolSpec>,
}

impl ToolBox for Mixed {
    fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        _arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, crate::chat::ToolFailure>> {
        Box::pin(async move {
            if name == "slow" {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            Ok(format!("{name} done"))
        })
    }
}
