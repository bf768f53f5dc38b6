//! Class 3: a plugin that reads its injected key back (from a server that echoes request
//! headers) cannot get it onto the screen, into the transcript, the cassette, the events
//! or the logs, streamed or not, through its answer, a tool call or its log.

use super::{all_text_under, printed};
use crate::support::{RecordingServer, policy_dir, stderr, stdout, wasmhost_env};

const CANARY: &str = "canary-key-8b2f4e6a1c9d";

fn granted(server: &RecordingServer) -> tempfile::TempDir {
    policy_dir(&format!(
        "[plugins.hostile-provider]\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
         [plugins.hostile-provider.secret]\nenv = \"WASMHOST_TEST_CANARY\"\n\
         header = \"authorization\"\nprefix = \"Bearer \"\n",
        server.port
    ))
}

#[test]
fn an_echoed_key_is_redacted_from_everything_the_host_writes() {
    let server = RecordingServer::echoing();
    let dir = granted(&server);
    for (i, extra) in [
        &[][..],
        &["--no-stream"][..],
        &["--json"][..],
        &["--json", "--no-stream"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let transcript = dir.path().join(format!("t{i}.jsonl"));
        let cassette = dir.path().join(format!("c{i}.jsonl"));
        let mut args = vec![
            "-v",
            "run",
            "--plugin",
            "hostile-provider",
            "--tool",
            "hostile",
            "--transcript",
            transcript.to_str().expect("utf-8"),
            "--record",
            cassette.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        // The provider answers with the echoed headers, logs them, prints them, and passes
        // them to a tool, which echoes them back as its result.
        args.push("echo-headers tool echo");
        let out = wasmhost_env(&args, dir.path(), &[("WASMHOST_TEST_CANARY", CANARY)]);
        assert!(out.status.success(), "{extra:?}: {}", printed(&out));
        let shown = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !shown.contains(CANARY),
            "{extra:?}: the key reached the screen:\n{shown}"
        );
        assert!(
            shown.contains("[REDACTED]"),
            "{extra:?}: nothing was echoed?\n{shown}"
        );
    }
    // The key did travel to the server (so it was there to leak)...
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {CANARY}").as_str())),
        "{:?}",
        server.requests()
    );
    // ... and nothing the host wrote holds it: transcripts, cassettes, data and config.
    let written = all_text_under(dir.path());
    assert!(written.contains("[REDACTED]"));
    assert!(
        !written.contains(CANARY),
        "the key is in a file the host wrote"
    );
}

#[test]
fn a_plugin_that_learned_its_key_cannot_send_it_on() {
    // The same key in a URL or header of a request elsewhere is refused (the host adds it
    // itself, only to its origin).
    let server = RecordingServer::echoing();
    let other = RecordingServer::start();
    let dir = policy_dir(&format!(
        "[plugins.hostile]\nallowed_hosts = [\"127.0.0.1:{}\"]\n\
         [plugins.hostile.secret]\nenv = \"WASMHOST_TEST_CANARY\"\nheader = \"authorization\"\n\
         host = \"http://127.0.0.1:{}\"\n",
        other.port, server.port
    ));
    let url = format!("http://127.0.0.1:{}/?k={CANARY}", other.port);
    let args = serde_json::json!({ "url": url }).to_string();
    let out = wasmhost_env(
        &["call", "hostile", "http_get", &args],
        dir.path(),
        &[("WASMHOST_TEST_CANARY", CANARY)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let err = stderr(&out);
    assert!(err.contains("tried to send its secret"), "{err}");
    assert!(!err.contains(CANARY), "{err}");
    assert!(other.requests().is_empty());
}
