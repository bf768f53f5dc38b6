//! Which request headers may carry a credential. A plugin names the header its key travels
//! in; the host refuses names that would let the key (or the plugin) steer the request
//! itself: where it goes (`host`, `forwarded`), how it is framed (`content-length`,
//! `transfer-encoding`, hop-by-hop headers), or the user's sessions (`cookie`).

/// Headers a credential may never be put in. Pseudo-headers (`:authority`) are not header
/// names at all and fail the token check.
const REFUSED: &[&str] = &[
    "host",
    "cookie",
    "set-cookie",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "content-encoding",
    "expect",
    "forwarded",
    "via",
    "origin",
    "referer",
];

/// Checks `name` as a credential header; returns it lower-cased.
pub fn check_credential_header(name: &str) -> Result<String, String> {
    let lower = name.trim().to_ascii_lowercase();
    if lower.is_empty() {
        return Err("the header name is empty".into());
    }
    if http::header::HeaderName::from_bytes(lower.as_bytes()).is_err() {
        return Err(format!(
            "`{}` is not a valid HTTP header name",
            name.escape_debug()
        ));
    }
    if REFUSED.contains(&lower.as_str()) || lower.starts_with("x-forwarded-") {
        return Err(format!(
            "a credential may not travel in the `{lower}` header: it controls where or how \
             the request is sent, not who sends it (use e.g. authorization or x-api-key)"
        ));
    }
    Ok(lower)
}

/// Checks text that goes into a header value (a prefix, a secret): no line breaks or other
/// control characters, which would split or forge headers.
pub fn check_header_text(text: &str) -> Result<(), String> {
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err("it contains a line break or another control character".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_allowed() {
        for ok in ["Authorization", "x-api-key", "x-goog-api-key", "api-key"] {
            assert_eq!(
                check_credential_header(ok).as_deref(),
                Ok(ok.to_ascii_lowercase().as_str())
            );
        }
    }

    #[test]
    fn routing_framing_and_cookie_headers_are_refused() {
        for bad in [
            "host",
            "Host",
            "cookie",
            "transfer-encoding",
            "content-length",
            "connection",
            "x-forwarded-for",
            ":authority",
            "bad header",
            "x\r\nhost",
            "",
        ] {
            assert!(check_credential_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_text_has_no_line_breaks() {
        assert!(check_header_text("Bearer ").is_ok());
        assert!(check_header_text("sk-1\r\nx-evil: 1").is_err());
        assert!(check_header_text("a\u{0}").is_err());
    }
}
