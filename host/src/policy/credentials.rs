//! The credential broker: grants a provider plugin its API's host and the key for it,
//! without the key ever entering the sandbox.
//!
//! The provider declares which header carries its credential and which environment
//! variable conventionally holds it. The host finds the secret (the policy's `secret`
//! section, else the environment, else `.env`), binds it to the host of the API's base URL
//! and lets `caps::http` add the header only on requests to that host.

use std::collections::BTreeMap;
use std::path::Path;

use super::{HostPattern, PluginPolicy, Secret, SecretGrant};

/// What a provider says about its credential (mirrors the contract's `credential-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialNeed {
    pub header: String,
    pub prefix: String,
    pub env_var: String,
    pub required: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("invalid base URL `{url}` for plugin `{plugin}`: {reason}")]
    BadBaseUrl {
        plugin: String,
        url: String,
        reason: String,
    },
    #[error(
        "no credential for {plugin}: set {env_var} (in the environment or a .env file) or add a [plugins.{plugin}.secret] section to wasmhost.toml"
    )]
    Missing { plugin: String, env_var: String },
}

/// Where secrets may come from besides the policy file.
#[derive(Debug, Default, Clone)]
pub struct SecretSources {
    /// Values from the process environment (only the variables asked for are read).
    pub use_process_env: bool,
    /// `KEY=value` pairs from a `.env` file.
    pub dotenv: BTreeMap<String, String>,
}

impl SecretSources {
    /// The process environment and `./.env` if it exists.
    pub fn standard() -> Self {
        Self {
            use_process_env: true,
            dotenv: read_dotenv(Path::new(".env")),
        }
    }

    /// Whether `var` has a non-empty value in these sources.
    pub fn has(&self, var: &str) -> bool {
        self.lookup(var).is_some()
    }

    fn lookup(&self, var: &str) -> Option<String> {
        let from_env = self
            .use_process_env
            .then(|| std::env::var(var).ok())
            .flatten();
        from_env
            .or_else(|| self.dotenv.get(var).cloned())
            .filter(|v| !v.trim().is_empty())
    }
}

/// `.env` entries, or none when the file is missing or unreadable.
pub fn read_dotenv(path: &Path) -> BTreeMap<String, String> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => BTreeMap::new(),
    }
}

/// Grants `policy` its API host and credential for `base_url`; returns the secret values
/// granted, so the caller can redact them from anything it shows.
pub fn grant_provider(
    policy: &mut PluginPolicy,
    base_url: &str,
    need: Option<&CredentialNeed>,
    sources: &SecretSources,
) -> Result<Vec<String>, CredentialError> {
    let (scheme, host, port) =
        split_url(base_url).map_err(|reason| CredentialError::BadBaseUrl {
            plugin: policy.name.clone(),
            url: base_url.to_string(),
            reason: reason.to_string(),
        })?;
    let entry = match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let pattern = HostPattern::parse(&entry).map_err(|e| CredentialError::BadBaseUrl {
        plugin: policy.name.clone(),
        url: base_url.to_string(),
        reason: e.to_string(),
    })?;
    if !policy
        .allowed_hosts
        .iter()
        .any(|p| p.allows(scheme, host, port))
    {
        policy.allowed_hosts.push(pattern.clone());
    }
    policy
        .config
        .insert("base-url".to_string(), base_url.to_string());

    // An explicit `secret` section in the policy wins; it names its own host.
    if let Some(secret) = &policy.secret {
        return Ok(vec![secret.value.expose().to_string()]);
    }
    let Some(need) = need else {
        return Ok(Vec::new());
    };
    match sources.lookup(&need.env_var) {
        Some(value) => {
            policy.secret = Some(SecretGrant {
                header: need.header.to_ascii_lowercase(),
                prefix: need.prefix.clone(),
                host: pattern,
                value: Secret::new(value.clone()),
            });
            Ok(vec![value])
        }
        // Local servers (Ollama, llama.cpp, vLLM on this machine) usually take no key.
        None if !need.required || is_loopback(host) => Ok(Vec::new()),
        None => Err(CredentialError::Missing {
            plugin: policy.name.clone(),
            env_var: need.env_var.clone(),
        }),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `scheme://host[:port]/...` → its parts. Only http and https are APIs we talk to.
pub fn split_url(url: &str) -> Result<(&str, &str, Option<u16>), &'static str> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("it needs a scheme, like https://")?;
    if scheme != "http" && scheme != "https" {
        return Err("only http:// and https:// are supported");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("credentials in the URL are not supported: use the secret settings");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6.split_once(']').ok_or("unclosed IPv6 bracket")?;
        (h, tail.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host");
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| "the port is not a number")?),
        None => None,
    };
    Ok((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(required: bool) -> CredentialNeed {
        CredentialNeed {
            header: "Authorization".into(),
            prefix: "Bearer ".into(),
            env_var: "WASMHOST_TEST_SURELY_UNSET_KEY".into(),
            required,
        }
    }

    fn sources(pairs: &[(&str, &str)]) -> SecretSources {
        SecretSources {
            use_process_env: false,
            dotenv: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn binds_the_secret_to_the_base_url_host_and_allows_it() {
        let mut p = PluginPolicy::deny_all("openai");
        let s = sources(&[("WASMHOST_TEST_SURELY_UNSET_KEY", "sk-1")]);
        let granted = grant_provider(&mut p, "https://api.openai.com/v1", Some(&need(true)), &s)
            .expect("granted");
        assert_eq!(granted, vec!["sk-1".to_string()]);
        assert!(p.check_outbound("https", "api.openai.com", None).is_ok());
        assert!(p.check_outbound("https", "evil.example", None).is_err());
        let secret = p.secret.expect("secret");
        assert_eq!(secret.header, "authorization");
        assert!(secret.host.allows("https", "api.openai.com", Some(443)));
        assert!(!secret.host.allows("https", "api.openai.com", Some(8443)));
        assert_eq!(p.config["base-url"], "https://api.openai.com/v1");
    }

    #[test]
    fn missing_key_is_an_actionable_error_unless_local() {
        let mut p = PluginPolicy::deny_all("openai");
        let err = grant_provider(
            &mut p,
            "https://api.openai.com/v1",
            Some(&need(true)),
            &sources(&[]),
        )
        .expect_err("missing");
        let text = err.to_string();
        assert!(
            text.contains("no credential for openai: set WASMHOST_TEST_SURELY_UNSET_KEY"),
            "{text}"
        );
        let mut p = PluginPolicy::deny_all("openai");
        assert!(
            grant_provider(
                &mut p,
                "http://127.0.0.1:11434/v1",
                Some(&need(true)),
                &sources(&[])
            )
            .is_ok()
        );
        assert!(p.secret.is_none());
        assert!(p.check_outbound("http", "127.0.0.1", Some(11434)).is_ok());
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            split_url("http://[::1]:8080/v1"),
            Ok(("http", "::1", Some(8080)))
        );
        assert_eq!(
            split_url("https://api.x.com"),
            Ok(("https", "api.x.com", None))
        );
        assert!(split_url("api.x.com").is_err());
        assert!(split_url("ftp://x").is_err());
        assert!(split_url("https://user:pw@x.com").is_err());
        assert!(split_url("http://x:port").is_err());
    }
}
