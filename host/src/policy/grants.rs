//! The one place that decides whether a plugin may use a capability. Every check returns a
//! `Denial` that names the plugin, the capability and the line that would grant it.

use std::fmt;

use super::PluginPolicy;

/// A capability a plugin asked for and was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    /// An HTTP request to `scheme://host:port`.
    OutboundHttp {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
    /// An HTTP request without an absolute URL (no scheme or authority).
    MalformedHttpTarget(String),
    /// Opening something in a granted folder that is not a regular file or a directory.
    SpecialFile { path: String },
    /// Creating a symbolic link.
    Symlink { link: String, target: String },
    /// A request that carries the plugin's own secret (which it can only have learned from
    /// a server echoing it) in its URL or headers.
    ResendSecret {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Denial {
    pub plugin: String,
    pub capability: Capability,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plugin = &self.plugin;
        match &self.capability {
            Capability::OutboundHttp { scheme, host, port } => {
                let entry = match port {
                    Some(p) => format!("{host}:{p}"),
                    None => host.clone(),
                };
                write!(
                    f,
                    "plugin `{plugin}` may not connect to {scheme}://{entry}: to allow it, add \
                     \"{entry}\" to allowed_hosts in [plugins.{plugin}] of wasmhost.toml"
                )
            }
            Capability::SpecialFile { path } => write!(
                f,
                "plugin `{plugin}` may not open `{}`: it is not a regular file or a folder (a \
                 FIFO, socket or device), and plugins open only those",
                path.escape_debug()
            ),
            Capability::Symlink { link, target } => write!(
                f,
                "plugin `{plugin}` may not create symbolic links (`{}` -> `{}`)",
                link.escape_debug(),
                target.escape_debug()
            ),
            Capability::ResendSecret { scheme, host, port } => write!(
                f,
                "plugin `{plugin}` tried to send its secret to {scheme}://{host}{} in the URL or \
                 a header; the host adds the secret itself, only to the origin it is bound to",
                port.map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Capability::MalformedHttpTarget(uri) => write!(
                f,
                "plugin `{plugin}` sent a request without a scheme and host ({uri}); requests \
                 need an absolute http(s) URL"
            ),
        }
    }
}

impl PluginPolicy {
    /// May this plugin send an HTTP request to `scheme://host:port`?
    pub fn check_outbound(
        &self,
        scheme: &str,
        host: &str,
        port: Option<u16>,
    ) -> Result<(), Denial> {
        let scheme_ok = matches!(scheme, "http" | "https");
        if scheme_ok
            && self
                .allowed_hosts
                .iter()
                .any(|p| p.allows(scheme, host, port))
        {
            return Ok(());
        }
        Err(Denial {
            plugin: self.name.clone(),
            capability: Capability::OutboundHttp {
                scheme: scheme.to_string(),
                host: host.to_string(),
                port,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{HostPattern, PluginPolicy};

    fn policy(hosts: &[&str]) -> PluginPolicy {
        let mut p = PluginPolicy::deny_all("demo");
        p.allowed_hosts = hosts
            .iter()
            .map(|h| HostPattern::parse(h).expect("pattern"))
            .collect();
        p
    }

    #[test]
    fn deny_all_denies_everything() {
        let p = PluginPolicy::deny_all("demo");
        assert!(p.check_outbound("https", "api.openai.com", None).is_err());
        assert!(p.check_outbound("http", "127.0.0.1", Some(80)).is_err());
    }

    #[test]
    fn grants_are_exact() {
        let p = policy(&["127.0.0.1:8080"]);
        assert!(p.check_outbound("http", "127.0.0.1", Some(8080)).is_ok());
        assert!(p.check_outbound("http", "127.0.0.1", Some(8081)).is_err());
        assert!(p.check_outbound("http", "localhost", Some(8080)).is_err());
        assert!(p.check_outbound("ftp", "127.0.0.1", Some(8080)).is_err());
    }

    #[test]
    fn denial_names_plugin_capability_and_fix() {
        let err = policy(&[])
            .check_outbound("https", "evil.example", None)
            .expect_err("denied");
        let text = err.to_string();
        assert!(text.contains("plugin `demo`"), "{text}");
        assert!(text.contains("https://evil.example"), "{text}");
        assert!(text.contains("[plugins.demo]"), "{text}");
    }
}
