//! What real OpenAI-compatible servers do that the plain API does not, reproduced in the
//! fake from their documented formats: reasoning beside (or instead of) the answer. The
//! reasoning reaches `--json` as `reasoning` events (contract 0.2), never the answer.

use wasmhost_e2e::fake::openai::FakeOpenAi;
use wasmhost_e2e::fake::{Reasoning, Reply};

use super::{OPENAI_KEY, Run, run, run_in};
use crate::support::stderr;

/// The reasoning a run's `reasoning` events carry, joined, and how many events.
fn reasoning(r: &Run) -> (String, usize) {
    let events = r.of_type("reasoning");
    let text = events.iter().filter_map(|e| e["text"].as_str()).collect();
    (text, events.len())
}

const THINKING: &str = "The user asks for six times seven, which is forty-two.";

#[test]
fn mistral_thinking_parts_are_kept_out_of_the_answer_streamed_and_whole() {
    for streamed in [true, false] {
        let fake = FakeOpenAi::start(vec![
            Reply::chat("6 × 7 = 42.").with_reasoning(Reasoning::MistralParts, THINKING),
        ]);
        let url = fake.base_url();
        let mut args = vec!["--plugin", "openai", "--base-url", &url, "what is 6 × 7?"];
        if !streamed {
            args.insert(0, "--no-stream");
        }
        let r = run(&args, &[OPENAI_KEY]);
        assert_eq!(
            r.code(),
            Some(0),
            "streamed {streamed}: {}",
            stderr(&r.output)
        );
        assert_eq!(r.final_text(), "6 × 7 = 42.");
        let streamed_text: String = r
            .of_type("text")
            .iter()
            .filter_map(|e| e["text"].as_str())
            .collect();
        if streamed {
            assert_eq!(streamed_text, "6 × 7 = 42.");
        }
        assert!(
            !stderr(&r.output).contains("forty-two"),
            "{}",
            stderr(&r.output)
        );
        assert!(
            r.of_type("warning").is_empty(),
            "{:?}",
            r.of_type("warning")
        );
        // The thinking is in the events: in pieces as it streamed, whole otherwise.
        let (text, count) = reasoning(&r);
        assert_eq!(text, THINKING, "streamed {streamed}");
        if streamed {
            assert!(count > 1, "streamed in pieces: {count}");
        } else {
            assert_eq!(count, 1);
        }
        // ... and nowhere in the transcript, nor sent back to the API.
        let transcript = serde_json::to_string(&r.transcript).expect("json");
        assert!(!transcript.contains("forty-two"), "{transcript}");
        fake.assert_no_violations();
    }
}

#[test]
fn an_answer_of_reasoning_alone_is_said_not_shown_as_empty() {
    // llama.cpp and DeepSeek stream `reasoning_content`; OpenRouter and Ollama `reasoning`.
    for (field, streamed) in [
        ("reasoning_content", true),
        ("reasoning", true),
        ("reasoning_content", false),
    ] {
        let fake = FakeOpenAi::start(vec![
            Reply::chat("")
                .with_reasoning(Reasoning::Field(field), "Okay, the user wants")
                .finish("length"),
        ]);
        let url = fake.base_url();
        let mut args = vec!["--plugin", "openai", "--base-url", &url, "hi"];
        if !streamed {
            args.insert(0, "--no-stream");
        }
        let r = run(&args, &[OPENAI_KEY]);
        let err = stderr(&r.output);
        assert_eq!(r.code(), Some(0), "{field}: {err}");
        assert_eq!(r.final_text(), "");
        let message = &r.of_type("message")[0];
        assert_eq!(message["finish_reason"], "length", "{message}");
        let warnings = r.of_type("warning");
        assert_eq!(warnings.len(), 1, "{field}: {warnings:?}");
        assert!(
            warnings[0]["message"].as_str().is_some_and(
                |m| m.contains("stopped at its output limit before it wrote an answer")
            ),
            "{warnings:?}"
        );
        // The plugin says the model only reasoned, and the reasoning is in the events.
        assert!(
            err.contains("[openai warn] the model sent 20 characters of reasoning and no answer"),
            "{field} streamed {streamed}: {err}"
        );
        assert_eq!(
            reasoning(&r).0,
            "Okay, the user wants",
            "{field} {streamed}"
        );
        fake.assert_no_violations();
    }
}

#[test]
fn reasoning_is_recorded_and_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("42.").with_reasoning(Reasoning::Field("reasoning_content"), THINKING),
    ]);
    let url = fake.base_url();
    let cassette = dir.path().join("thinking.cassette.jsonl");
    let cassette = cassette.to_string_lossy();
    let recorded = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--record",
            &cassette,
            "6 × 7?",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(recorded.code(), Some(0), "{}", stderr(&recorded.output));
    fake.assert_no_violations();
    let text = std::fs::read_to_string(cassette.as_ref()).expect("cassette");
    assert!(text.contains(r#""type":"reasoning""#), "{text}");
    let replayed = run_in(
        &dir,
        &[
            "--plugin",
            "replay",
            "--cassette",
            &cassette,
            "--transcript",
            &dir.path().join("replayed.jsonl").to_string_lossy(),
            "6 × 7?",
        ],
        &[],
    );
    assert_eq!(replayed.code(), Some(0), "{}", stderr(&replayed.output));
    assert_eq!(replayed.final_text(), "42.");
    assert_eq!(reasoning(&replayed), reasoning(&recorded));
    assert_eq!(reasoning(&replayed).0, THINKING);
}

#[test]
fn a_plugin_on_contract_0_1_still_answers_with_no_reasoning() {
    // The echo provider targets contract 0.1: the host adapts its answers (whole and
    // streamed) to 0.2, where they have no reasoning. It never connects anywhere.
    for streamed in [true, false] {
        let mut args = vec![
            "--plugin",
            wasmhost_e2e::guests::ECHO_PROVIDER,
            "--base-url",
            "http://127.0.0.1:9",
            "hello there",
        ];
        if !streamed {
            args.insert(0, "--no-stream");
        }
        let r = run(&args, &[]);
        assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
        assert_eq!(r.final_text(), "echo: hello there");
        if streamed {
            assert!(!r.of_type("text").is_empty(), "it streamed");
        }
        assert_eq!(reasoning(&r), (String::new(), 0));
    }
}
