//! The fakes exercised over real loopback HTTP with a small blocking client, the way the
//! provider plugins will reach them.

mod anthropic;
mod openai;
mod rules;
mod shared;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde_json::Value;

/// A client that hands back every status (errors are what these tests look at), never
/// uses a proxy from the environment, and gives up rather than hang a test.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// A whole response.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("the fake answers");
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    Answer {
        status: response.status().as_u16(),
        headers,
        text: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn post(url: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
    let mut request = agent().post(url).content_type("application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send(body.to_string()))
}

fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.call())
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    name: Option<String>,
    data: String,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

/// A streamed response, read line by line as an SSE client does.
#[derive(Debug)]
struct Stream {
    status: u16,
    content_type: String,
    events: Vec<Event>,
    /// How the body ended: `Ok` at a clean end, the read error otherwise.
    end: Result<(), String>,
}

fn post_stream(url: &str, headers: &[(&str, &str)], body: &Value) -> Stream {
    let mut request = agent().post(url).content_type("application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send(body.to_string()).expect("the fake answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut reader = BufReader::new(response.into_body().into_reader());
    let (mut events, mut name, mut data) = (Vec::new(), None, Vec::<String>::new());
    let mut line = String::new();
    let end = loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e.to_string()),
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !data.is_empty() {
                events.push(Event {
                    name: name.take(),
                    data: data.join("\n"),
                });
            }
            data.clear();
        } else if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.trim_start().to_owned());
        }
    };
    Stream {
        status,
        content_type,
        events,
        end,
    }
}
