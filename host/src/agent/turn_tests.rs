use std::sync::atomic::Ordering;

use super::*;
use crate::agent::fakes::{Mixed, Scripted, Slow, answer, calls, conversation};
use crate::chat::{FinishReason, Role, ToolErrorKind};

#[tokio::test]
async fn parallel_tool_calls_are_capped_and_answered_in_order() {
    let provider = Arc::new(Scripted::new(vec![Ok(answer(calls(10)))]));
    let tools = Arc::new(Slow::default());
    let agent = Agent::new(
        vec![provider],
        tools.clone(),
        AgentConfig {
            parallel_tools: 3,
            stream: false,
            ..AgentConfig::default()
        },
    );
    let mut transcript = conversation();
    agent.run(&mut transcript, &mut |_| {}).await.expect("run");
    assert_eq!(
        tools.most.load(Ordering::SeqCst),
        3,
        "never more than the cap at once"
    );
    let results: Vec<&str> = transcript
        .messages()
        .iter()
        .filter_map(|m| m.tool_result.as_ref().map(|r| r.call_id.as_str()))
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    assert_eq!(results, expected);
}

#[tokio::test]
async fn a_limit_is_not_retried() {
    let provider = Arc::new(Scripted::new(vec![Err(ProviderError::Limit {
        message: "too big".into(),
    })]));
    let agent = Agent::new(
        vec![provider.clone()],
        Arc::new(Slow::default()),
        AgentConfig {
            stream: false,
            ..AgentConfig::default()
        },
    );
    let err = agent
        .run(&mut conversation(), &mut |_| {})
        .await
        .expect_err("limit");
    assert!(err.to_string().contains("limit: too big"), "{err}");
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_response_still_streaming_at_the_request_timeout_is_not_retried() {
    let mut scripted = Scripted::new(Vec::new());
    scripted.stall = Some(Duration::from_secs(5));
    let provider = Arc::new(scripted);
    let agent = Agent::new(
        vec![provider.clone()],
        Arc::new(Slow::default()),
        AgentConfig {
            request_timeout: Duration::from_millis(50),
            ..AgentConfig::default()
        },
    );
    let err = agent
        .run(&mut conversation(), &mut |_| {})
        .await
        .expect_err("timeout");
    assert!(
        err.to_string().contains("still streaming after 0.05 s"),
        "{err}"
    );
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn an_empty_or_cut_answer_is_said_once_with_its_reason() {
    let cases = [
        ("", FinishReason::Length, Some("before it wrote an answer")),
        (
            "",
            FinishReason::Stop,
            Some("empty answer (finish reason `stop`)"),
        ),
        ("", FinishReason::ContentFilter, Some("withheld the answer")),
        (
            "half an ans",
            FinishReason::Length,
            Some("cut at the model's output limit"),
        ),
        ("a whole answer", FinishReason::Stop, None),
    ];
    for (text, finish_reason, expected) in cases {
        let mut message = Message::text(Role::Assistant, text);
        if text.is_empty() {
            message.content.clear();
        }
        let provider = Arc::new(Scripted::new(vec![Ok(ChatResponse {
            finish_reason,
            ..answer(message)
        })]));
        let agent = Agent::new(
            vec![provider],
            Arc::new(Slow::default()),
            AgentConfig {
                stream: false,
                ..AgentConfig::default()
            },
        );
        let mut events = Vec::new();
        agent
            .run(&mut conversation(), &mut |event| events.push(event))
            .await
            .expect("run");
        let warnings: Vec<&String> = events
            .iter()
            .filter_map(|event| match event {
                AgentEvent::Warning { message } => Some(message),
                _ => None,
            })
            .collect();
        match expected {
            Some(part) => {
                assert_eq!(
                    warnings.len(),
                    1,
                    "{text:?} {finish_reason:?}: {warnings:?}"
                );
                assert!(warnings[0].contains(part), "{warnings:?}");
            }
            None => assert!(warnings.is_empty(), "{warnings:?}"),
        }
        assert!(events.iter().any(|event| matches!(
            event,
            AgentEvent::Message { finish_reason: f, .. } if *f == finish_reason
        )));
    }
}

#[tokio::test]
async fn an_interrupt_during_tools_answers_every_call_and_leaves_a_valid_transcript() {
    let mut two = calls(2);
    two.tool_calls[0].name = "quick".into();
    two.tool_calls[1].name = "slow".into();
    let provider = Arc::new(Scripted::new(vec![Ok(answer(two))]));
    let agent = Agent::new(
        vec![provider.clone()],
        Arc::new(Mixed { specs: Vec::new() }),
        AgentConfig {
            stream: false,
            ..AgentConfig::default()
        },
    );
    let interrupt = CancellationToken::new();
    let trigger = interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let mut transcript = conversation();
    let mut events = Vec::new();
    let started = std::time::Instant::now();
    let outcome = agent
        .run_until(&mut transcript, &mut |e| events.push(e), &interrupt)
        .await
        .expect("run");
    assert!(matches!(outcome, Outcome::Interrupted), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it stopped at once"
    );
    let results: Vec<(String, Option<ToolErrorKind>)> = transcript
        .messages()
        .iter()
        .filter_map(|m| m.tool_result.as_ref())
        .map(|r| (r.content.clone(), r.error_kind))
        .collect();
    assert_eq!(
        results,
        [
            ("quick done".to_string(), None),
            (CANCELLED_RESULT.to_string(), Some(ToolErrorKind::Cancelled)),
        ]
    );
    assert!(matches!(events.last(), Some(AgentEvent::Interrupted)));
    // The next turn goes on from there.
    transcript
        .push(Message::text(Role::User, "again"))
        .expect("push");
    let outcome = agent.run(&mut transcript, &mut |_| {}).await.expect("run");
    assert!(matches!(outcome, Outcome::Answered { .. }));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_interrupt_during_a_provider_call_leaves_nothing_half_done() {
    let mut scripted = Scripted::new(Vec::new());
    scripted.stall = Some(Duration::from_secs(30));
    let agent = Agent::new(
        vec![Arc::new(scripted)],
        Arc::new(Slow::default()),
        AgentConfig::default(),
    );
    let interrupt = CancellationToken::new();
    let trigger = interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let mut transcript = conversation();
    let outcome = agent
        .run_until(&mut transcript, &mut |_| {}, &interrupt)
        .await
        .expect("run");
    assert!(matches!(outcome, Outcome::Interrupted));
    assert_eq!(transcript.messages().len(), 1, "only the user's message");
}
