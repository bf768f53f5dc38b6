use super::*;
use crate::llm_types::FinishReason;

/// A toy protocol: each `data` is a text delta, `[DONE]` finishes, `fail` is an API error.
#[derive(Default)]
struct Toy {
    done: bool,
}

impl EventHandler for Toy {
    fn on_event(&mut self, event: Event, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        match event.data.as_str() {
            "[DONE]" => {
                out.push(StreamEvent::Finish(FinishReason::Stop));
                self.done = true;
            }
            "fail" => return Err(ProviderError::BadRequest("failed".into())),
            text => out.push(StreamEvent::TextDelta(text.into())),
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

fn run(bytes: &[u8], size: usize) -> Transcript {
    collect(EventStream::new(Chunks::split(bytes, size), Toy::default()))
}

#[test]
fn a_complete_stream_ends_with_finish_whatever_the_chunking() {
    let body = b"data: a\n\ndata: b\n\ndata: [DONE]\n\n";
    for size in 1..=body.len() {
        assert_eq!(
            run(body, size),
            Transcript {
                events: vec![
                    text("a"),
                    text("b"),
                    StreamEvent::Finish(FinishReason::Stop)
                ],
                error: None
            },
            "chunks of {size}"
        );
    }
}

#[test]
fn a_cut_stream_delivers_what_came_then_a_network_error() {
    let transcript = run(b"data: a\n\ndata: b\n\ndata: [DO", 7);
    assert_eq!(transcript.events, [text("a"), text("b")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Network(CUT_SHORT.into()))
    );
    assert_eq!(
        run(b"", 1).error,
        Some(ProviderError::Network(CUT_SHORT.into()))
    );
}

#[test]
fn an_api_error_comes_after_the_events_before_it() {
    let transcript = run(b"data: a\n\ndata: fail\n\ndata: b\n\n", 100);
    assert_eq!(transcript.events, [text("a")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::BadRequest("failed".into()))
    );
}

/// Fails on the read after its chunks run out: proves the loop stopped reading.
struct ThenFail(Chunks);

impl ByteSource for ThenFail {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        match self.0.read_chunk()? {
            Some(chunk) => Ok(Some(chunk)),
            None => Err(ProviderError::Network("read past the end".into())),
        }
    }
}

#[test]
fn reading_stops_at_the_end_marker_and_source_errors_pass_through() {
    let done = ThenFail(Chunks::split(b"data: a\n\ndata: [DONE]\n\n", 4));
    let transcript = collect(EventStream::new(done, Toy::default()));
    assert_eq!(transcript.error, None);

    let cut = ThenFail(Chunks::split(b"data: a\n\n", 4));
    let transcript = collect(EventStream::new(cut, Toy::default()));
    assert_eq!(transcript.events, [text("a")]);
    assert_eq!(
        transcript.error,
        Some(ProviderError::Network("read past the end".into()))
    );
}

#[test]
fn cut_at_offsets() {
    let body = b"data: a\n\ndata: [DONE]\n\n";
    let stream = EventStream::new(Chunks::cut_at(body, &[0, 3, 3, 10]), Toy::default());
    assert_eq!(collect(stream).events.len(), 2);
}
