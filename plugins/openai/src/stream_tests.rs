use provider_kit::llm_types::{ServerError, Usage};
use provider_kit::stream::{
    CUT_SHORT, Chunks, EventStream, Transcript, collect, transcript_any_chunking,
};
use provider_kit::testing::{call_delta as args, call_start as start, text_delta as text};

use super::*;

const TEXT: &[u8] = include_bytes!("../fixtures/text.sse");
const TOOL_CALLS: &[u8] = include_bytes!("../fixtures/tool_calls.sse");
const ERROR: &[u8] = include_bytes!("../fixtures/error.sse");
const CUT: &[u8] = include_bytes!("../fixtures/cut.sse");
const OLLAMA_TOOL: &[u8] = include_bytes!("../fixtures/ollama_tool.sse");
const MISTRAL_THINKING: &[u8] = include_bytes!("../fixtures/mistral_thinking.sse");
const REASONING_ONLY: &[u8] = include_bytes!("../fixtures/reasoning_only.sse");

fn run(body: &[u8], chunk: usize) -> Transcript {
    collect(EventStream::new(
        Chunks::split(body, chunk),
        ChatStream::new("gpt-4o-mini"),
    ))
}

/// The transcript, checked to be the same for every chunking and with CRLF.
fn transcript(body: &[u8]) -> Transcript {
    transcript_any_chunking(body, || ChatStream::new("gpt-4o-mini"))
}

#[test]
fn text_then_usage_then_finish() {
    assert_eq!(
        transcript(TEXT),
        Transcript {
            events: vec![
                text("Hello"),
                text("!"),
                text(" Ça"),
                text(" va"),
                text(" 😀"),
                text("?"),
                StreamEvent::Usage(Usage {
                    input_tokens: 19,
                    output_tokens: 7,
                    cached_input_tokens: Some(0)
                }),
                StreamEvent::Finish(FinishReason::Stop),
            ],
            error: None,
        }
    );
}

