//! Native mode: a host interpreter. (Being written: see the issue "Skills".)

use super::{ResolvedJob, ScriptFailure, ScriptRun};
use crate::policy::PluginPolicy;

pub async fn run(_policy: &PluginPolicy, _job: &ResolvedJob) -> Result<ScriptRun, ScriptFailure> {
    Err(ScriptFailure::Unavailable(
        "native mode is not built yet".into(),
    ))
}
