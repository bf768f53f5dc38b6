use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::agent::fakes::{Mixed, Scripted, Slow, answer, calls};
use crate::agent::{AgentConfig, CANCELLED_RESULT};
use crate::chat::{Role, ToolErrorKind};

fn agent(provider: Arc<Scripted>, tools: Arc<dyn crate::agent::ToolBox>) -> Arc<Agent> {
    Arc::new(Agent::new(
        vec![provider],
        tools,
        AgentConfig {
            stream: false,
            ..AgentConfig::default()
        },
    ))
}

fn user(text: &str) -> Submission {
    Submission::UserTurn(Message::text(Role::User, text))
}

/// Events until turn `turn` ends, and how it ended.
async fn until_ended(task: &mut AgentTask, turn: u64) -> (Vec<TaskEvent>, Outcome) {
    let mut seen = Vec::new();
    while let Some(event) = tokio::time::timeout(Duration::from_secs(10), task.next_event())
        .await
        .expect("the task reports within 10 s")
    {
        if let TaskEvent::TurnEnded { turn: t, outcome } = event {
            assert_eq!(t, turn, "turns end in order");
            return (seen, outcome.expect("the turn runs"));
        }
        seen.push(event);
    }
    panic!("the task ended before turn {turn} did: {seen:?}");
}

/// The tool results of a transcript: every call of every assistant message has one.
fn answered_calls(transcript: &Transcript) -> Vec<(String, Option<ToolErrorKind>)> {
    let messages = transcript.messages();
    let asked: usize = messages.iter().map(|m| m.tool_calls.len()).sum();
    let results: Vec<_> = messages
        .iter()
        .filter_map(|m| m.tool_result.as_ref())
        .map(|r| (r.content.clone(), r.error_kind))
        .collect();
    assert_eq!(asked, results.len(), "one result per call");
    results
}