#[test]
fn two_tool_calls_with_arguments_over_many_chunks() {
    let transcript = transcript(TOOL_CALLS);
    assert_eq!(transcript.error, None);
    let events = &transcript.events;
    assert_eq!(
        events[0],
        start(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather")
    );
    assert_eq!(events[1], args(0, "{\""));
    // Every fragment is passed on as it came, in order, tagged with its call.
    let arguments = |index: u32| -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallDelta(d) if d.index == index => {
                    Some(d.arguments_fragment.as_str())
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(arguments(0), r#"{"location":"Paris, France"}"#);
    assert_eq!(arguments(1), r#"{"tz":"Europe/Paris"}"#);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::ToolCallDelta(_)))
            .count(),
        13
    );
    assert!(events.contains(&start(1, "call_ABCGSFDsfdgqfL8iYXcm3tCF", "get_time")));
    assert_eq!(
        events[events.len() - 2..],
        [
            StreamEvent::Usage(Usage {
                input_tokens: 82,
                output_tokens: 17,
                cached_input_tokens: Some(64)
            }),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn a_whole_call_in_one_chunk_and_stop_means_tool_calls() {
    assert_eq!(
        transcript(OLLAMA_TOOL).events,
        [
            start(0, "call_x1", "now"),
            args(0, "{}"),
            StreamEvent::Finish(FinishReason::ToolCalls)
        ]
    );
}

#[test]
fn an_error_chunk_ends_the_stream_after_the_text_before_it() {
    let transcript = transcript(ERROR);
    assert_eq!(transcript.events, [text("Partial")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Server(ServerError {
            status: None,
            message: "The server had an error while processing your request. Sorry about that!"
                .into(),
            retryable: true,
        }))
    );
}

#[test]
fn a_cut_stream_is_a_network_error() {
    let transcript = transcript(CUT);
    assert_eq!(transcript.events, [text("The answer is")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Network(CUT_SHORT.into()))
    );
    // Finish reason and usage but no [DONE]: still cut.
    let no_done = TEXT
        .strip_suffix(b"data: [DONE]\n\n")
        .expect("fixture ends with [DONE]");
    assert_eq!(
        run(no_done, 50).error,
        Some(ProviderError::Network(CUT_SHORT.into()))
    );
}

#[test]
fn malformed_json_is_quoted_shortened() {
    let body = format!("data: {{\"choices\": [{}\n\n", "x".repeat(1000));
    match run(body.as_bytes(), 100).error {
        Some(ProviderError::Other(m)) => {
            assert!(
                m.starts_with("the API sent a stream chunk that is not the expected JSON"),
                "{m}"
            );
            assert!(m.len() < 500, "{m}");
            assert!(m.ends_with('…'), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fragments_without_index_or_before_the_name() {
    let body = concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"c9\",\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\":1}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    assert_eq!(
        transcript(body.as_bytes()).events,
        [
            start(0, "c9", "f"),
            args(0, "{\"a\":1}"),
            StreamEvent::Finish(FinishReason::ToolCalls)
        ]
    );
    let nameless = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n";
    assert!(matches!(
        run(nameless.as_bytes(), 9).error,
        Some(ProviderError::Other(_))
    ));
}

#[test]
fn an_error_event_and_context_overflow_mid_stream() {
    let body = "event: error\ndata: {\"message\":\"This model's maximum context length is 8192 tokens\",\"type\":\"invalid_request_error\"}\n\n";
    assert!(matches!(
        run(body.as_bytes(), 10).error,
        Some(ProviderError::ContextOverflow(_))
    ));
}

/// Fuzzing the stream state machine: whatever bytes arrive, in whatever chunks, it never
/// panics, and a real stream cut anywhere parses the same as whole.
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn fixture() -> impl Strategy<Value = &'static [u8]> {
        prop_oneof![
            Just(TEXT),
            Just(TOOL_CALLS),
            Just(ERROR),
            Just(CUT),
            Just(OLLAMA_TOOL),
            Just(MISTRAL_THINKING),
            Just(REASONING_ONLY)
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..64) {
            let _ = run(&bytes, chunk);
        }

        #[test]
        fn fixtures_cut_anywhere_parse_the_same(body in fixture(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16)) {
            let mut offsets: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
            offsets.sort_unstable();
            let cut = collect(EventStream::new(Chunks::cut_at(body, &offsets), ChatStream::new("gpt-4o-mini")));
            prop_assert_eq!(cut, run(body, body.len().max(1)));
        }

        #[test]
        fn mutated_fixtures_never_panic(body in fixture(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let mut bytes = body.to_vec();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let _ = run(&bytes, 7);
        }
    }
}

#[test]
fn mistral_thinking_parts_are_not_the_answer() {
    let transcript = transcript(MISTRAL_THINKING);
    assert_eq!(transcript.error, None);
    let texts: String = transcript
        .events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, "6 × 7 = **42**.");
    assert_eq!(
        transcript.events.last(),
        Some(&StreamEvent::Finish(FinishReason::Stop))
    );
    assert!(transcript.events.contains(&StreamEvent::Usage(Usage {
        input_tokens: 12,
        output_tokens: 48,
        cached_input_tokens: None
    })));
}

#[test]
fn reasoning_sent_in_two_fields_at_once_is_relayed_once() {
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hmm\",\"reasoning\":\"hmm\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let transcript = transcript(body.as_bytes());
    assert_eq!(
        transcript.events,
        vec![
            StreamEvent::ReasoningDelta("hmm".into()),
            StreamEvent::TextDelta("ok".into()),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn content_parts_split_answer_from_reasoning() {
    let parts = serde_json::json!([
        {"type": "thinking", "thinking": [{"type": "text", "text": "hmm "}, {"type": "text", "text": "ok"}]},
        {"type": "thinking", "thinking": "plain"},
        {"type": "text", "text": "A"},
        {"type": "reference", "reference_ids": [1]},
        {"text": "B"},
    ]);
    assert_eq!(
        Content::of(Some(&parts)),
        Content {
            text: "AB".into(),
            reasoning: "hmm okplain".into()
        }
    );
    assert_eq!(Content::of(Some(&serde_json::json!("x"))).text, "x");
    assert_eq!(Content::of(None), Content::default());
}

#[test]
fn reasoning_alone_is_no_answer() {
    provider_kit::testing::take_warnings();
    let transcript = run(REASONING_ONLY, 7);
    assert_eq!(transcript.error, None);
    // The reasoning goes out as reasoning, never as the answer.
    assert_eq!(
        transcript.events,
        vec![
            StreamEvent::ReasoningDelta("Okay, ".into()),
            StreamEvent::ReasoningDelta("the user ".into()),
            StreamEvent::ReasoningDelta("wants".into()),
            StreamEvent::Finish(FinishReason::Length)
        ]
    );
    let warnings = provider_kit::testing::take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("20 characters of reasoning and no answer"),
        "{warnings:?}"
    );
    // An answer after reasoning is no cause for a warning.
    let _ = transcript_any_chunking(MISTRAL_THINKING, || ChatStream::new("m"));
    assert_eq!(provider_kit::testing::take_warnings(), Vec::<String>::new());
}
