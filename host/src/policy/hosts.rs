//! Outbound host patterns: what an `allowed_hosts` entry means.

use std::fmt;

/// One `allowed_hosts` entry.
///
/// - `api.example.com` allows that host on the scheme's default port only (443 for https,
///   80 for http), so granting a name never opens every port on it;
/// - `127.0.0.1:8080` allows exactly that port;
/// - `localhost:*` allows any port;
/// - `*.example.com` allows any subdomain (not `example.com` itself) on default ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: HostMatch,
    port: PortMatch,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Exact(String),
    SubdomainOf(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortMatch {
    Default,
    Exact(u16),
    Any,
}

/// Why an `allowed_hosts` entry could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed host `{entry}`: {reason}")]
pub struct HostPatternError {
    entry: String,
    reason: &'static str,
}

impl HostPattern {
    pub fn parse(entry: &str) -> Result<Self, HostPatternError> {
        let fail = |reason| HostPatternError {
            entry: entry.to_string(),
            reason,
        };
        let trimmed = entry.trim();
        if trimmed.contains("://") || trimmed.contains('/') {
            return Err(fail("give a host name with an optional port, not a URL"));
        }
        let (host, port) = split_host_port(trimmed);
        let port = match port {
            None => PortMatch::Default,
            Some("*") => PortMatch::Any,
            Some(p) => PortMatch::Exact(p.parse().map_err(|_| fail("the port is not a number"))?),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(fail("the host is empty"));
        }
        let host = match host.strip_prefix("*.") {
            Some(parent) if !parent.is_empty() && !parent.contains('*') => {
                HostMatch::SubdomainOf(parent.to_string())
            }
            _ if host.contains('*') => return Err(fail("`*` is allowed only as a leading `*.`")),
            _ => HostMatch::Exact(host),
        };
        Ok(Self {
            host,
            port,
            text: trimmed.to_string(),
        })
    }

    /// Does this entry allow a request to `host:port` made with `scheme`?
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let default_port = default_port(scheme);
        let port = port.or(default_port);
        let port_ok = match self.port {
            PortMatch::Any => true,
            PortMatch::Exact(p) => port == Some(p),
            PortMatch::Default => port.is_some() && port == default_port,
        };
        let host_ok = match &self.host {
            HostMatch::Exact(h) => *h == host,
            HostMatch::SubdomainOf(parent) => host
                .strip_suffix(parent.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        };
        port_ok && host_ok
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Splits `host:port`, leaving IPv6 literals (`[::1]:80`, `::1`) intact.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        HostPattern::parse(s).expect("valid pattern")
    }

    #[test]
    fn bare_host_means_default_port_only() {
        assert!(p("api.openai.com").allows("https", "api.openai.com", None));
        assert!(p("api.openai.com").allows("https", "API.OpenAI.com", Some(443)));
        assert!(!p("api.openai.com").allows("https", "api.openai.com", Some(8443)));
        assert!(p("example.com").allows("http", "example.com", Some(80)));
        assert!(!p("api.openai.com").allows("https", "evil.com", None));
    }

    #[test]
    fn explicit_and_wildcard_ports() {
        assert!(p("127.0.0.1:8080").allows("http", "127.0.0.1", Some(8080)));
        assert!(!p("127.0.0.1:8080").allows("http", "127.0.0.1", Some(8081)));
        assert!(!p("127.0.0.1:8080").allows("http", "127.0.0.1", None));
        assert!(p("localhost:*").allows("http", "localhost", Some(1)));
        assert!(p("[::1]:*").allows("http", "[::1]", Some(9)));
    }

    #[test]
    fn subdomain_wildcard_excludes_parent_and_lookalikes() {
        let pat = p("*.example.com");
        assert!(pat.allows("https", "a.example.com", None));
        assert!(pat.allows("https", "a.b.example.com", None));
        assert!(!pat.allows("https", "example.com", None));
        assert!(!pat.allows("https", "evilexample.com", None));
    }

    #[test]
    fn rejects_urls_and_odd_wildcards() {
        assert!(HostPattern::parse("https://api.openai.com").is_err());
        assert!(HostPattern::parse("api.*.com").is_err());
        assert!(HostPattern::parse("").is_err());
        assert!(HostPattern::parse("host:notaport").is_err());
    }
}
