//! What real OpenAI-compatible servers do that the plain API does not, reproduced in the
//! fake from their documented formats: reasoning beside (or instead of) the answer.

use wasmhost_e2e::fake::openai::FakeOpenAi;
use wasmhost_e2e::fake::{Reasoning, Reply};

use super::{OPENAI_KEY, run};
use crate::support::stderr;

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
        // The plugin says what it did not show.
        assert!(
            err.contains("[openai warn] the model sent 20 characters of reasoning and no answer"),
            "{field} streamed {streamed}: {err}"
        );
        fake.assert_no_violations();
    }
}
