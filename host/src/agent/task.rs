//! The agent as a task: it owns the conversation's transcript, takes [`Submission`]s on
//! one channel and reports [`TaskEvent`]s on another. A frontend (the CLI's `run` and
//! `chat`, an MCP server, a batch worker) only sends and renders; it never holds the loop.
//!
//! - Submissions are handled in order. A user turn sent while one runs waits for it.
//! - [`Submission::Interrupt`] stops the turn in progress: it ends with
//!   [`Outcome::Interrupted`], every pending tool call answered as cancelled, and the
//!   transcript valid for the next turn. With no turn running, it does nothing.
//! - [`Submission::Shutdown`] (or dropping the [`AgentTask`] and every [`Submitter`]
//!   cloned from it) interrupts the turn in progress, drops the turns still waiting, and
//!   ends the task. [`AgentTask::shutdown`] does that and returns the transcript; a caller
//!   that wants to see `TurnDropped` submits `Shutdown` itself and reads events to the end.
//! - A submission that arrives as a turn ends is taken before the next turn starts: an
//!   interrupt meant for a turn never stops the one after it.
//! - The event channel is unbounded, so the loop never waits on a slow frontend and no
//!   event is dropped: a frontend must keep reading (or drop the task).

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::AgentEvent;
use super::transcript::Transcript;
use super::turn::{Agent, AgentError, Outcome};
use crate::chat::Message;

/// What a frontend asks of the agent task.
#[derive(Debug, Clone)]
pub enum Submission {
    /// A user message: appended to the conversation, then answered.
    UserTurn(Message),
    /// Stop the turn in progress (if any).
    Interrupt,
    /// Stop the turn in progress (if any), drop waiting turns, end the task.
    Shutdown,
}

/// What the agent task reports, in order.
#[derive(Debug)]
pub enum TaskEvent {
    /// A user turn began: its number in this task, from 1.
    TurnStarted { turn: u64 },
    /// What the loop did, as it did it.
    Agent(AgentEvent),
    /// A user turn ended: answered, interrupted, or failed (an `Agent(Error)` event with
    /// the message came first).
    TurnEnded {
        turn: u64,
        outcome: Result<Outcome, AgentError>,
    },
    /// A user turn sent before a shutdown was not run.
    TurnDropped { turn: u64 },
}

/// The task has ended: nothing more can be submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the agent task has ended")]
pub struct TaskEnded;

/// Sends submissions to an agent task; cheap to clone (a signal handler keeps one).
#[derive(Debug, Clone)]
pub struct Submitter(mpsc::UnboundedSender<Submission>);

impl Submitter {
    pub fn submit(&self, submission: Submission) -> Result<(), TaskEnded> {
        self.0.send(submission).map_err(|_| TaskEnded)
    }

    pub fn interrupt(&self) -> Result<(), TaskEnded> {
        self.submit(Submission::Interrupt)
    }
}

/// A running agent task.
pub struct AgentTask {
    submitter: Submitter,
    events: mpsc::UnboundedReceiver<TaskEvent>,
    task: JoinHandle<Transcript>,
}

impl AgentTask {
    /// Starts `agent` on `transcript` as a task on the current tokio runtime.
    pub fn spawn(agent: Arc<Agent>, transcript: Transcript) -> Self {
        let (submit, submissions) = mpsc::unbounded_channel();
        let (emit, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(serve(agent, transcript, submissions, emit));
        Self {
            submitter: Submitter(submit),
            events,
            task,
        }
    }

    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    pub fn submit(&self, submission: Submission) -> Result<(), TaskEnded> {
        self.submitter.submit(submission)
    }

    /// The next event; `None` once the task has ended and every event was read.
    pub async fn next_event(&mut self) -> Option<TaskEvent> {
        self.events.recv().await
    }

    /// Ends the task (interrupting a turn in progress) and returns the transcript.
    pub async fn shutdown(self) -> Result<Transcript, TaskFailed> {
        // A task that ended already has its transcript waiting.
        let _ = self.submitter.submit(Submission::Shutdown);
        drop(self.events);
        self.task.await.map_err(|e| TaskFailed(e.to_string()))
    }
}

/// The agent task panicked (a bug in the host): the transcript on disk is what it saved.
#[derive(Debug, thiserror::Error)]
#[error("the agent task failed: {0}")]
pub struct TaskFailed(String);

async fn serve(
    agent: Arc<Agent>,
    mut transcript: Transcript,
    mut submissions: mpsc::UnboundedReceiver<Submission>,
    events: mpsc::UnboundedSender<TaskEvent>,
) -> Transcript {
    // A frontend that stopped reading has gone away: its events have nowhere to go.
    let send = |event| {
        let _ = events.send(event);
    };
    let mut waiting: VecDeque<(u64, Message)> = VecDeque::new();
    let mut turns = 0;
    let mut ending = false;
    loop {
        let (turn, message) = match waiting.pop_front() {
            Some(next) => next,
            None => match submissions.recv().await {
                Some(Submission::UserTurn(message)) => {
                    turns += 1;
                    (turns, message)
                }
                Some(Submission::Interrupt) => continue,
                Some(Submission::Shutdown) | None => break,
            },
        };
        send(TaskEvent::TurnStarted { turn });
        if let Err(error) = transcript.push(message) {
            let error = AgentError::from(error);
            send(TaskEvent::Agent(AgentEvent::Error {
                message: error.to_string(),
            }));
            send(TaskEvent::TurnEnded {
                turn,
                outcome: Err(error),
            });
            continue;
        }
        let interrupt = CancellationToken::new();
        let mut error_shown = false;
        let outcome = {
            let mut emit = |event| {
                error_shown |= matches!(event, AgentEvent::Error { .. });
                send(TaskEvent::Agent(event));
            };
            let run = agent.run_until(&mut transcript, &mut emit, &interrupt);
            let mut run = std::pin::pin!(run);
            loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    submission = submissions.recv(), if !ending => match submission {
                        Some(Submission::UserTurn(message)) => {
                            turns += 1;
                            waiting.push_back((turns, message));
                        }
                        Some(Submission::Interrupt) => interrupt.cancel(),
                        Some(Submission::Shutdown) | None => {
                            ending = true;
                            interrupt.cancel();
                        }
                    },
                }
            }
        };
        // Every failure reaches the frontend as an error event, whatever raised it.
        if let Err(error) = &outcome
            && !error_shown
        {
            send(TaskEvent::Agent(AgentEvent::Error {
                message: error.to_string(),
            }));
        }
        send(TaskEvent::TurnEnded { turn, outcome });
        // What arrived while the turn was ending belongs to what follows it: an interrupt
        // is spent (its turn is over), a shutdown or a closed channel ends the task.
        while !ending {
            match submissions.try_recv() {
                Ok(Submission::UserTurn(message)) => {
                    turns += 1;
                    waiting.push_back((turns, message));
                }
                Ok(Submission::Interrupt) => {}
                Ok(Submission::Shutdown) | Err(TryRecvError::Disconnected) => ending = true,
                Err(TryRecvError::Empty) => break,
            }
        }
        if ending {
            break;
        }
    }
    // Turns sent after the shutdown are dropped too, and said to be.
    submissions.close();
    while let Ok(submission) = submissions.try_recv() {
        if let Submission::UserTurn(message) = submission {
            turns += 1;
            waiting.push_back((turns, message));
        }
    }
    for (turn, _) in waiting {
        send(TaskEvent::TurnDropped { turn });
    }
    transcript
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
