//! The loopback server behind every fake: a thread with its own current-thread tokio
//! runtime (so sync and async tests alike can use it), serving HTTP/1.1 on `127.0.0.1`
//! until the [`Fake`] is dropped.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, TcpListener as StdListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::dialect::{Dialect, Endpoint};
use super::handler;
use super::recorded::Recorded;
use super::reply::Reply;

/// How long shutdown waits for connections still open (a slow reply, a paced stream).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

/// Everything the request handlers share with the test.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) script: VecDeque<Reply>,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) violations: Vec<String>,
    /// The key the credential header must carry; `None`: the header must be absent.
    pub(crate) key: Option<String>,
    pub(crate) models: Vec<String>,
    /// When each piece of a paced body was handed to hyper, and the piece: benchmarks
    /// measure how long a streamed token takes to reach the screen from here.
    pub(crate) sent: Vec<(Instant, String)>,
}

pub(crate) type Shared = Arc<Mutex<State>>;

/// The state, even if a handler panicked while holding it (the panic shows in the test).
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake provider API on a loopback port. Use it through its aliases,
/// [`FakeOpenAi`](super::openai::FakeOpenAi) and
/// [`FakeAnthropic`](super::anthropic::FakeAnthropic).
#[must_use = "the fake shuts down when dropped"]
pub struct Fake<D: Dialect> {
    port: u16,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> std::fmt::Debug for Fake<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(D::NAME).field("port", &self.port).finish()
    }
}

impl<D: Dialect> Fake<D> {
    /// The key a fake expects until [`expect_key`](Self::expect_key) says otherwise.
    pub const KEY: &'static str = D::KEY;

    /// Starts serving on `127.0.0.1` at a free port, answering chat requests with `script`
    /// in order.
    ///
    /// # Panics
    /// If the loopback port cannot be bound or the server thread cannot start.
    pub fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let listener = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let port = listener.local_addr().expect("listener address").port();
        let shared = Arc::new(Mutex::new(State {
            script: script.into_iter().collect(),
            requests: Vec::new(),
            violations: Vec::new(),
            key: Some(D::KEY.to_owned()),
            models: D::MODELS.iter().map(|m| (*m).to_owned()).collect(),
            sent: Vec::new(),
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("start the fake's runtime");
        let (shutdown, stopped) = oneshot::channel();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fake-{}-{port}", D::NAME.to_ascii_lowercase()))
            .spawn(move || {
                runtime.block_on(serve::<D>(listener, state, stopped));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .expect("spawn the fake's thread");
        Self {
            port,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
            dialect: PhantomData,
        }
    }

    /// Sets the key the credential header must carry; `None`: no credential header at all
    /// (for checking that a key is not sent where it does not belong).
    pub fn expect_key(self, key: Option<&str>) -> Self {
        lock(&self.shared).key = key.map(str::to_owned);
        self
    }

    /// Sets the model ids `GET /v1/models` lists.
    pub fn with_models(self, ids: &[&str]) -> Self {
        lock(&self.shared).models = ids.iter().map(|m| (*m).to_owned()).collect();
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, as an `allowed_hosts` entry or a secret's `host` names it.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The base URL to configure a client with (OpenAI: `http://127.0.0.1:PORT/v1`;
    /// Anthropic: `http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        D::base_url(self.port)
    }

    /// Appends replies to the script.
    pub fn push(&self, reply: Reply) {
        lock(&self.shared).script.push_back(reply);
    }

    /// How many scripted replies are left.
    pub fn remaining(&self) -> usize {
        lock(&self.shared).script.len()
    }

    /// The pieces of paced replies (`Reply::paced`) with the instant each was sent.
    pub fn sent_pieces(&self) -> Vec<(Instant, String)> {
        lock(&self.shared).sent.clone()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// The chat requests received so far (those to the chat endpoint), in order.
    pub fn chat_requests(&self) -> Vec<Recorded> {
        let state = lock(&self.shared);
        state
            .requests
            .iter()
            .filter(|r| D::route(&r.method, &r.path) == Some(Endpoint::Chat))
            .cloned()
            .collect()
    }

    /// Every way a request broke the API's documented rules (or found the script empty),
    /// each prefixed with the request's number, method and path.
    pub fn violations(&self) -> Vec<String> {
        lock(&self.shared).violations.clone()
    }

    /// # Panics
    /// If any request broke the rules, listing the violations.
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "{} fake saw {} violation(s):\n  {}",
            D::NAME,
            violations.len(),
            violations.join("\n  ")
        );
    }
}

impl<D: Dialect> Drop for Fake<D> {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until told to stop; each connection is served on its own task.
async fn serve<D: Dialect>(
    listener: StdListener,
    shared: Shared,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors or a reset before accept: back off, don't spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handler::handle::<D>(shared.clone(), request));
            // A client going away mid-response is normal here (and scripted cuts end the
            // connection on purpose), so connection errors are not worth reporting.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
