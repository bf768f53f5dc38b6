//! The `script-bridge` interface: the host runs Python for a tool plugin, under that
//! plugin's policy. The runners (sandboxed CPython and native interpreters) plug in here
//! through `ScriptRunner`; a host without one answers `unavailable`.

use std::sync::Arc;

use crate::plugin::bindings::script_bridge::{self, ScriptError, ScriptOutput, ScriptRequest};

/// Something that can run a skill's Python for a plugin.
pub trait ScriptRunner: Send + Sync {
    fn run(
        &self,
        request: ScriptRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<ScriptOutput, ScriptError>> + Send + '_>>;
}

/// Per-instance state of the `script-bridge` interface.
pub struct ScriptBridge {
    runner: Option<Arc<dyn ScriptRunner>>,
}

impl ScriptBridge {
    pub fn new(runner: Option<Arc<dyn ScriptRunner>>) -> Self {
        Self { runner }
    }
}

impl script_bridge::Host for ScriptBridge {
    async fn run_python(&mut self, request: ScriptRequest) -> Result<ScriptOutput, ScriptError> {
        match &self.runner {
            Some(runner) => runner.run(request).await,
            None => Err(ScriptError::Unavailable(
                "this host has no Python runner configured, so skills cannot run scripts"
                    .to_string(),
            )),
        }
    }
}
