//! Turning HTTP failures into `provider-error`s: statuses, `Retry-After`, transport error
//! codes, and error bodies. A plugin refines the status default with what its API's error
//! body says (an error `type` or `code`), then falls back on [`from_status`].

use std::time::{Duration, SystemTime};

use wasip2::http::types::ErrorCode;

use crate::http::Headers;
use crate::llm_types::{ProviderError, RateLimit, ServerError};

/// Messages quoted from an API are cut to this many characters.
pub const MAX_MESSAGE_CHARS: usize = 600;

/// The default variant for a non-2xx `status`, with `message` as the API worded it.
///
/// 401/403 → `auth`; 408 → `timeout`; 429 → `rate-limited`; other 4xx → `bad-request`
/// (404 too: only the plugin knows whether a model was missing); 5xx → `server`, retryable
/// (a 500 is as often a blip as a bug, and the loop bounds its retries); anything else
/// (a redirect, a 1xx) → `other`.
pub fn from_status(status: u16, message: &str, retry_after_ms: Option<u64>) -> ProviderError {
    by_status(status, format!("HTTP {status}: {message}"), retry_after_ms)
}

/// The error an HTTP status means, with `text` as its message (for a status that did not
/// come from the HTTP response itself, such as an error code inside a 200 body).
pub fn by_status(status: u16, text: String, retry_after_ms: Option<u64>) -> ProviderError {
    match status {
        401 | 403 => ProviderError::Auth(text),
        408 => ProviderError::Timeout(text),
        429 => rate_limited(retry_after_ms, text),
        400..=499 => ProviderError::BadRequest(text),
        500..=599 => server(Some(status), text, true),
        _ => ProviderError::Other(format!("unexpected {text}")),
    }
}

/// A `rate-limited` error.
pub fn rate_limited(retry_after_ms: Option<u64>, message: String) -> ProviderError {
    ProviderError::RateLimited(RateLimit {
        retry_after_ms,
        message,
    })
}

/// A `server` error.
pub fn server(status: Option<u16>, message: String, retryable: bool) -> ProviderError {
    ProviderError::Server(ServerError {
        status,
        message,
        retryable,
    })
}

/// How long the API asked us to wait, from `retry-after-ms` (milliseconds, OpenAI and
/// Azure) or else `Retry-After` (seconds, or an HTTP-date measured against the response's
/// own `Date` when it has one, so a skewed local clock does not matter).
pub fn retry_after_ms(headers: &Headers) -> Option<u64> {
    retry_after_ms_at(headers, SystemTime::now())
}

/// [`retry_after_ms`] with the local clock given.
pub fn retry_after_ms_at(headers: &Headers, now: SystemTime) -> Option<u64> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(parse_delay) {
        return Some(ms);
    }
    let value = headers.get("retry-after")?.trim();
    if let Some(seconds) = parse_delay(value) {
        return Some(seconds.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let now = headers
        .get("date")
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .unwrap_or(now);
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}

/// A non-negative decimal number, rounded up: `"20"`, `"1.5"`.
fn parse_delay(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let number: f64 = value.parse().ok()?;
    // `as` saturates for the out-of-range values a hostile header could carry.
    number.is_finite().then(|| number.ceil() as u64)
}

/// The error for a request to `url` that never got a (complete) HTTP answer.
///
/// Refused, reset, DNS and TLS failures → `network` (the loop retries them); timeouts →
/// `timeout`; a request the host's policy refused → `other`, since retrying cannot help.
pub fn from_transport(code: &ErrorCode, url: &str, authority: &str) -> ProviderError {
    use ErrorCode as E;
    let unreachable = |why: &str| ProviderError::Network(format!("cannot reach {url}: {why}"));
    let broken = |why: &str| ProviderError::Network(format!("the response from {url} {why}"));
    let timeout = |what: &str| ProviderError::Timeout(format!("{what} {url} timed out"));
    match code {
        E::DnsTimeout => timeout("looking up the host of"),
        E::DnsError(p) => unreachable(&format!(
            "cannot resolve {authority}{}",
            p.rcode
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )),
        E::DestinationNotFound => unreachable(&format!("cannot resolve {authority}")),
        E::DestinationUnavailable | E::DestinationIpUnroutable => {
            unreachable("the address is unreachable")
        }
        // wasmtime reports every failed connect this way, a name that does not resolve too.
        E::ConnectionRefused => unreachable("connection refused (is the server running?)"),
        E::ConnectionTerminated => broken("was cut off: the connection was closed or reset"),
        E::ConnectionLimitReached => unreachable("too many open connections"),
        E::ConnectionTimeout => timeout("connecting to"),
        E::ConnectionReadTimeout | E::HttpResponseTimeout => timeout("waiting for an answer from"),
        E::ConnectionWriteTimeout => timeout("sending the request to"),
        E::TlsProtocolError => {
            unreachable("the TLS handshake failed (is it a plain http:// server?)")
        }
        E::TlsCertificateError => unreachable("its TLS certificate was not accepted"),
        E::TlsAlertReceived(p) => unreachable(&format!(
            "the server ended the TLS handshake ({})",
            p.alert_message.as_deref().unwrap_or("alert")
        )),
        E::HttpRequestDenied | E::DestinationIpProhibited => ProviderError::Other(format!(
            "the host's policy denied the request to {authority} (add it to allowed_hosts)"
        )),
        E::HttpRequestUriInvalid | E::HttpRequestUriTooLong | E::HttpRequestMethodInvalid => {
            ProviderError::Other(format!("the host refused the request URL {url}"))
        }
        E::HttpRequestLengthRequired
        | E::HttpRequestBodySize(_)
        | E::HttpRequestHeaderSectionSize(_)
        | E::HttpRequestHeaderSize(_)
        | E::HttpRequestTrailerSectionSize(_)
        | E::HttpRequestTrailerSize(_) => {
            ProviderError::Other(format!("the request to {url} was refused as too large"))
        }
        E::HttpResponseIncomplete => broken("ended early"),
        E::HttpProtocolError
        | E::HttpUpgradeFailed
        | E::LoopDetected
        | E::HttpResponseHeaderSectionSize(_)
        | E::HttpResponseHeaderSize(_)
        | E::HttpResponseBodySize(_)
        | E::HttpResponseTrailerSectionSize(_)
        | E::HttpResponseTrailerSize(_)
        | E::HttpResponseTransferCoding(_)
        | E::HttpResponseContentCoding(_) => {
            broken(&format!("broke off or was malformed ({code:?})"))
        }
        E::ConfigurationError => ProviderError::Other(format!(
            "the host cannot send to {url}: configuration error"
        )),
        E::InternalError(message) => ProviderError::Other(format!(
            "the request to {url} failed in the host: {}",
            first_line(message.as_deref().unwrap_or("internal error"))
        )),
    }
}

/// The most useful line of an error body: `error.message`, `error` as a string, `message`
/// or `detail` from JSON, else the text itself; shortened.
pub fn body_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
        let candidates = [
            json.pointer("/error/message"),
            json.get("error"),
            json.get("message"),
            json.get("detail"),
        ];
        if let Some(message) = candidates.into_iter().flatten().find_map(|v| v.as_str()) {
            return shorten(message.trim(), MAX_MESSAGE_CHARS);
        }
    }
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        shorten(text, MAX_MESSAGE_CHARS)
    }
}

/// The first line of a host's error text (which may carry a backtrace), shortened.
pub fn first_line(text: &str) -> String {
    shorten(
        text.lines().next().unwrap_or_default().trim(),
        MAX_MESSAGE_CHARS,
    )
}

/// `text` cut to at most `max` characters, with `…` marking the cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
