//! The credential broker: grants a provider its API's destination and the key for it,
//! without the key ever entering the sandbox, and without the plugin choosing either.
//!
//! The user decides. A provider's `info()` *declares* the variable its key conventionally
//! sits in, the header it travels in and a default base URL; for a plugin the host does not
//! know, those are requests, shown by `inspect` and `providers` and refused until the user
//! grants them. What grants them:
//!
//! - the destination: `--base-url`, `NAME_BASE_URL` in the environment, `base_url` in
//!   `[plugins.NAME]`, or — for the host's presets only ([`PRESETS`]: openai, anthropic) —
//!   the preset's documented URL;
//! - the secret: `[plugins.NAME.secret]`, `--api-key-env VAR`, or a preset's documented
//!   variable. It is read from the environment, else `./.env`.
//!
//! A granted secret is bound to one origin (scheme, host and port: the base URL's unless
//! the secret section names another), its header name is checked
//! ([`check_credential_header`]) and `caps::http` adds it only to requests to that origin.

use std::collections::BTreeMap;
use std::path::Path;

use super::redact::MIN_SECRET_CHARS;
use super::{
    HostPattern, Origin, PluginPolicy, Secret, SecretGrant, check_credential_header,
    headers::check_header_text,
};

/// What the host itself knows about a provider it ships: where its API is and where its
/// key comes from. Keyed by the plugin's name; whatever the plugin declares is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderPreset {
    pub name: &'static str,
    pub base_url: &'static str,
    pub header: &'static str,
    pub prefix: &'static str,
    /// The documented variables, the first one set wins.
    pub env_vars: &'static [&'static str],
}

/// The providers whose documented variable and URL the host grants without being asked.
pub const PRESETS: &[ProviderPreset] = &[
    ProviderPreset {
        name: "openai",
        base_url: "https://api.openai.com/v1",
        header: "authorization",
        prefix: "Bearer ",
        env_vars: &["OPENAI_API_KEY"],
    },
    ProviderPreset {
        name: "anthropic",
        base_url: "https://api.anthropic.com",
        header: "x-api-key",
        prefix: "",
        env_vars: &["ANTHROPIC_API_KEY"],
    },
];

