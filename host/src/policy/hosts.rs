//! Outbound host patterns: what an `allowed_hosts` entry means.

use std::fmt;

/// One `allowed_hosts` entry.
///
/// - `api.example.com` allows that host on the scheme's default port only (443 for https,
///   80 for http), so granting a name never opens every port on it;
/// - `https://api.example.com` allows it over https only (what the credential broker
///   grants for a provider's base URL, so the API is never reached in plain text);
/// - `127.0.0.1:8080` allows exactly that port;
/// - `localhost:*` allows any port;
/// - `*.example.com` allows any subdomain (not `example.com` itself) on default ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// `Some` when the entry names its scheme (`https://…`): only that scheme is allowed.
    scheme: Option<&'static str>,
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
        let (scheme, rest) = match trimmed.split_once("://") {
            Some(("https", rest)) => (Some("https"), rest),
            Some(("http", rest)) => (Some("http"), rest),
            Some(_) => return Err(fail("only http:// and https:// can be allowed")),
            None => (None, trimmed),
        };
        if rest.contains('/') {
            return Err(fail(
                "give a host name with an optional port (and optional http:// or https://), not a URL with a path",
            ));
        }
        let (host, port) = split_host_port(rest);
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
            scheme,
            host,
            port,
            text: trimmed.to_string(),
        })
    }

    /// Exactly `origin`: its scheme, host and port.
    pub fn for_origin(origin: &Origin) -> Self {
        Self {
            scheme: Some(origin.scheme),
            host: HostMatch::Exact(origin.host.clone()),
            port: PortMatch::Exact(origin.port),
            text: origin.to_string(),
        }
    }

    /// Does this entry allow a request to `host:port` made with `scheme`?
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if self.scheme.is_some_and(|s| !s.eq_ignore_ascii_case(scheme)) {
            return false;
        }
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

/// One scheme, host and port, exactly: what a secret is bound to. `https://h/v1` is
/// `https://h:443` and nothing else: not `http://h` (port 80, plain text), not `https://h:8443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: &'static str,
    /// Lower-cased, IPv6 literals without brackets.
    host: String,
    port: u16,
}

/// Why a URL or a secret's `host` could not be read as an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL `{url}`: {reason}")]
pub struct OriginError {
    pub url: String,
    pub reason: &'static str,
}

impl Origin {
    /// The origin of an absolute `http(s)://host[:port][/path]` URL.
    pub fn of_url(url: &str) -> Result<Self, OriginError> {
        let fail = |reason| OriginError {
            url: url.to_string(),
            reason,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| fail("it needs a scheme, like https://"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => "https",
            "http" => "http",
            _ => return Err(fail("only http:// and https:// are supported")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err(fail(
                "credentials in the URL are not supported: use the secret settings",
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, tail) = v6
                .split_once(']')
                .ok_or_else(|| fail("unclosed IPv6 bracket"))?;
            match tail {
                "" => (h, None),
                _ => (
                    h,
                    Some(
                        tail.strip_prefix(':')
                            .ok_or_else(|| fail("junk after the IPv6 address"))?,
                    ),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(fail("it has no host"));
        }
        if host.contains('*') {
            return Err(fail("a URL names one host: `*` is not allowed"));
        }
        let ip = host.parse::<std::net::IpAddr>().is_ok();
        let name_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !ip && !name_ok {
            return Err(fail(
                "the host must be a name (letters, digits, `-`, dot-separated, no trailing dot) \
                 or an IP address",
            ));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| fail("the port is not a number"))?,
            None => default_port(scheme).unwrap_or(443),
        };
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// A secret's `host` setting: a URL origin (`https://api.x.com`, `http://127.0.0.1:8080`)
    /// or a bare `host[:port]`, which means https.
    pub fn of_entry(entry: &str) -> Result<Self, OriginError> {
        let entry = entry.trim().trim_end_matches('/');
        if entry.contains("://") {
            let origin = Self::of_url(entry)?;
            if entry
                .split_once("://")
                .is_some_and(|(_, rest)| rest.contains('/'))
            {
                return Err(OriginError {
                    url: entry.to_string(),
                    reason: "give scheme://host[:port] without a path",
                });
            }
            Ok(origin)
        } else {
            Self::of_url(&format!("https://{entry}"))
        }
    }

    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Is a request to `scheme://host[:port]` to exactly this origin?
    pub fn matches(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        scheme == self.scheme
            && host.eq_ignore_ascii_case(&self.host)
            && port.or(default_port(scheme)) == Some(self.port)
    }

    /// Whether the host is this machine (Ollama, llama.cpp and vLLM servers need no key).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if default_port(self.scheme) == Some(self.port) {
            write!(f, "{}://{host}", self.scheme)
        } else {
            write!(f, "{}://{host}:{}", self.scheme, self.port)
        }
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
    fn a_scheme_binds_the_pattern_to_it() {
        let pat = p("https://api.openai.com");
        assert!(pat.allows("https", "api.openai.com", None));
        assert!(!pat.allows("http", "api.openai.com", None));
        assert!(!pat.allows("http", "api.openai.com", Some(443)));
        let pat = p("http://127.0.0.1:8080");
        assert!(pat.allows("http", "127.0.0.1", Some(8080)));
        assert!(!pat.allows("https", "127.0.0.1", Some(8080)));
        assert!(HostPattern::parse("ftp://x").is_err());
        assert!(HostPattern::parse("https://x/v1").is_err());
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_exactly() {
        let o = Origin::of_url("https://API.example.com/v1").expect("origin");
        assert_eq!(o.to_string(), "https://api.example.com");
        assert!(o.matches("https", "api.example.com", None));
        assert!(o.matches("https", "api.example.com", Some(443)));
        // The reported attack: the key of an https base URL offered to plain http.
        assert!(!o.matches("http", "api.example.com", None));
        assert!(!o.matches("http", "api.example.com", Some(443)));
        assert!(!o.matches("http", "api.example.com", Some(8080)));
        assert!(!o.matches("https", "api.example.com", Some(8443)));
        assert!(!o.matches("https", "evil.example.com", None));
        let local = Origin::of_url("http://[::1]:11434/v1").expect("v6");
        assert!(local.matches("http", "[::1]", Some(11434)));
        assert!(local.is_loopback());
        assert_eq!(local.to_string(), "http://[::1]:11434");
        assert_eq!(
            Origin::of_entry("api.x.com").expect("bare"),
            Origin::of_url("https://api.x.com").expect("url")
        );
        for bad in [
            "api.x.com/v1",
            "ftp://x",
            "https://",
            "https://u:p@x",
            "https://x:y",
            "https://*.x",
        ] {
            let err = if bad.contains("://") {
                Origin::of_entry(bad).err()
            } else {
                Origin::of_url(bad).err()
            };
            assert!(err.is_some(), "{bad}");
        }
    }

    #[test]
    fn rejects_urls_and_odd_wildcards() {
        assert!(HostPattern::parse("https://api.openai.com/v1").is_err());
        assert!(HostPattern::parse("api.*.com").is_err());
        assert!(HostPattern::parse("").is_err());
        assert!(HostPattern::parse("host:notaport").is_err());
    }
}
