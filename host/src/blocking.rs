//! Blocking work on the async runtime's threads.

/// Runs `f`, which may block its thread (a file write and flush, an open), without taking
/// an async worker with it: on a multi-threaded runtime the worker's other tasks move to
/// another thread meanwhile. On a current-thread runtime (tests, benchmarks) or outside
/// one there is no other worker to starve, and `f` just runs.
pub(crate) fn off_the_async_workers<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
