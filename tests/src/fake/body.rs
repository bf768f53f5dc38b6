//! The response body every fake sends: a list of pieces (SSE events, or one JSON text),
//! optionally paced, optionally ending in a deliberate failure.
//!
//! A body error is how a hyper server drops a connection mid-response: it stops writing
//! and closes, without the chunked encoding's final `0\r\n\r\n`, which is exactly what a
//! client sees when a provider's stream dies.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::Sleep;

use super::server::{Shared, lock};

/// How long a cut body waits after its last piece before failing, so hyper flushes the
/// pieces already written instead of discarding them with the connection.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(20);

pub(crate) struct Pieces {
    pieces: VecDeque<Bytes>,
    /// Fail (and so close the connection) once the pieces are sent, instead of ending.
    cut: bool,
    /// Wait this long before every piece but the first.
    interval: Option<Duration>,
    sent_any: bool,
    timer: Option<Pin<Box<Sleep>>>,
    /// Where to record when each piece goes out.
    log: Option<Shared>,
}

impl Pieces {
    pub(crate) fn new(pieces: Vec<String>, interval: Option<Duration>, cut: bool) -> Self {
        Self {
            pieces: pieces.into_iter().map(Bytes::from).collect(),
            cut,
            interval,
            sent_any: false,
            timer: None,
            log: None,
        }
    }

    pub(crate) fn logging_to(mut self, log: Option<Shared>) -> Self {
        self.log = log;
        self
    }

    /// Polls the pending wait, if `wait` says one is due now; `Ready` once it is over.
    fn wait(&mut self, cx: &mut Context<'_>, wait: Option<Duration>) -> Poll<()> {
        if self.timer.is_none() {
            match wait {
                Some(d) if !d.is_zero() => self.timer = Some(Box::pin(tokio::time::sleep(d))),
                _ => return Poll::Ready(()),
            }
        }
        match self.timer.as_mut().map(|t| t.as_mut().poll(cx)) {
            Some(Poll::Pending) => Poll::Pending,
            _ => {
                self.timer = None;
                Poll::Ready(())
            }
        }
    }
}

impl Body for Pieces {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if !this.pieces.is_empty() {
            let wait = if this.sent_any { this.interval } else { None };
            if this.wait(cx, wait).is_pending() {
                return Poll::Pending;
            }
            this.sent_any = true;
            let piece = this.pieces.pop_front();
            if let (Some(log), Some(bytes)) = (&this.log, &piece) {
                let text = String::from_utf8_lossy(bytes).into_owned();
                lock(log).sent.push((Instant::now(), text));
            }
            return Poll::Ready(piece.map(|b| Ok(Frame::data(b))));
        }
        if !this.cut {
            return Poll::Ready(None);
        }
        if this.wait(cx, Some(FLUSH_BEFORE_CUT)).is_pending() {
            return Poll::Pending;
        }
        this.cut = false;
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "fake server: connection cut as scripted",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty() && !self.cut
    }

    /// Exact for a whole, unpaced body, so hyper sends `content-length`; otherwise unknown,
    /// so it streams with chunked encoding.
    fn size_hint(&self) -> SizeHint {
        if self.cut || self.interval.is_some() || self.pieces.len() > 1 {
            return SizeHint::default();
        }
        SizeHint::with_exact(self.pieces.iter().map(|b| b.len() as u64).sum())
    }
}
