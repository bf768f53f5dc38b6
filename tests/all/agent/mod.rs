//! `wasmhost run` end to end: the real binary, the real provider plugins and the skills
//! and hostile tool plugins, over loopback HTTP to fakes that speak each API as documented
//! and check every request our plugins send.

use serde_json::Value;
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::anthropic::FakeAnthropic;
use wasmhost_e2e::fake::openai::FakeOpenAi;

use crate::support::{repo_root, stderr, stdout, wasmhost_env};

mod conversation;
mod faults;
mod interrupt;
mod listing;
mod mcp_remote;
mod mcp_tools;
mod quirks;
mod session;

pub struct Run {
    pub output: std::process::Output,
    pub events: Vec<Value>,
    pub transcript: Vec<Value>,
}

impl Run {
    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    pub fn final_text(&self) -> String {
        let finals: Vec<&Value> = self
            .of_type("message")
            .into_iter()
            .filter(|m| m["final"] == true)
            .collect();
        assert_eq!(finals.len(), 1, "one final message: {:#?}", self.events);
        finals[0]["message"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
}

/// `wasmhost run --json` with `args` in a fresh folder; the transcript lands there too.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(&tempfile::tempdir().expect("tempdir"), args, env)
}

pub fn run_in(dir: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let transcript = dir.path().join("transcript.jsonl");
    let mut full = vec!["run", "--json"];
    let t = transcript.display().to_string();
    if !args.contains(&"--resume") && !args.contains(&"--transcript") {
        full.extend(["--transcript", &t]);
    }
    full.extend(args);
    // The fakes stand in for the providers' APIs: pointed at another server, a preset's
    // key is sent only when it is named for it, as a user would name it.
    for (plugin, (var, _)) in [("openai", OPENAI_KEY), ("anthropic", ANTHROPIC_KEY)] {
        let primary = args.windows(2).any(|w| w == ["--plugin", plugin]);
        let has_key = env.iter().any(|(k, _)| *k == var);
        if primary && has_key && args.contains(&"--base-url") && !args.contains(&"--api-key-env") {
            full.extend(["--api-key-env", var]);
        }
    }
    let output = wasmhost_env(&full, dir.path(), env);
    let events = stdout(&output)
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {}", stderr(&output)))
        })
        .collect();
    let transcript = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("transcript line"))
        .collect();
    Run {
        output,
        events,
        transcript,
    }
}

pub const OPENAI_KEY: (&str, &str) = ("OPENAI_API_KEY", FakeOpenAi::KEY);
pub const ANTHROPIC_KEY: (&str, &str) = ("ANTHROPIC_API_KEY", FakeAnthropic::KEY);

pub fn skills() -> String {
    repo_root().join("skills").display().to_string()
}

pub fn openai_skill_script() -> Vec<Reply> {
    vec![
        Reply::chat("Let me look.").with_tool_call("call_1", "list_skills", "{}"),
        Reply::chat("")
            .with_tool_call("call_2", "get_skill", r#"{"name":"unit-converter"}"#)
            .with_tool_call(
                "call_3",
                "read_file_in_skill",
                r#"{"name":"unit-converter","path":"references/units.md"}"#,
            ),
        Reply::chat("10 km is 6.21 miles.").with_usage(120, 9),
    ]
}
