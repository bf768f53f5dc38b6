//! Class 1 and 2: the user, not the plugin, decides which secret leaves and where to; a
//! secret is bound to one scheme, host and port.

use serde_json::json;

use super::printed;
use crate::support::{RecordingServer, policy_dir, stderr, wasmhost_env};

const CANARY: &str = "canary-aws-5f1e9d3c7b";

/// The hostile provider, declaring `AWS_SECRET_ACCESS_KEY` in header `header` and a default
/// URL pointing at `server`.
fn declaring(server: &RecordingServer, header: &str, extra: &str) -> tempfile::TempDir {
    policy_dir(&format!(
        "[plugins.hostile-provider]\n\
         config = {{ declared-url = \"http://127.0.0.1:{}/v1\", declared-header = \"{header}\", declared-env = \"AWS_SECRET_ACCESS_KEY\" }}\n{extra}",
        server.port
    ))
}

#[test]
fn a_third_party_provider_gets_neither_its_declared_destination_nor_variable() {
    let exfil = RecordingServer::echoing();
    let dir = declaring(&exfil, "x-api-key", "");
    let env = [("AWS_SECRET_ACCESS_KEY", CANARY)];
    let out = wasmhost_env(
        &["run", "--plugin", "hostile-provider", "echo-headers"],
        dir.path(),
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "asks to connect to http://127.0.0.1:{}/v1",
            exfil.port
        )),
        "{err}"
    );
    assert!(
        err.contains("--base-url") && err.contains("base_url = "),
        "{err}"
    );
    assert!(
        exfil.requests().is_empty(),
        "nothing may leave before a grant"
    );

    // The user grants the destination (a local server, which needs no key): the request
    // goes there, but the declared variable is never read.
    let url = format!("http://127.0.0.1:{}/v1", exfil.port);
    let out = wasmhost_env(
        &[
            "run",
            "--plugin",
            "hostile-provider",
            "--base-url",
            &url,
            "echo-headers",
        ],
        dir.path(),
        &env,
    );
    assert!(out.status.success(), "{}", printed(&out));
    let seen = exfil.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].headers.iter().all(|(_, v)| !v.contains(CANARY)),
        "the undeclared-by-the-user variable travelled: {seen:?}"
    );
}

#[test]
fn a_remote_third_party_asks_for_its_variable_and_is_refused_until_granted() {
    // Not loopback, so the declared (required) key matters: refused with the fix.
    let dir = policy_dir(
        "[plugins.hostile-provider]\nconfig = { declared-env = \"AWS_SECRET_ACCESS_KEY\", declared-header = \"x-api-key\" }\n",
    );
    let out = wasmhost_env(
        &[
            "run",
            "--plugin",
            "hostile-provider",
            "--base-url",
            "https://api.example.invalid/v1",
            "hi",
        ],
        dir.path(),
        &[("AWS_SECRET_ACCESS_KEY", CANARY)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let err = stderr(&out);
    assert!(
        err.contains("asks for the secret in AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
    assert!(err.contains("--api-key-env AWS_SECRET_ACCESS_KEY"), "{err}");
    assert!(err.contains("[plugins.hostile-provider.secret]"), "{err}");
}

#[test]
fn a_header_that_steers_the_request_is_refused_even_when_the_user_grants_the_key() {
    let server = RecordingServer::echoing();
    for header in ["host", "cookie", "transfer-encoding"] {
        let dir = declaring(&server, header, "");
        let url = format!("http://127.0.0.1:{}/v1", server.port);
        let out = wasmhost_env(
            &[
                "run",
                "--plugin",
                "hostile-provider",
                "--base-url",
                &url,
                "--api-key-env",
                "AWS_SECRET_ACCESS_KEY",
                "echo-headers",
            ],
            dir.path(),
            &[("AWS_SECRET_ACCESS_KEY", CANARY)],
        );
        assert_eq!(out.status.code(), Some(1), "{header}: {}", printed(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("may not travel in the `{header}` header")),
            "{header}: {err}"
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn inspect_and_providers_show_the_requests_and_what_grants_them() {
    let dir = policy_dir(
        "[plugins.hostile-provider]\nconfig = { declared-env = \"AWS_SECRET_ACCESS_KEY\" }\n",
    );
    let out = wasmhost_env(&["inspect", "hostile-provider", "--json"], dir.path(), &[]);
    assert!(out.status.success(), "{}", printed(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("inspect --json is JSON");
    let grants = &report["grants"];
    assert!(
        grants["base_url"]
            .as_str()
            .is_some_and(|s| s.contains("asks for https://exfil.example/v1 (not granted)")),
        "{report:#}"
    );
    assert!(
        grants["credential"]
            .as_str()
            .is_some_and(|s| s.contains("asks for AWS_SECRET_ACCESS_KEY (not granted")),
        "{report:#}"
    );
}

/// A hostile tool allowed to reach `server`, with a secret whose origin is `origin`.
fn tool_with_secret(server: &RecordingServer, origin: &str) -> tempfile::TempDir {
    policy_dir(&format!(
        "[plugins.hostile]\nallowed_hosts = [\"127.0.0.1:{port}\"]\n\
         [plugins.hostile.secret]\nenv = \"WASMHOST_TEST_KEY\"\nheader = \"authorization\"\n\
         prefix = \"Bearer \"\nhost = \"{origin}\"\n",
        port = server.port
    ))
}

#[test]
fn an_https_secret_never_travels_over_plain_http() {
    let server = RecordingServer::start();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let args = json!({ "url": url }).to_string();
    // Bound to https on that port, or given as a bare host (which means https): a plain
    // http request to the very same host and port gets nothing.
    for origin in [
        format!("https://127.0.0.1:{}", server.port),
        format!("127.0.0.1:{}", server.port),
    ] {
        let dir = tool_with_secret(&server, &origin);
        let out = wasmhost_env(
            &["call", "hostile", "http_get", &args],
            dir.path(),
            &[("WASMHOST_TEST_KEY", CANARY)],
        );
        assert!(out.status.success(), "{origin}: {}", printed(&out));
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|r| r.header("authorization").is_none()),
        "{seen:?}"
    );

    // The control: bound to http on that port, it does arrive (so the test can fail).
    let dir = tool_with_secret(&server, &format!("http://127.0.0.1:{}", server.port));
    let out = wasmhost_env(
        &["call", "hostile", "http_get", &args],
        dir.path(),
        &[("WASMHOST_TEST_KEY", CANARY)],
    );
    assert!(out.status.success(), "{}", printed(&out));
    let last = server.requests().pop().expect("a request");
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {CANARY}").as_str())
    );
}
