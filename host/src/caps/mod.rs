//! One module per capability a plugin can be given. Each builds its per-instance state
//! from the plugin's `PluginPolicy`; the store state (`sandbox::PluginState`) is their sum.

pub mod fs_guard;
pub mod host_api;
pub mod http;
pub mod script_bridge;
pub mod wasi;

use std::sync::{Arc, Mutex};

use crate::policy::Denial;

/// What an instance was refused, shared by the capabilities that refuse things: the guest
/// sees only "denied" or "not permitted", the host explains which grant was missing.
#[derive(Debug, Clone, Default)]
pub struct Denials(Arc<Mutex<Vec<Denial>>>);

impl Denials {
    pub fn push(&self, denial: Denial) {
        if let Ok(mut list) = self.0.lock() {
            // A guest that retries a refused call in a loop gets one line per kind.
            if !list.contains(&denial) && list.len() < MAX_DENIALS_KEPT {
                list.push(denial);
            }
        }
    }

    /// The refusals since the last take.
    pub fn take(&self) -> Vec<Denial> {
        self.0
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }
}

/// Distinct refusals kept per call; a guest can ask a million times.
const MAX_DENIALS_KEPT: usize = 16;
