//! The machinery both fakes share: delivery faults, lifetime, and requests that are not
//! even JSON.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{agent, post, post_stream};
use crate::fake::Reply;
use crate::fake::openai::FakeOpenAi;

fn url(fake: &FakeOpenAi) -> String {
    format!("{}/chat/completions", fake.base_url())
}

fn auth() -> String {
    format!("Bearer {}", FakeOpenAi::KEY)
}

fn hello(stream: bool) -> serde_json::Value {
    json!({ "model": "m", "stream": stream, "messages": [{ "role": "user", "content": "Hi" }] })
}

#[test]
fn slow_reply_delays_the_headers() {
    let delay = Duration::from_millis(300);
    let fake = FakeOpenAi::start([Reply::slow(delay, Reply::chat("late"))]);
    let started = Instant::now();
    let answer = post(&url(&fake), &[("authorization", &auth())], &hello(false));
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    assert_eq!(answer.status, 200);
}

#[test]
fn paced_stream_spaces_its_events() {
    let interval = Duration::from_millis(40);
    let fake = FakeOpenAi::start([Reply::paced(interval, Reply::chat("abcdefghij"))]);
    let started = Instant::now();
    let stream = post_stream(&url(&fake), &[("authorization", &auth())], &hello(true));
    // role, 2 content chunks, finish, [DONE]: four waits.
    assert_eq!(stream.events.len(), 5);
    assert!(started.elapsed() >= interval * 4, "{:?}", started.elapsed());
}

#[test]
fn scripted_headers_and_pushed_replies_are_served() {
    let fake = FakeOpenAi::start([]);
    fake.push(Reply::chat("pushed").with_header("x-ratelimit-remaining-requests", "7"));
    assert_eq!(fake.remaining(), 1);
    let answer = post(&url(&fake), &[("authorization", &auth())], &hello(false));
    assert_eq!(answer.header("x-ratelimit-remaining-requests"), Some("7"));
    assert_eq!(answer.json()["choices"][0]["message"]["content"], "pushed");
}

#[test]
fn a_body_that_is_not_json_is_a_violation_not_a_crash() {
    let fake = FakeOpenAi::start([Reply::chat("after")]);
    let response = agent()
        .post(url(&fake))
        .content_type("text/plain")
        .header("authorization", auth())
        .send("{not json");
    let answer = super::answer(response);
    assert_eq!(answer.status, 400);
    let violations = fake.violations();
    assert!(
        violations[0].contains("content-type is `text/plain`"),
        "{violations:?}"
    );
    assert!(violations[1].contains("not valid JSON"), "{violations:?}");
    assert_eq!(fake.requests()[0].raw_body, "{not json");
    // The server is still there.
    let answer = post(&url(&fake), &[("authorization", &auth())], &hello(false));
    assert_eq!(answer.status, 200);
}

#[test]
fn dropping_the_fake_closes_its_port() {
    let fake = FakeOpenAi::start([Reply::slow(Duration::from_secs(30), Reply::chat("never"))]);
    let address = fake.authority();
    // A request left hanging must not keep the fake alive.
    let hanging = std::thread::spawn({
        let url = url(&fake);
        move || post(&url, &[("authorization", &auth())], &hello(false)).status
    });
    for _ in 0..1000 {
        if !fake.requests().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fake.requests().len(), 1, "the request never arrived");
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        TcpStream::connect(&address).is_err(),
        "{address} still open"
    );
    let _ = hanging.join();
}

#[tokio::test]
async fn works_from_inside_an_async_test() {
    let fake = FakeOpenAi::start([Reply::chat("async")]);
    let url = url(&fake);
    let status = tokio::task::spawn_blocking(move || {
        post(&url, &[("authorization", &auth())], &hello(false)).status
    })
    .await
    .expect("client thread");
    assert_eq!(status, 200);
    drop(fake);
}

/// Reads a whole response off a raw socket: what was on the wire, framing included.
fn raw_exchange(fake: &FakeOpenAi, body: &serde_json::Value) -> String {
    use std::io::{Read, Write};
    let mut socket = TcpStream::connect(fake.authority()).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {}\r\nauthorization: {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        fake.authority(),
        auth(),
        body.len()
    );
    socket
        .write_all(format!("{head}{body}").as_bytes())
        .expect("send");
    let mut wire = Vec::new();
    // A cut connection may end in a reset rather than a clean close; what arrived counts.
    let _ = socket.read_to_end(&mut wire);
    String::from_utf8_lossy(&wire).into_owned()
}

#[test]
fn a_cut_stream_lacks_the_final_chunk_on_the_wire() {
    let fake = FakeOpenAi::start([
        Reply::chat("whole"),
        Reply::cut_after(2, Reply::chat("cut")),
    ]);
    let whole = raw_exchange(&fake, &hello(true));
    assert!(whole.contains("transfer-encoding: chunked"), "{whole}");
    assert!(whole.ends_with("data: [DONE]\n\n\r\n0\r\n\r\n"), "{whole}");
    let cut = raw_exchange(&fake, &hello(true));
    assert!(!cut.contains("[DONE]"), "{cut}");
    assert!(!cut.ends_with("0\r\n\r\n"), "{cut}");
    assert_eq!(cut.matches("data: ").count(), 2, "{cut}");
}
