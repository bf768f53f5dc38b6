use provider_kit::llm_types::{FinishReason, ServerError, Usage};
use provider_kit::stream::{
    CUT_SHORT, Chunks, EventStream, Transcript, collect, transcript_any_chunking,
};
use provider_kit::testing::{call_delta as args, call_start as start, text_delta as text};

use super::*;

const TEXT: &[u8] = include_bytes!("../fixtures/text.sse");
const TOOL_USE: &[u8] = include_bytes!("../fixtures/tool_use.sse");
const ERROR: &[u8] = include_bytes!("../fixtures/error.sse");
const CUT: &[u8] = include_bytes!("../fixtures/cut.sse");
const TWO_TEXT_BLOCKS: &[u8] = include_bytes!("../fixtures/two_text_blocks.sse");

fn run(body: &[u8], chunk: usize) -> Transcript {
    collect(EventStream::new(
        Chunks::split(body, chunk),
        MessageStream::default(),
    ))
}

/// The transcript, checked to be the same for every chunking and with CRLF.
fn transcript(body: &[u8]) -> Transcript {
    transcript_any_chunking(body, MessageStream::default)
}

#[test]
fn text_with_pings_then_usage_then_finish() {
    assert_eq!(
        transcript(TEXT),
        Transcript {
            events: vec![
                text("Hello"),
                text("! Ça"),
                text(" va"),
                text(" 😀"),
                text("?"),
                StreamEvent::Usage(Usage {
                    input_tokens: 1825,
                    output_tokens: 15,
                    cached_input_tokens: Some(1800)
                }),
                StreamEvent::Finish(FinishReason::Stop),
            ],
            error: None,
        }
    );
}

#[test]
fn separate_text_blocks_are_separate_paragraphs() {
    // An empty block between them adds nothing; the separator comes only with new text.
    let transcript = transcript(TWO_TEXT_BLOCKS);
    assert_eq!(transcript.error, None);
    assert_eq!(
        &transcript.events[..3],
        [
            text("I looked up the information."),
            text("\n\n"),
            text("I found three results."),
        ]
    );
}

#[test]
fn text_then_tool_calls_by_content_block_index() {
    let transcript = transcript(TOOL_USE);
    assert_eq!(transcript.error, None);
    assert_eq!(
        transcript.events,
        [
            text("Okay"),
            text(","),
            text(" let"),
            text("'s check"),
            text(" the weather and the time."),
            start(1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
            args(1, "{\"location\":"),
            args(1, " \"San"),
            args(1, " Francisc"),
            args(1, "o,"),
            args(1, " CA\""),
            args(1, ", "),
            args(1, "\"unit\": \"fah"),
            args(1, "renheit\"}"),
            start(2, "toolu_01Lq9Sdf7gU3yqJbaUV5kNrq", "get_time"),
            args(2, "{\"tz\": "),
            args(2, "\"America/"),
            args(2, "Los_Angeles\"}"),
            // A tool without arguments still gets an object.
            start(3, "toolu_01NoArgs", "now"),
            args(3, "{}"),
            StreamEvent::Usage(Usage {
                input_tokens: 472,
                output_tokens: 89,
                cached_input_tokens: None
            }),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn overloaded_mid_stream_is_a_retryable_529() {
    let transcript = transcript(ERROR);
    assert_eq!(transcript.events, [text("Partial")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Server(ServerError {
            status: Some(529),
            message: "overloaded_error: Overloaded".into(),
            retryable: true,
        }))
    );
}

#[test]
fn a_stream_cut_before_message_stop_is_a_network_error() {
    let transcript = transcript(CUT);
    assert_eq!(transcript.events, [text("The answer is"), text(" 4")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Network(CUT_SHORT.into()))
    );
}

#[test]
fn thinking_is_relayed_as_reasoning_and_unknown_events_are_ignored() {
    let body = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"more\"}}\n\n",
        "event: something_new\ndata: {\"type\":\"something_new\",\"x\":1}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    assert_eq!(
        transcript(body.as_bytes()).events,
        [
            // Two thinking blocks, separated as a whole message's are.
            StreamEvent::ReasoningDelta("hmm".into()),
            StreamEvent::ReasoningDelta("\n\n".into()),
            StreamEvent::ReasoningDelta("more".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                output_tokens: 9,
                cached_input_tokens: None
            }),
            StreamEvent::Finish(FinishReason::Length),
        ]
    );
    let broken =
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":\n\n";
    assert!(matches!(
        run(broken.as_bytes(), 5).error,
        Some(ProviderError::Other(m)) if m.contains("not the expected JSON")
    ));
    let odd_error = "event: error\ndata: upstream connect error\n\n";
    assert!(matches!(
        run(odd_error.as_bytes(), 5).error,
        Some(ProviderError::Server(_))
    ));
}

/// Fuzzing the stream state machine: whatever bytes arrive, in whatever chunks, it never
/// panics, and a real stream cut anywhere parses the same as whole.
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn fixture() -> impl Strategy<Value = &'static [u8]> {
        prop_oneof![Just(TEXT), Just(TOOL_USE), Just(ERROR), Just(CUT)]
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
            let cut = collect(EventStream::new(Chunks::cut_at(body, &offsets), MessageStream::default()));
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
