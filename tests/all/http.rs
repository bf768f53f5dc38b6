//! Outbound HTTP: denied unless the policy names the host, and the credential header is
//! added by the host only on requests to the host the secret is bound to.

use serde_json::json;
use wasmhost::plugin::ToolError;
use wasmhost::policy::{HostPattern, Origin, Secret, SecretGrant};

use crate::support::{RecordingServer, call, deny_all, hostile};

fn allow(hosts: &[String]) -> wasmhost::policy::PluginPolicy {
    let mut policy = deny_all();
    policy.allowed_hosts = hosts
        .iter()
        .map(|h| HostPattern::parse(h).expect("pattern"))
        .collect();
    policy
}

#[tokio::test]
async fn ungranted_host_is_denied_with_the_grant_that_would_allow_it() {
    let server = RecordingServer::start();
    let tool = hostile(deny_all());
    let url = format!("http://127.0.0.1:{}/x", server.port);
    match call(&tool, "http_get", json!({ "url": url })).await {
        Err(ToolError::Denied(message)) => {
            assert!(
                message.contains("plugin `hostile` may not connect"),
                "{message}"
            );
            assert!(
                message.contains(&format!("127.0.0.1:{}", server.port)),
                "{message}"
            );
            assert!(message.contains("allowed_hosts"), "{message}");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert!(
        server.requests().is_empty(),
        "the request must not leave the host"
    );
}

#[tokio::test]
async fn granted_host_is_reachable_but_not_its_other_ports() {
    let server = RecordingServer::start();
    let other = RecordingServer::start();
    let tool = hostile(allow(&[format!("127.0.0.1:{}", server.port)]));
    let ok = call(
        &tool,
        "http_get",
        json!({ "url": format!("http://127.0.0.1:{}/ok", server.port) }),
    )
    .await;
    assert_eq!(ok.as_deref(), Ok("status 200"));
    let denied = call(
        &tool,
        "http_get",
        json!({ "url": format!("http://127.0.0.1:{}/", other.port) }),
    )
    .await;
    assert!(matches!(denied, Err(ToolError::Denied(_))), "{denied:?}");
    let by_name = call(
        &tool,
        "http_get",
        json!({ "url": format!("http://localhost:{}/", server.port) }),
    )
    .await;
    assert!(matches!(by_name, Err(ToolError::Denied(_))), "{by_name:?}");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].request_line, "GET /ok HTTP/1.1");
    assert!(other.requests().is_empty());
}

#[tokio::test]
async fn secret_goes_only_to_its_bound_host() {
    let bound = RecordingServer::start();
    let other = RecordingServer::start();
    let mut policy = allow(&[
        format!("127.0.0.1:{}", bound.port),
        format!("127.0.0.1:{}", other.port),
    ]);
    policy.secret = Some(SecretGrant {
        header: "authorization".into(),
        prefix: "Bearer ".into(),
        origin: Origin::of_url(&format!("http://127.0.0.1:{}", bound.port)).expect("origin"),
        value: Secret::new("sk-test-123"),
        source: "test".into(),
    });
    let tool = hostile(policy);
    for server in [&bound, &other] {
        let url = format!("http://127.0.0.1:{}/v1", server.port);
        assert_eq!(
            call(&tool, "http_get", json!({ "url": url }))
                .await
                .as_deref(),
            Ok("status 200")
        );
    }
    let seen = bound.requests();
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test-123"));
    let seen = other.requests();
    assert_eq!(seen[0].header("authorization"), None, "{seen:?}");
}
