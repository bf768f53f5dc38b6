//! A request as a fake received it, kept so a test can assert on what our code sent.

use std::collections::BTreeMap;

use hyper::http::request::Parts;
use serde_json::Value;

/// One request a fake received, whatever it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path without the query (`/v1/chat/completions`).
    pub path: String,
    /// The query string, if any, without the `?`.
    pub query: Option<String>,
    /// Header names lower-cased; a repeated header's values joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON; `Value::Null` when empty or not JSON.
    pub body: Value,
    /// The body as text (lossy UTF-8), for bodies that are not JSON.
    pub raw_body: String,
}

impl Recorded {
    pub(crate) fn new(parts: &Parts, body: &[u8]) -> Self {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_ascii_lowercase())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            raw_body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether the request asked for a streamed response (`"stream": true`).
    pub fn is_stream(&self) -> bool {
        self.body.get("stream") == Some(&Value::Bool(true))
    }
}
