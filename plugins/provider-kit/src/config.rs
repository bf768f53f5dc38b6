//! The settings every provider reads from its policy section (`config = { ... }`) or the
//! command line: `base-url` and `model`. The `host` calls are thin wrappers around pure
//! functions, which are what the tests exercise.

use crate::host;
use crate::url;

/// The config key of the API root, e.g. `http://127.0.0.1:11434/v1` for Ollama.
pub const BASE_URL: &str = "base-url";
/// The config key of the model used when a request names none.
pub const MODEL: &str = "model";

/// The configured `base-url`, or `default` when unset or blank; without trailing slashes.
pub fn base_url(default: &str) -> String {
    choose_base_url(host::get_config(BASE_URL), default)
}

/// `path` under the API root: [`base_url`] joined with `path` by one slash.
pub fn endpoint(default_base: &str, path: &str) -> String {
    url::join(&base_url(default_base), path)
}

/// The model for a request: the one it names, else the configured `model`, else `default`.
pub fn model(requested: Option<&str>, default: &str) -> String {
    choose(
        requested.map(str::to_owned),
        || host::get_config(MODEL),
        default,
    )
}

/// [`base_url`] without the host call.
pub fn choose_base_url(configured: Option<String>, default: &str) -> String {
    let chosen = choose(configured, || None, default);
    chosen.trim_end_matches('/').to_owned()
}

/// The first of `first`, `then()` that is not blank, trimmed; else `default`.
fn choose(first: Option<String>, then: impl FnOnce() -> Option<String>, default: &str) -> String {
    let usable =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    usable(first)
        .or_else(|| usable(then()))
        .unwrap_or_else(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_falls_back_to_the_default_and_drops_trailing_slashes() {
        let default = "https://api.openai.com/v1";
        assert_eq!(choose_base_url(None, default), default);
        assert_eq!(choose_base_url(Some("  ".into()), default), default);
        assert_eq!(
            choose_base_url(Some(" http://127.0.0.1:11434/v1/ ".into()), default),
            "http://127.0.0.1:11434/v1"
        );
        assert_eq!(
            url::join(
                &choose_base_url(Some("http://h/v1/".into()), default),
                "/chat/completions"
            ),
            "http://h/v1/chat/completions"
        );
    }

    #[test]
    fn the_requested_model_wins_over_config_and_default() {
        assert_eq!(choose(Some("a".into()), || Some("b".into()), "c"), "a");
        assert_eq!(choose(Some(" ".into()), || Some("b".into()), "c"), "b");
        assert_eq!(choose(None, || None, "c"), "c");
    }
}
