//! The little URL handling a provider needs: split an absolute `http(s)` URL into the parts
//! `wasi:http` wants, and join a base URL with an endpoint path.

use std::fmt;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// An absolute URL split for `wasi:http`'s `outgoing-request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    /// `host` or `host:port`, as written.
    pub authority: String,
    /// Starts with `/`; the fragment is dropped.
    pub path_with_query: String,
}

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadUrl {
    pub url: String,
    pub reason: &'static str,
}

impl fmt::Display for BadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URL {:?}: {}", self.url, self.reason)
    }
}

impl std::error::Error for BadUrl {}

impl Target {
    /// Splits `url`, which must be `http://` or `https://` followed by a host.
    pub fn parse(url: &str) -> Result<Self, BadUrl> {
        let bad = |reason| BadUrl {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = strip_prefix_ignore_case(url, "https://")
            .map(|rest| (Scheme::Https, rest))
            .or_else(|| strip_prefix_ignore_case(url, "http://").map(|rest| (Scheme::Http, rest)))
            .ok_or_else(|| bad("it must start with http:// or https://"))?;
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() {
            return Err(bad("it has no host"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        if authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("the host contains spaces or control characters"));
        }
        let path_with_query = match tail.chars().next() {
            None => "/".to_owned(),
            Some('?') => format!("/{tail}"),
            Some(_) => tail.to_owned(),
        };
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
            path_with_query,
        })
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `base` and `path` joined by exactly one `/`, whatever slashes either side has:
/// `join("http://h:1/v1/", "/models")` is `http://h:1/v1/models`.
pub fn join(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return base.to_owned();
    }
    format!("{base}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> (Scheme, String, String) {
        let t = Target::parse(url).expect("valid URL");
        (t.scheme, t.authority, t.path_with_query)
    }

    #[test]
    fn splits_scheme_authority_and_path() {
        assert_eq!(
            target("https://api.openai.com/v1/chat/completions"),
            (
                Scheme::Https,
                "api.openai.com".into(),
                "/v1/chat/completions".into()
            )
        );
        assert_eq!(
            target("http://127.0.0.1:11434"),
            (Scheme::Http, "127.0.0.1:11434".into(), "/".into())
        );
        assert_eq!(
            target("HTTP://[::1]:8080?x=1#frag"),
            (Scheme::Http, "[::1]:8080".into(), "/?x=1".into())
        );
        assert_eq!(
            target("https://h/v1/models?limit=10&after_id=a#top"),
            (
                Scheme::Https,
                "h".into(),
                "/v1/models?limit=10&after_id=a".into()
            )
        );
    }

    #[test]
    fn refuses_what_wasi_http_cannot_send() {
        for (url, reason) in [
            ("ftp://h/x", "it must start with http:// or https://"),
            (
                "api.openai.com/v1",
                "it must start with http:// or https://",
            ),
            ("https:///v1", "it has no host"),
            (
                "https://user:pw@h/v1",
                "credentials in the URL are not supported",
            ),
            (
                "https://h st/v1",
                "the host contains spaces or control characters",
            ),
        ] {
            let err = Target::parse(url).expect_err(url);
            assert_eq!(err.reason, reason, "{url}");
            assert!(err.to_string().contains(url), "{err}");
        }
    }

    #[test]
    fn join_uses_one_slash() {
        assert_eq!(join("http://h:1/v1", "models"), "http://h:1/v1/models");
        assert_eq!(join("http://h:1/v1/", "/models"), "http://h:1/v1/models");
        assert_eq!(join("http://h:1/v1//", "//models"), "http://h:1/v1/models");
        assert_eq!(
            join("https://api.anthropic.com", "/v1/messages"),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(join("http://h/", ""), "http://h");
    }
}
