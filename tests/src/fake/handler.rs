//! One request: read it, record it, check it against the API's rules, take the next
//! scripted reply and deliver it as scripted (late, paced, cut, malformed).
//!
//! Nothing here trusts the request: every problem with it becomes a violation and an
//! error answer in the API's shape, never a panic on the server thread.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::body::Pieces;
use super::dialect::{Call, Dialect, Endpoint, Fault};
use super::recorded::Recorded;
use super::reply::{ChatReply, Kind, Reply};
use super::server::{Shared, lock};
use super::sse::first_half;

/// Requests one fake answers before it refuses all others: far more than any test or
/// benchmark sends, small enough that a runaway retry loop ends.
pub const MAX_REQUESTS: usize = 100_000;
/// The largest request body read (real APIs accept far less; a runaway prompt stops here).
pub const MAX_BODY_BYTES: usize = 32 << 20;

const JSON: &str = "application/json";
const SSE: &str = "text/event-stream; charset=utf-8";

/// What a request gets, decided under the lock and delivered after it is released.
struct Plan {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    pieces: Vec<String>,
    cut: bool,
    interval: Option<Duration>,
    delay: Duration,
}

impl Plan {
    fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            content_type: JSON,
            headers: Vec::new(),
            pieces: vec![body.to_string()],
            cut: false,
            interval: None,
            delay: Duration::ZERO,
        }
    }
}

pub(crate) async fn handle<D: Dialect>(
    shared: Shared,
    request: Request<Incoming>,
) -> Result<Response<Pieces>, Infallible> {
    let (parts, body) = request.into_parts();
    let (body, read_problem) = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes().to_vec(), None),
        Err(e) => (
            Vec::new(),
            Some(format!("cannot read the request body: {e}")),
        ),
    };
    let recorded = Recorded::new(&parts, &body);
    let (number, plan) = decide::<D>(&shared, recorded, read_problem);
    Ok(deliver::<D>(number, plan, shared).await)
}

