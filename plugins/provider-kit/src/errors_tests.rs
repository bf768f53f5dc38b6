use std::time::{Duration, UNIX_EPOCH};

use super::*;
use wasip2::http::types::DnsErrorPayload;

fn headers(pairs: &[(&str, &str)]) -> Headers {
    pairs.iter().copied().collect()
}

#[test]
fn statuses_get_their_default_variant() {
    let kind = |status| match from_status(status, "m", None) {
        ProviderError::Auth(_) => "auth",
        ProviderError::Timeout(_) => "timeout",
        ProviderError::RateLimited(_) => "rate-limited",
        ProviderError::BadRequest(_) => "bad-request",
        ProviderError::Server(s) if s.retryable && s.status == Some(status) => "server",
        ProviderError::Other(_) => "other",
        _ => "unexpected",
    };
    for (status, expected) in [
        (400, "bad-request"),
        (401, "auth"),
        (403, "auth"),
        (404, "bad-request"),
        (408, "timeout"),
        (422, "bad-request"),
        (429, "rate-limited"),
        (500, "server"),
        (503, "server"),
        (529, "server"),
        (302, "other"),
    ] {
        assert_eq!(kind(status), expected, "{status}");
    }
    assert_eq!(
        from_status(401, "Incorrect API key", None),
        ProviderError::Auth("HTTP 401: Incorrect API key".into())
    );
    assert_eq!(
        from_status(429, "slow down", Some(1500)),
        rate_limited(Some(1500), "HTTP 429: slow down".into())
    );
}

#[test]
fn retry_after_in_milliseconds_seconds_or_a_date() {
    let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
    let at = |pairs: &[(&str, &str)]| retry_after_ms_at(&headers(pairs), now);
    assert_eq!(at(&[]), None);
    assert_eq!(at(&[("retry-after-ms", "250")]), Some(250));
    assert_eq!(at(&[("retry-after-ms", "12.2")]), Some(13));
    assert_eq!(at(&[("Retry-After", "3")]), Some(3000));
    assert_eq!(at(&[("retry-after", " 0 ")]), Some(0));
    // retry-after-ms wins over retry-after.
    assert_eq!(
        at(&[("retry-after", "3"), ("retry-after-ms", "40")]),
        Some(40)
    );
    // An unusable retry-after-ms falls back on retry-after.
    assert_eq!(
        at(&[("retry-after-ms", "soon"), ("retry-after", "2")]),
        Some(2000)
    );
    assert_eq!(
        at(&[("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT")]),
        Some(10_000)
    );
    // A date in the past means "now".
    assert_eq!(
        at(&[("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT")]),
        Some(0)
    );
    // The server's own Date is the reference when it sent one.
    assert_eq!(
        at(&[
            ("retry-after", "Sun, 06 Nov 1994 09:00:00 GMT"),
            ("date", "Sun, 06 Nov 1994 08:59:58 GMT"),
        ]),
        Some(2000)
    );
    for junk in ["-1", "soon", "1e3", "", "NaN", "inf"] {
        assert_eq!(at(&[("retry-after", junk)]), None, "{junk:?}");
    }
    assert_eq!(
        at(&[("retry-after", "99999999999999999999999")]),
        Some(u64::MAX)
    );
}

#[test]
fn transport_errors_say_what_to_do() {
    let url = "http://127.0.0.1:11434/v1/chat/completions";
    let map = |code: ErrorCode| from_transport(&code, url, "127.0.0.1:11434");
    assert_eq!(
        map(ErrorCode::ConnectionRefused),
        ProviderError::Network(format!(
            "cannot reach {url}: connection refused (is the server running?)"
        ))
    );
    assert_eq!(
        map(ErrorCode::HttpRequestDenied),
        ProviderError::Other(
            "the host's policy denied the request to 127.0.0.1:11434 (add it to allowed_hosts)"
                .into()
        )
    );
    assert!(
        matches!(map(ErrorCode::ConnectionTimeout), ProviderError::Timeout(m) if m.contains(url))
    );
    assert!(matches!(
        map(ErrorCode::HttpResponseTimeout),
        ProviderError::Timeout(_)
    ));
    assert!(matches!(
        map(ErrorCode::DnsTimeout),
        ProviderError::Timeout(_)
    ));
    assert!(matches!(
        map(ErrorCode::TlsCertificateError),
        ProviderError::Network(_)
    ));
    assert!(matches!(
        map(ErrorCode::ConnectionTerminated),
        ProviderError::Network(_)
    ));
    assert!(matches!(
        map(ErrorCode::HttpProtocolError),
        ProviderError::Network(_)
    ));
    assert_eq!(
        map(ErrorCode::DnsError(DnsErrorPayload {
            rcode: Some("NXDOMAIN".into()),
            info_code: None
        })),
        ProviderError::Network(format!(
            "cannot reach {url}: cannot resolve 127.0.0.1:11434 (NXDOMAIN)"
        ))
    );
    assert!(matches!(
        map(ErrorCode::InternalError(Some("boom\nStack backtrace:\n   0: x".into()))),
        ProviderError::Other(m) if m.ends_with("failed in the host: boom")
    ));
}

#[test]
fn body_messages_from_json_or_text() {
    assert_eq!(
        body_message(br#"{"error":{"message":"Invalid key","type":"x"}}"#),
        "Invalid key"
    );
    assert_eq!(
        body_message(br#"{"error":"model not found"}"#),
        "model not found"
    );
    assert_eq!(body_message(br#"{"object":"error","message":"no"}"#), "no");
    assert_eq!(body_message(br#"{"detail":"Not Found"}"#), "Not Found");
    assert_eq!(
        body_message(b"<html>Bad Gateway</html>\n"),
        "<html>Bad Gateway</html>"
    );
    assert_eq!(body_message(b"  "), "(empty body)");
    let long = "x".repeat(MAX_MESSAGE_CHARS + 10);
    assert_eq!(
        body_message(long.as_bytes()).chars().count(),
        MAX_MESSAGE_CHARS + 1
    );
}

#[test]
fn shorten_cuts_on_characters() {
    assert_eq!(shorten("héllo", 2), "hé…");
    assert_eq!(shorten("héllo", 5), "héllo");
    assert_eq!(shorten("", 0), "");
}
