//! The wall clock of one call: its deadline, which host work on the call's behalf may
//! hold back (compiling the Python runtime on first use), within an allowance.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The wall clock of one call. It stands still while the host does work on the call's
/// behalf that is not the guest's to pay for (compiling the Python runtime the first
/// time a script runs), up to [`CallClock`]'s allowance, so that such work neither fails
/// the call nor hands a guest unbounded time.
#[derive(Debug)]
pub struct CallClock {
    state: Mutex<ClockState>,
    /// How long the clock may stand still in one call, in total.
    allowance: Duration,
}

#[derive(Debug)]
struct ClockState {
    deadline: Instant,
    /// Host work in progress (it may nest).
    paused: u32,
    paused_since: Instant,
    /// Time the clock stood still so far in this call.
    credited: Duration,
}

impl CallClock {
    /// A clock that may stand still for `allowance` in each call; armed by [`rearm`].
    pub fn new(allowance: Duration) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(ClockState {
                deadline: now,
                paused: 0,
                paused_since: now,
                credited: Duration::ZERO,
            }),
            allowance,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ClockState> {
        // The state is plain numbers: a panic elsewhere cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a call that may run for `timeout`.
    pub fn arm(&self, timeout: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        state.deadline = now + timeout;
        state.paused = 0;
        state.paused_since = now;
        state.credited = Duration::ZERO;
    }

    /// When the call runs out of time, as of now.
    pub fn deadline(&self) -> Instant {
        let state = self.lock();
        if state.paused == 0 {
            return state.deadline;
        }
        state.deadline + self.pause_credit(&state, Instant::now())
    }

    /// What the pause in progress adds, within what is left of the allowance.
    fn pause_credit(&self, state: &ClockState, now: Instant) -> Duration {
        let left = self.allowance.saturating_sub(state.credited);
        now.saturating_duration_since(state.paused_since).min(left)
    }

    /// Stops the clock until the returned guard is dropped.
    pub fn pause(self: &Arc<Self>) -> HostWork {
        let mut state = self.lock();
        if state.paused == 0 {
            state.paused_since = Instant::now();
        }
        state.paused += 1;
        HostWork {
            clock: self.clone(),
        }
    }

    fn resume(&self) {
        let now = Instant::now();
        let mut state = self.lock();
        state.paused = state.paused.saturating_sub(1);
        if state.paused == 0 {
            let credit = self.pause_credit(&state, now);
            state.deadline += credit;
            state.credited += credit;
        }
    }
}

/// Host work during a call: the call's clock stands still while this lives.
#[must_use = "the clock runs again when this is dropped"]
pub struct HostWork {
    clock: Arc<CallClock>,
}

impl Drop for HostWork {
    fn drop(&mut self) {
        self.clock.resume();
    }
}