/// Records the request and picks its answer: an error for a broken request, the model
/// list, or the next scripted reply.
fn decide<D: Dialect>(
    shared: &Shared,
    recorded: Recorded,
    read_problem: Option<String>,
) -> (usize, Plan) {
    let mut state = lock(shared);
    let endpoint = D::route(&recorded.method, &recorded.path);
    let mut problems: Vec<(Fault, String)> = read_problem
        .map(|p| (Fault::InvalidRequest, p))
        .into_iter()
        .collect();
    match endpoint {
        None => problems.push((
            Fault::NotFound,
            format!(
                "{} serves no {} {}",
                D::NAME,
                recorded.method,
                recorded.path
            ),
        )),
        Some(endpoint) => problems.extend(check::<D>(endpoint, &recorded, state.key.as_deref())),
    }
    state.requests.push(recorded.clone());
    let number = state.requests.len();
    let label = format!("request {number} ({} {})", recorded.method, recorded.path);
    if number > MAX_REQUESTS {
        problems.push((
            Fault::Server,
            format!("fake server: more than {MAX_REQUESTS} requests"),
        ));
    }
    if let Some(fault) = problems.iter().map(|(fault, _)| *fault).max() {
        for (_, problem) in &problems {
            state.violations.push(format!("{label}: {problem}"));
        }
        let message: Vec<&str> = problems.iter().map(|(_, p)| p.as_str()).collect();
        let body = D::error_body(fault, &message.join("; "));
        return (number, Plan::json(fault.status(), &body));
    }
    if endpoint == Some(Endpoint::Models) {
        return (number, Plan::json(200, &D::models(&state.models)));
    }
    let Some(reply) = state.script.pop_front() else {
        let message = "fake server: script exhausted";
        state.violations.push(format!("{label}: {message}"));
        return (
            number,
            Plan::json(500, &D::error_body(Fault::Server, message)),
        );
    };
    let call = Call {
        number,
        model: recorded.body["model"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        stream: recorded.is_stream(),
        body: recorded.body,
    };
    (number, plan::<D>(reply, &call))
}

/// The checks common to both APIs (content type, credential, body is JSON), then the
/// API's own.
fn check<D: Dialect>(
    endpoint: Endpoint,
    request: &Recorded,
    key: Option<&str>,
) -> Vec<(Fault, String)> {
    let mut problems = Vec::new();
    let header = D::CREDENTIAL_HEADER;
    match (key, request.header(header)) {
        (Some(_), None) => problems.push((Fault::Authentication, format!("no `{header}` header"))),
        (Some(key), Some(value)) if D::presented_key(value) != Some(key) => problems.push((
            Fault::Authentication,
            format!("`{header}: {value}` does not carry the expected key `{key}`"),
        )),
        (None, Some(_)) => problems.push((
            Fault::Authentication,
            format!("`{header}` header sent, but this fake expects no credential"),
        )),
        _ => {}
    }
    problems.extend(D::check_headers(request));
    if endpoint != Endpoint::Chat {
        return problems;
    }
    let content_type = request.header("content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case(JSON) {
        problems.push((
            Fault::InvalidRequest,
            format!("content-type is `{content_type}`, not `{JSON}`"),
        ));
    }
    if request.raw_body.is_empty() {
        problems.push((Fault::InvalidRequest, "empty request body".into()));
    } else if request.body.is_null() {
        problems.push((
            Fault::InvalidRequest,
            "request body is not valid JSON".into(),
        ));
    } else {
        let body = D::check_chat(&request.body);
        problems.extend(body.into_iter().map(|p| (Fault::InvalidRequest, p)));
    }
    problems
}

/// Renders a scripted reply for this call, in the API's format.
fn plan<D: Dialect>(reply: Reply, call: &Call) -> Plan {
    let (status, mut pieces, streamed) = match &reply.kind {
        Kind::Chat(chat) if call.stream => (200, D::chat_events(chat, call), true),
        Kind::Chat(chat) => (200, vec![D::chat_json(chat, call).to_string()], false),
        Kind::Status { code, body } => (*code, vec![body.to_string()], false),
        Kind::Malformed if call.stream => (200, D::malformed_events(call), true),
        Kind::Malformed => {
            let whole = D::chat_json(&ChatReply::default(), call).to_string();
            (200, vec![first_half(&whole).to_owned()], false)
        }
        Kind::StreamError {
            after,
            chat,
            error_type,
            message,
        } => {
            if call.stream {
                let mut events = D::chat_events(chat, call);
                events.truncate(*after);
                events.push(D::stream_error_event(error_type, message));
                (200, events, true)
            } else {
                let body = D::typed_error_body(error_type, message);
                (
                    D::error_type_status(error_type),
                    vec![body.to_string()],
                    false,
                )
            }
        }
    };
    if let Some(n) = reply.cut_after {
        if streamed {
            pieces.truncate(n);
        } else {
            pieces = vec![first_half(&pieces.concat()).to_owned()];
        }
    }
    let mut headers = reply.headers;
    if streamed {
        headers.push(("cache-control".into(), "no-cache".into()));
    }
    Plan {
        status,
        content_type: if streamed { SSE } else { JSON },
        headers,
        pieces,
        cut: reply.cut_after.is_some(),
        interval: reply.interval,
        delay: reply.delay,
    }
}

/// Waits as scripted, then sends the head; the body goes out as hyper polls it.
async fn deliver<D: Dialect>(number: usize, plan: Plan, shared: Shared) -> Response<Pieces> {
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let mut builder = Response::builder()
        .status(plan.status)
        .header("content-type", plan.content_type)
        .header(D::REQUEST_ID_HEADER, format!("req_fake_{number}"));
    for (name, value) in &plan.headers {
        builder = builder.header(name, value);
    }
    let log = plan.interval.is_some().then_some(shared);
    match builder.body(Pieces::new(plan.pieces, plan.interval, plan.cut).logging_to(log)) {
        Ok(response) => response,
        // A status or header the script got wrong: say so rather than guess.
        Err(e) => {
            let message = format!("fake server: the scripted reply is not valid HTTP: {e}");
            let body = D::error_body(Fault::Server, &message).to_string();
            let mut response = Response::new(Pieces::new(vec![body], None, false));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}
