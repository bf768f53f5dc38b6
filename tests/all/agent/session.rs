//! The library's session builder, used the way a frontend other than the CLI would: a
//! spec in, a conversation out, under the same policy and grants as `run`.

use wasmhost::agent::{AgentEvent, Outcome, Submission, TaskEvent};
use wasmhost::policy::Policy;
use wasmhost::policy::credentials::SecretSources;
use wasmhost::session::{HostEnv, Session, SessionError, SessionSpec, user_message};
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::openai::FakeOpenAi;

use super::{OPENAI_KEY, skills};

fn host() -> HostEnv {
    HostEnv {
        policy: Policy::default(),
        sandbox: crate::support::sandbox(),
        sources: SecretSources {
            use_process_env: false,
            environment: Some([(OPENAI_KEY.0.to_string(), OPENAI_KEY.1.to_string())].into()),
            dotenv: Default::default(),
        },
    }
}

#[tokio::test]
async fn a_spec_opens_a_conversation_with_the_skills_catalog_and_tools() {
    let fake = FakeOpenAi::start(vec![
        Reply::chat("").with_tool_call("c1", "list_skills", "{}"),
        Reply::chat("Three skills."),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = SessionSpec {
        base_url: Some(fake.base_url()),
        api_key_env: Some(OPENAI_KEY.0.to_string()),
        // By path: a test process has no shipped plugins next to it to find by name. The
        // skills plugin, wherever it comes from, is the one the folder is granted to.
        tools: vec![wasmhost_e2e::guests::SKILLS.to_string()],
        skills: Some(skills().into()),
        transcript: Some(dir.path().join("t.jsonl")),
        ..SessionSpec::new(wasmhost_e2e::guests::OPENAI)
    };
    let host = host();
    let session = Session::open(&host, &spec).await.expect("opens");
    // As a frontend drives it: a task with a turn in, events out.
    let mut task = session.spawn();
    task.submit(Submission::UserTurn(
        user_message("Which skills are there?", &[]).expect("message"),
    ))
    .expect("submit");
    let mut events = Vec::new();
    let outcome = loop {
        match task.next_event().await.expect("the turn ends") {
            TaskEvent::Agent(event) => events.push(event),
            TaskEvent::TurnEnded { turn, outcome } => {
                assert_eq!(turn, 1);
                break outcome.expect("runs");
            }
            TaskEvent::TurnStarted { .. } | TaskEvent::TurnDropped { .. } => {}
        }
    };
    let transcript = task.shutdown().await.expect("the transcript comes back");
    assert_eq!(
        transcript.messages().len(),
        5,
        "{:?}",
        transcript.messages()
    );
    let Outcome::Answered { answer, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(answer.text_content(), "Three skills.");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolResult { ok: true, .. }))
    );
    // The system prompt carries the catalog; the skills plugin got the folder.
    let first = &fake.chat_requests()[0].body["messages"][0];
    assert_eq!(first["role"], "system");
    assert!(
        first["content"]
            .as_str()
            .is_some_and(|c| c.contains("- unit-converter:")),
        "{first}"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_bad_spec_is_a_usage_error_that_says_what_to_give() {
    let host = host();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = SessionSpec {
        tools: vec![wasmhost_e2e::guests::SKILLS.to_string()],
        skills: Some(dir.path().join("missing")),
        transcript: Some(dir.path().join("t.jsonl")),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        ..SessionSpec::new(wasmhost_e2e::guests::OPENAI)
    };
    match Session::open(&host, &spec).await {
        Err(SessionError::Usage(message)) => {
            assert!(message.contains("not a folder"), "{message}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("opened with a missing skills folder"),
    }
    let replay = SessionSpec::new(wasmhost_e2e::guests::REPLAY);
    match Session::open(&host, &replay).await {
        Err(SessionError::Usage(message)) => assert!(message.contains("--cassette"), "{message}"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("replay without a cassette"),
    }
}