/// The preset for plugin `name`, if the host has one.
pub fn preset(name: &str) -> Option<&'static ProviderPreset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// What a provider says about its credential (mirrors the contract's `credential-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialNeed {
    pub header: String,
    pub prefix: String,
    pub env_var: String,
    pub required: bool,
}

/// What a provider declares about itself: requests, never grants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Declared {
    pub default_base_url: String,
    pub credential: Option<CredentialNeed>,
}

/// What the user said on the command line for this provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProviderFlags<'a> {
    /// `--base-url`.
    pub base_url: Option<&'a str>,
    /// `--api-key-env`: the variable that holds the key.
    pub key_env: Option<&'a str>,
}

/// What was granted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Granted {
    /// The API root the provider may use (`None`: no network at all, e.g. `replay`).
    pub base_url: Option<String>,
    /// Where the key came from, when one was granted.
    pub secret_source: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("invalid base URL `{url}` for plugin `{plugin}`: {reason}")]
    BadBaseUrl {
        plugin: String,
        url: String,
        reason: String,
    },
    #[error("no credential for {plugin}: {env_var} is not set; {how}")]
    Missing {
        plugin: String,
        env_var: String,
        how: String,
    },
    #[error(
        "provider `{plugin}` asks to connect to {declared} (its default base URL); wasmhost \
         has no preset for `{plugin}`, so it goes nowhere until you grant a destination: pass \
         --base-url {declared}, set {env}, or add base_url = \"{declared}\" to [plugins.{plugin}] \
         in wasmhost.toml"
    )]
    UngrantedDestination {
        plugin: String,
        declared: String,
        env: String,
    },
    #[error(
        "provider `{plugin}` asks for the secret in {env_var} (sent in its `{header}` header); \
         wasmhost has no preset for `{plugin}`, so it reads no variable until you grant one: \
         pass --api-key-env {env_var}, or add [plugins.{plugin}.secret] with env = \"{env_var}\" \
         to wasmhost.toml"
    )]
    UngrantedSecret {
        plugin: String,
        env_var: String,
        header: String,
    },
    #[error(
        "{env_var} is the key for {home}, and `{plugin}` is pointed at {destination}: wasmhost \
         sends a provider's usual key to its own API only; name the key for {destination} with \
         --api-key-env VAR (or [plugins.{plugin}.secret]), even if it is {env_var}"
    )]
    ForeignDestination {
        plugin: String,
        env_var: String,
        home: String,
        destination: String,
    },
    #[error("cannot grant plugin `{plugin}` its secret: {reason}")]
    Refused { plugin: String, reason: String },
}

/// Where secrets may come from: the environment and `.env`, and only the variables the
/// user or a preset names are read.
#[derive(Debug, Default, Clone)]
pub struct SecretSources {
    /// Values from the process environment.
    pub use_process_env: bool,
    /// Stands in for the process environment when set (tests).
    pub environment: Option<BTreeMap<String, String>>,
    /// `KEY=value` pairs from a `.env` file.
    pub dotenv: BTreeMap<String, String>,
}

impl SecretSources {
    /// The process environment and `./.env` if it exists.
    pub fn standard() -> Self {
        Self {
            use_process_env: true,
            environment: None,
            dotenv: read_dotenv(Path::new(".env")),
        }
    }

    /// Whether `var` has a non-empty value in these sources.
    pub fn has(&self, var: &str) -> bool {
        self.lookup(var).is_some()
    }

    /// `var`'s value: the environment first, then `.env`; empty counts as unset.
    pub fn lookup(&self, var: &str) -> Option<String> {
        self.environment_value(var)
            .or_else(|| self.dotenv.get(var).cloned())
            .filter(|v| !v.trim().is_empty())
    }

    /// `var` from the environment only, never from `.env`: a `.env` file comes with a
    /// folder (a cloned repository), so it may hold secrets for the session but never
    /// choose where they go.
    pub fn environment_value(&self, var: &str) -> Option<String> {
        let value = match &self.environment {
            Some(vars) => vars.get(var).cloned(),
            None if self.use_process_env => std::env::var(var).ok(),
            None => None,
        };
        value.filter(|v| !v.trim().is_empty())
    }
}

/// `.env` entries, or none when the file is missing or unreadable.
pub fn read_dotenv(path: &Path) -> BTreeMap<String, String> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => BTreeMap::new(),
    }
}

/// The environment variable that overrides plugin `name`'s base URL.
pub fn base_url_env(name: &str) -> String {
    format!("{}_BASE_URL", name.to_ascii_uppercase().replace('-', "_"))
}

/// Grants provider `policy` its destination and credential, as the user (or the host's
/// preset) decided; the plugin's declaration only fills in the header of a secret the user
/// granted.
pub fn grant_provider(
    policy: &mut PluginPolicy,
    flags: ProviderFlags<'_>,
    declared: &Declared,
    sources: &SecretSources,
) -> Result<Granted, CredentialError> {
    let plugin = policy.name.clone();
    let preset = preset(&plugin);
    let env_name = base_url_env(&plugin);
    let chosen = flags
        .base_url
        .map(str::to_string)
        .or_else(|| sources.environment_value(&env_name))
        .or_else(|| policy.base_url.clone())
        .or_else(|| preset.map(|p| p.base_url.to_string()));
    let Some(base_url) = chosen.map(|u| u.trim().trim_end_matches('/').to_string()) else {
        if declared.default_base_url.is_empty() && declared.credential.is_none() {
            // A provider with no API at all (`replay`) gets no network.
            return Ok(Granted::default());
        }
        if declared.default_base_url.is_empty() {
            return Err(CredentialError::BadBaseUrl {
                plugin,
                url: String::new(),
                reason: "the provider declares no default base URL: pass --base-url".into(),
            });
        }
        return Err(CredentialError::UngrantedDestination {
            plugin,
            declared: declared.default_base_url.clone(),
            env: env_name,
        });
    };
    let origin = Origin::of_url(&base_url).map_err(|e| CredentialError::BadBaseUrl {
        plugin: plugin.clone(),
        url: base_url.clone(),
        reason: e.reason.to_string(),
    })?;
    let pattern = HostPattern::for_origin(&origin);
    if !policy.allowed_hosts.contains(&pattern) {
        policy.allowed_hosts.push(pattern);
    }
    policy
        .config
        .insert("base-url".to_string(), base_url.clone());
    let granted = |source| Granted {
        base_url: Some(base_url.clone()),
        secret_source: source,
    };

    // Who names the variable: the policy, then the flag, then a preset. Never the plugin.
    let named = match (&policy.secret_request, flags.key_env) {
        (Some(request), _) => Some((
            request.env.clone(),
            format!("{} ([plugins.{plugin}.secret])", request.env),
        )),
        (None, Some(var)) => Some((var.to_string(), format!("{var} (--api-key-env)"))),
        (None, None) => None,
    };
    let (header, prefix) = match (policy.secret_request.as_ref(), preset, &declared.credential) {
        (Some(r), p, d) => (
            r.header
                .clone()
                .or_else(|| p.map(|p| p.header.to_string()))
                .or_else(|| d.as_ref().map(|d| d.header.clone())),
            r.prefix
                .clone()
                .or_else(|| p.map(|p| p.prefix.to_string()))
                .or_else(|| d.as_ref().map(|d| d.prefix.clone())),
        ),
        (None, Some(p), _) => (Some(p.header.to_string()), Some(p.prefix.to_string())),
        (None, None, d) => (
            d.as_ref().map(|d| d.header.clone()),
            d.as_ref().map(|d| d.prefix.clone()),
        ),
    };
    let secret_origin = policy
        .secret_request
        .as_ref()
        .and_then(|r| r.origin.clone())
        .unwrap_or_else(|| origin.clone());

    if let Some((var, source)) = named {
        // The user named it, so it is meant to be there, whatever the server needs.
        let Some(value) = sources.lookup(&var) else {
            return Err(CredentialError::Missing {
                plugin,
                env_var: var,
                how: format!("{source} names it: set it in the environment or a .env file"),
            });
        };
        let header = header.ok_or_else(|| CredentialError::Refused {
            plugin: plugin.clone(),
            reason: format!(
                "the plugin declares no credential header: add header = \"...\" to \
                 [plugins.{plugin}.secret]"
            ),
        })?;
        policy.secret = Some(make_grant(
            &plugin,
            &header,
            prefix.unwrap_or_default(),
            secret_origin,
            value,
            source,
        )?);
        return Ok(granted(policy.secret.as_ref().map(|s| s.source.clone())));
    }

    if let Some(p) = preset {
        // A preset's key goes to the preset's own API only: pointed at another server
        // (another vendor's compatible API, a local one), the user names the key for it.
        let home = Origin::of_url(p.base_url).ok();
        if home.as_ref() != Some(&origin) {
            if origin.is_loopback() {
                return Ok(granted(None));
            }
            return Err(CredentialError::ForeignDestination {
                plugin,
                env_var: p.env_vars.join(" or "),
                home: p.base_url.to_string(),
                destination: origin.to_string(),
            });
        }
        let found = p
            .env_vars
            .iter()
            .find_map(|v| sources.lookup(v).map(|value| (*v, value)));
        return match found {
            Some((var, value)) => {
                let source = format!("{var} (preset)");
                policy.secret = Some(make_grant(
                    &plugin,
                    p.header,
                    p.prefix.to_string(),
                    secret_origin,
                    value,
                    source,
                )?);
                Ok(granted(policy.secret.as_ref().map(|s| s.source.clone())))
            }
            // Local servers (Ollama, llama.cpp, vLLM on this machine) usually take no key.
            None if origin.is_loopback() => Ok(granted(None)),
            None => Err(CredentialError::Missing {
                plugin: plugin.clone(),
                env_var: p.env_vars.join(" or "),
                how: format!(
                    "set it in the environment or a .env file, pass --api-key-env VAR, or add \
                     a [plugins.{plugin}.secret] section to wasmhost.toml"
                ),
            }),
        };
    }

    // A plugin the host does not know: its declared variable is a request.
    match &declared.credential {
        Some(need) if need.required && !origin.is_loopback() => {
            Err(CredentialError::UngrantedSecret {
                plugin,
                env_var: need.env_var.clone(),
                header: need.header.clone(),
            })
        }
        _ => Ok(granted(None)),
    }
}

/// Grants a tool plugin the secret of its `[plugins.NAME.secret]` section, which must name
/// its header and origin (a tool has no base URL to take them from).
pub fn grant_tool(
    policy: &mut PluginPolicy,
    sources: &SecretSources,
) -> Result<(), CredentialError> {
    let Some(request) = policy.secret_request.clone() else {
        return Ok(());
    };
    let plugin = policy.name.clone();
    let (Some(header), Some(origin)) = (request.header, request.origin) else {
        return Err(CredentialError::Refused {
            plugin: plugin.clone(),
            reason: format!(
                "[plugins.{plugin}.secret] of a tool plugin needs `header` and `host` (the \
                 origin that gets it, e.g. \"https://api.example.com\")"
            ),
        });
    };
    let source = format!("{} ([plugins.{plugin}.secret])", request.env);
    let Some(value) = sources.lookup(&request.env) else {
        return Err(CredentialError::Missing {
            plugin,
            env_var: request.env.clone(),
            how: format!("{source} names it: set it in the environment or a .env file"),
        });
    };
    policy.secret = Some(make_grant(
        &plugin,
        &header,
        request.prefix.unwrap_or_default(),
        origin,
        value,
        source,
    )?);
    Ok(())
}

fn make_grant(
    plugin: &str,
    header: &str,
    prefix: String,
    origin: Origin,
    value: String,
    source: String,
) -> Result<SecretGrant, CredentialError> {
    let refused = |reason: String| CredentialError::Refused {
        plugin: plugin.to_string(),
        reason,
    };
    let header = check_credential_header(header).map_err(refused)?;
    check_header_text(&prefix).map_err(|e| refused(format!("the header prefix: {e}")))?;
    check_header_text(&value).map_err(|e| refused(format!("the value of {source}: {e}")))?;
    if origin.scheme() == "http" && !origin.is_loopback() {
        return Err(refused(format!(
            "{origin} is plain http and not this machine: a secret travels only over https, \
             or over http to loopback (a local server)"
        )));
    }
    if value.chars().count() < MIN_SECRET_CHARS {
        return Err(refused(format!(
            "the value of {source} is shorter than {MIN_SECRET_CHARS} characters; wasmhost \
             redacts every granted secret from what it writes and cannot do that safely for \
             so short a value"
        )));
    }
    Ok(SecretGrant {
        header,
        prefix,
        origin,
        value: Secret::new(value),
        source,
    })
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
