//! Turning the sections of `wasmhost.toml` into grants and limits, with errors that name
//! the key and say what is wrong with it.

use std::time::Duration;

use super::headers::{self, check_credential_header};
use super::{
    CompileLimits, ContentLimits, HostLimits, Limits, MAX_CONCURRENT_CALLS, MAX_MEMORY_BYTES,
    Origin, SecretRequest, file,
};

/// Applies a section's `[fuel, memory_mib, output_kib]` and `timeout_secs` to `limits`.
pub(super) fn apply_limits(
    limits: &mut Limits,
    [fuel, memory_mib, output_kib]: [Option<u64>; 3],
    timeout_secs: Option<f64>,
) -> Result<(), String> {
    if let Some(fuel) = fuel {
        limits.fuel = fuel;
    }
    if let Some(mib) = memory_mib {
        let bytes = mib.saturating_mul(1 << 20);
        if bytes > MAX_MEMORY_BYTES {
            return Err(format!(
                "memory_mib = {mib} is above the host's ceiling of {} MiB",
                MAX_MEMORY_BYTES >> 20
            ));
        }
        limits.memory_bytes = bytes;
    }
    if let Some(secs) = timeout_secs {
        limits.timeout = Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("timeout_secs = {secs} is not a positive number"))?;
    }
    if let Some(kib) = output_kib {
        limits.output_bytes = usize::try_from(kib.saturating_mul(1024)).unwrap_or(usize::MAX);
    }
    Ok(())
}

/// Checks a `secret` section. The variable is read only when the secret is granted (see
/// `credentials`), so a section for a plugin this run does not use never fails it.
pub(super) fn secret_request(secret: &file::SecretSection) -> Result<SecretRequest, String> {
    if secret.env.trim().is_empty() {
        return Err("[secret] env is empty: name the variable that holds the secret".into());
    }
    let header = match &secret.header {
        Some(h) => Some(check_credential_header(h).map_err(|e| format!("[secret] header: {e}"))?),
        None => None,
    };
    if let Some(prefix) = &secret.prefix {
        headers::check_header_text(prefix).map_err(|e| format!("[secret] prefix: {e}"))?;
    }
    let origin = match &secret.host {
        Some(h) => Some(Origin::of_entry(h).map_err(|e| format!("[secret] host: {e}"))?),
        None => None,
    };
    Ok(SecretRequest {
        env: secret.env.clone(),
        header,
        prefix: secret.prefix.clone(),
        origin,
    })
}

pub(super) fn positive(key: &str, n: u64) -> Result<usize, String> {
    usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{key} = {n} must be a positive whole number"))
}

fn positive_secs(key: &str, secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{key} = {secs} is not a positive number of seconds"))
}

fn kib(key: &str, n: u64) -> Result<usize, String> {
    positive(key, n).map(|n| n.saturating_mul(1024))
}

pub(super) fn apply_content_limits(
    c: &mut ContentLimits,
    s: &file::PluginSection,
) -> Result<(), String> {
    if let Some(n) = s.response_kib {
        c.response_bytes = kib("response_kib", n)?;
    }
    if let Some(n) = s.stream_events {
        c.stream_events = positive("stream_events", n)? as u64;
    }
    if let Some(secs) = s.stall_secs {
        c.stall = positive_secs("stall_secs", secs)?;
    }
    if let Some(n) = s.max_tool_calls {
        c.max_tool_calls = positive("max_tool_calls", n)?;
    }
    if let Some(n) = s.result_kib {
        c.tool_result_bytes = kib("result_kib", n)?;
    }
    if let Some(n) = s.tool_spec_kib {
        c.tool_spec_bytes = kib("tool_spec_kib", n)?;
    }
    if let Some(n) = s.max_tools {
        c.max_tools = positive("max_tools", n)?;
    }
    Ok(())
}

fn apply_compile_limits(c: &mut CompileLimits, s: &file::CompileSection) -> Result<(), String> {
    let mib = |key, n: u64| positive(key, n).map(|n| (n as u64).saturating_mul(1 << 20));
    let count = |key, n: u64| positive(key, n).map(|n| n as u64);
    if let Some(n) = s.component_mib {
        c.component_bytes = mib("component_mib", n)?;
    }
    if let Some(n) = s.code_mib {
        c.code_bytes = mib("code_mib", n)?;
    }
    if let Some(n) = s.function_kib {
        c.function_bytes = kib("function_kib", n)? as u64;
    }
    for (key, value, slot) in [
        ("functions", s.functions, &mut c.functions),
        ("locals", s.locals, &mut c.locals),
        ("stack", s.stack, &mut c.stack),
        ("control_depth", s.control_depth, &mut c.control_depth),
        ("loops", s.loops, &mut c.loops),
        ("loop_nesting", s.loop_nesting, &mut c.loop_nesting),
        ("br_table", s.br_table, &mut c.br_table),
        ("cfg_ops", s.cfg_ops, &mut c.cfg_ops),
        ("call_indirect", s.call_indirect, &mut c.call_indirect),
        ("loop_pressure", s.loop_pressure, &mut c.loop_pressure),
        ("total_cfg_ops", s.total_cfg_ops, &mut c.total_cfg_ops),
        ("total_cfg_cost", s.total_cfg_cost, &mut c.total_cfg_cost),
        ("total_loops", s.total_loops, &mut c.total_loops),
        (
            "total_loop_pressure",
            s.total_loop_pressure,
            &mut c.total_loop_pressure,
        ),
    ] {
        if let Some(n) = value {
            *slot = count(key, n)?;
        }
    }
    if let Some(secs) = s.timeout_secs {
        c.timeout = positive_secs("timeout_secs", secs)?;
    }
    Ok(())
}

pub(super) fn resolve_host_limits(
    section: Option<&file::HostSection>,
) -> Result<HostLimits, String> {
    let mut limits = HostLimits::default();
    let Some(s) = section else {
        return Ok(limits);
    };
    if let Some(mib) = s.memory_mib {
        limits.total_memory_bytes = (positive("memory_mib", mib)? as u64).saturating_mul(1 << 20);
    }
    if let Some(n) = s.parallel_tools {
        limits.parallel_tools = positive("parallel_tools", n)?;
    }
    if let Some(n) = s.concurrent_calls {
        let n = positive("concurrent_calls", n)?;
        if n > MAX_CONCURRENT_CALLS {
            return Err(format!(
                "concurrent_calls = {n} is above the host's ceiling of {MAX_CONCURRENT_CALLS}"
            ));
        }
        limits.concurrent_calls = n;
    }
    if let Some(section) = &s.compile {
        apply_compile_limits(&mut limits.compile, section)?;
    }
    Ok(limits)
}
