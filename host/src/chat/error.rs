//! Why a provider call failed, and how the loop reacts to each kind.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProviderError {
    /// Missing or rejected credential. Ends the turn (a fallback provider may take over).
    #[error("authentication failed: {message}")]
    Auth { message: String },
    /// Retried after `retry_after` (or backoff), then a fallback provider.
    #[error("rate limited: {message}")]
    RateLimited {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Retried, then a fallback provider.
    #[error("timed out: {message}")]
    Timeout { message: String },
    /// Ends the turn (a fallback provider may take over).
    #[error("model not found: {message}")]
    ModelNotFound { message: String },
    /// Ends the turn: the conversation is too long for the model.
    #[error("context window exceeded: {message}")]
    ContextOverflow { message: String },
    /// Ends the turn: the request itself is wrong.
    #[error("bad request: {message}")]
    BadRequest { message: String },
    /// Retried when `retryable`, then a fallback provider.
    #[error("server error{}: {message}", status.map(|s| format!(" {s}")).unwrap_or_default())]
    Server {
        status: Option<u16>,
        message: String,
        retryable: bool,
    },
    /// Retried, then a fallback provider.
    #[error("network error: {message}")]
    Network { message: String },
    /// The response crossed one of the host's limits (its size, its event count, time
    /// without progress, or the request timeout while still streaming). Not retried (it
    /// would do the same again); a fallback provider may take over.
    #[error("limit: {message}")]
    Limit { message: String },
    /// Ends the turn. Includes a provider plugin that crashed or broke its contract.
    #[error("{message}")]
    Other { message: String },
}

impl ProviderError {
    /// Whether trying the same provider again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::RateLimited { .. }
            | ProviderError::Timeout { .. }
            | ProviderError::Network { .. } => true,
            ProviderError::Server { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Whether another provider may succeed where this one failed. A malformed request or
    /// an overlong conversation would fail anywhere.
    pub fn allows_fallback(&self) -> bool {
        !matches!(
            self,
            ProviderError::BadRequest { .. } | ProviderError::ContextOverflow { .. }
        )
    }

    /// The wait the provider asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited {
                retry_after_ms: Some(ms),
                ..
            } => Some(Duration::from_millis(*ms)),
            _ => None,
        }
    }

    /// Short machine-readable kind, as in JSON events.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::Auth { .. } => "auth",
            ProviderError::RateLimited { .. } => "rate-limited",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::ModelNotFound { .. } => "model-not-found",
            ProviderError::ContextOverflow { .. } => "context-overflow",
            ProviderError::BadRequest { .. } => "bad-request",
            ProviderError::Server { .. } => "server",
            ProviderError::Network { .. } => "network",
            ProviderError::Limit { .. } => "limit",
            ProviderError::Other { .. } => "other",
        }
    }

    /// Applies `f` to the message, e.g. to redact secrets.
    pub fn map_message(self, f: impl Fn(&str) -> String) -> Self {
        use ProviderError::*;
        match self {
            Auth { message } => Auth {
                message: f(&message),
            },
            RateLimited {
                message,
                retry_after_ms,
            } => RateLimited {
                message: f(&message),
                retry_after_ms,
            },
            Timeout { message } => Timeout {
                message: f(&message),
            },
            ModelNotFound { message } => ModelNotFound {
                message: f(&message),
            },
            ContextOverflow { message } => ContextOverflow {
                message: f(&message),
            },
            BadRequest { message } => BadRequest {
                message: f(&message),
            },
            Server {
                status,
                message,
                retryable,
            } => Server {
                status,
                message: f(&message),
                retryable,
            },
            Network { message } => Network {
                message: f(&message),
            },
            Limit { message } => Limit {
                message: f(&message),
            },
            Other { message } => Other {
                message: f(&message),
            },
        }
    }
}