#[tokio::test]
async fn turns_sent_at_once_run_in_order_on_one_transcript() {
    let provider = Arc::new(Scripted::new(vec![
        Ok(answer(calls(2))),
        Ok(answer(Message::text(Role::Assistant, "first"))),
        Ok(answer(Message::text(Role::Assistant, "second"))),
    ]));
    let mut task = AgentTask::spawn(
        agent(provider.clone(), Arc::new(Slow::default())),
        Transcript::in_memory(),
    );
    task.submit(user("one")).expect("submit");
    task.submit(user("two")).expect("submit");
    let (events, outcome) = until_ended(&mut task, 1).await;
    assert!(matches!(events[0], TaskEvent::TurnStarted { turn: 1 }));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, TaskEvent::Agent(AgentEvent::ToolCall { .. }))),
        "the loop's events come through: {events:?}"
    );
    let Outcome::Answered { answer, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(answer.text_content(), "first");
    let (events, outcome) = until_ended(&mut task, 2).await;
    assert!(matches!(events[0], TaskEvent::TurnStarted { turn: 2 }));
    assert!(matches!(outcome, Outcome::Answered { .. }));
    let transcript = task.shutdown().await.expect("shutdown");
    let users: Vec<String> = transcript
        .messages()
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.text_content())
        .collect();
    assert_eq!(users, ["one", "two"]);
    assert_eq!(answered_calls(&transcript).len(), 2);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_interrupt_ends_the_turn_with_every_call_answered_and_the_next_turn_works() {
    let mut two = calls(2);
    two.tool_calls[0].name = "quick".into();
    two.tool_calls[1].name = "slow".into();
    let provider = Arc::new(Scripted::new(vec![Ok(answer(two))]));
    let mut task = AgentTask::spawn(
        agent(provider.clone(), Arc::new(Mixed { specs: Vec::new() })),
        Transcript::in_memory(),
    );
    // Before any turn, an interrupt does nothing.
    task.submit(Submission::Interrupt).expect("submit");
    task.submit(user("go")).expect("submit");
    // Once the slow tool runs (and the quick one has had time to answer), interrupt
    // from another handle.
    loop {
        let event = task.next_event().await.expect("event");
        if matches!(
            &event,
            TaskEvent::Agent(AgentEvent::ToolCall { name, .. }) if name == "slow"
        ) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    task.submitter().interrupt().expect("interrupt");
    let (events, outcome) = until_ended(&mut task, 1).await;
    assert!(matches!(outcome, Outcome::Interrupted), "{outcome:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, TaskEvent::Agent(AgentEvent::Interrupted))),
        "{events:?}"
    );
    task.submit(user("again")).expect("submit");
    let (_, outcome) = until_ended(&mut task, 2).await;
    assert!(matches!(outcome, Outcome::Answered { .. }), "{outcome:?}");
    let transcript = task.shutdown().await.expect("shutdown");
    assert_eq!(
        answered_calls(&transcript),
        [
            ("quick done".to_string(), None),
            (CANCELLED_RESULT.to_string(), Some(ToolErrorKind::Cancelled)),
        ]
    );
}

#[tokio::test]
async fn a_shutdown_during_a_turn_interrupts_it_and_says_which_turns_were_dropped() {
    let mut one = calls(1);
    one.tool_calls[0].name = "slow".into();
    let provider = Arc::new(Scripted::new(vec![Ok(answer(one))]));
    let mut task = AgentTask::spawn(
        agent(provider, Arc::new(Mixed { specs: Vec::new() })),
        Transcript::in_memory(),
    );
    task.submit(user("go")).expect("submit");
    task.submit(user("later")).expect("submit");
    loop {
        let event = task.next_event().await.expect("event");
        if matches!(event, TaskEvent::Agent(AgentEvent::ToolCall { .. })) {
            break;
        }
    }
    task.submit(Submission::Shutdown).expect("submit");
    task.submit(user("after the shutdown")).expect("still open");
    let mut rest = Vec::new();
    while let Some(event) = task.next_event().await {
        rest.push(event);
    }
    assert!(
        rest.iter().any(|e| matches!(
            e,
            TaskEvent::TurnEnded {
                turn: 1,
                outcome: Ok(Outcome::Interrupted)
            }
        )),
        "{rest:?}"
    );
    let dropped: Vec<u64> = rest
        .iter()
        .filter_map(|e| match e {
            TaskEvent::TurnDropped { turn } => Some(*turn),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, [2, 3]);
    assert_eq!(task.submit(user("too late")), Err(TaskEnded));
    let transcript = task.shutdown().await.expect("the transcript comes back");
    assert_eq!(
        answered_calls(&transcript),
        [(CANCELLED_RESULT.to_string(), Some(ToolErrorKind::Cancelled))]
    );
}

#[tokio::test]
async fn dropping_every_submitter_ends_the_task() {
    let provider = Arc::new(Scripted::new(Vec::new()));
    let task = AgentTask::spawn(
        agent(provider, Arc::new(Slow::default())),
        Transcript::in_memory(),
    );
    let AgentTask {
        submitter,
        mut events,
        task,
    } = task;
    drop(submitter);
    assert!(events.recv().await.is_none(), "no events, the task ended");
    let transcript = task.await.expect("joined");
    assert!(transcript.messages().is_empty());
}

/// Answers at once; on its first answer it also sends an interrupt, which arrives as
/// that turn ends.
struct InterruptsAsItAnswers {
    submitter: std::sync::OnceLock<Submitter>,
    calls: std::sync::atomic::AtomicUsize,
}

impl crate::agent::ChatProvider for InterruptsAsItAnswers {
    fn name(&self) -> &str {
        "late-interrupt"
    }

    fn respond<'a>(
        &'a self,
        _request: &'a crate::chat::ChatRequest,
        _on_event: Option<crate::agent::EventCallback<'a>>,
    ) -> crate::BoxFuture<'a, Result<crate::chat::ChatResponse, crate::chat::ProviderError>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0
                && let Some(submitter) = self.submitter.get()
            {
                let _ = submitter.interrupt();
            }
            Ok(answer(Message::text(Role::Assistant, "done")))
        })
    }
}

#[tokio::test]
async fn an_interrupt_that_arrives_as_a_turn_ends_never_stops_the_next_one() {
    // Each round has a turn waiting while the first ends; whichever branch the task polls
    // first, the interrupt belongs to the first turn.
    for round in 0..20 {
        let provider = Arc::new(InterruptsAsItAnswers {
            submitter: std::sync::OnceLock::new(),
            calls: std::sync::atomic::AtomicUsize::new(0),
        });
        let agent = Arc::new(Agent::new(
            vec![provider.clone()],
            Arc::new(Slow::default()),
            AgentConfig {
                stream: false,
                ..AgentConfig::default()
            },
        ));
        let mut task = AgentTask::spawn(agent, Transcript::in_memory());
        provider.submitter.set(task.submitter()).expect("set once");
        task.submit(user("one")).expect("submit");
        task.submit(user("two")).expect("submit");
        let _ = until_ended(&mut task, 1).await;
        let (_, second) = until_ended(&mut task, 2).await;
        assert!(
            matches!(second, Outcome::Answered { .. }),
            "round {round}: {second:?}"
        );
    }
}
