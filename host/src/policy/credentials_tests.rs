use std::collections::BTreeMap;

use super::*;
use crate::policy::SecretRequest;

const KEY: &str = "sk-test-0123456789";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `pairs` as the environment.
fn sources(pairs: &[(&str, &str)]) -> SecretSources {
    SecretSources {
        use_process_env: false,
        environment: Some(map(pairs)),
        dotenv: BTreeMap::new(),
    }
}

fn declared(url: &str, env_var: &str, header: &str) -> Declared {
    Declared {
        default_base_url: url.into(),
        credential: Some(CredentialNeed {
            header: header.into(),
            prefix: String::new(),
            env_var: env_var.into(),
            required: true,
        }),
    }
}

fn openai() -> Declared {
    declared(
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "authorization",
    )
}

#[test]
fn a_preset_gets_its_documented_variable_bound_to_its_origin() {
    let mut p = PluginPolicy::deny_all("openai");
    let granted = grant_provider(
        &mut p,
        ProviderFlags::default(),
        &openai(),
        &sources(&[("OPENAI_API_KEY", KEY)]),
    )
    .expect("granted");
    assert_eq!(
        granted.base_url.as_deref(),
        Some("https://api.openai.com/v1")
    );
    assert_eq!(
        granted.secret_source.as_deref(),
        Some("OPENAI_API_KEY (preset)")
    );
    let secret = p.secret.as_ref().expect("secret");
    assert_eq!(secret.header, "authorization");
    assert_eq!(secret.prefix, "Bearer ");
    assert!(secret.origin.matches("https", "api.openai.com", None));
    // Not the same host in plain text, nor another port.
    assert!(!secret.origin.matches("http", "api.openai.com", None));
    assert!(!secret.origin.matches("http", "api.openai.com", Some(443)));
    assert!(!secret.origin.matches("https", "api.openai.com", Some(8443)));
    // The destination is allowed over https only.
    assert!(p.check_outbound("https", "api.openai.com", None).is_ok());
    assert!(p.check_outbound("http", "api.openai.com", None).is_err());
    assert!(p.check_outbound("https", "evil.example", None).is_err());
    assert_eq!(p.config["base-url"], "https://api.openai.com/v1");
}

#[test]
fn a_preset_ignores_what_the_plugin_declares() {
    // A plugin called `openai` that asks for another variable and header gets the preset's.
    let mut p = PluginPolicy::deny_all("openai");
    grant_provider(
        &mut p,
        ProviderFlags::default(),
        &declared(
            "https://exfil.example/v1",
            "AWS_SECRET_ACCESS_KEY",
            "cookie",
        ),
        &sources(&[
            ("AWS_SECRET_ACCESS_KEY", "aws-canary-123456"),
            ("OPENAI_API_KEY", KEY),
        ]),
    )
    .expect("granted");
    let secret = p.secret.expect("secret");
    assert_eq!(secret.value.expose(), KEY);
    assert_eq!(secret.header, "authorization");
    assert!(secret.origin.matches("https", "api.openai.com", None));
}

#[test]
fn a_third_party_declaration_is_a_request_not_a_grant() {
    let mut p = PluginPolicy::deny_all("evil");
    let s = sources(&[("AWS_SECRET_ACCESS_KEY", "aws-canary-123456")]);
    let d = declared(
        "https://exfil.example/v1",
        "AWS_SECRET_ACCESS_KEY",
        "x-api-key",
    );
    let err = grant_provider(&mut p, ProviderFlags::default(), &d, &s).expect_err("no destination");
    let text = err.to_string();
    assert!(text.contains("https://exfil.example/v1"), "{text}");
    assert!(
        text.contains("--base-url") && text.contains("base_url = "),
        "{text}"
    );
    assert!(p.allowed_hosts.is_empty() && p.secret.is_none());

    // A destination granted, the variable still is not.
    let flags = ProviderFlags {
        base_url: Some("https://api.example.com/v1"),
        key_env: None,
    };
    let err = grant_provider(&mut p, flags, &d, &s).expect_err("no secret");
    let text = err.to_string();
    assert!(text.contains("AWS_SECRET_ACCESS_KEY"), "{text}");
    assert!(
        text.contains("--api-key-env") && text.contains("[plugins.evil.secret]"),
        "{text}"
    );
    assert!(p.secret.is_none());

    // Granted by the user: read, with the declared header, bound to the granted origin.
    let flags = ProviderFlags {
        base_url: Some("https://api.example.com/v1"),
        key_env: Some("AWS_SECRET_ACCESS_KEY"),
    };
    let granted = grant_provider(&mut p, flags, &d, &s).expect("granted");
    assert_eq!(
        granted.secret_source.as_deref(),
        Some("AWS_SECRET_ACCESS_KEY (--api-key-env)")
    );
    let secret = p.secret.expect("secret");
    assert_eq!(secret.header, "x-api-key");
    assert!(secret.origin.matches("https", "api.example.com", None));
}

#[test]
fn the_policy_section_grants_and_names_its_own_origin() {
    let mut p = PluginPolicy::deny_all("mistral");
    p.base_url = Some("https://api.mistral.ai/v1".into());
    p.secret_request = Some(SecretRequest {
        env: "MISTRAL_API_KEY".into(),
        header: None,
        prefix: Some("Bearer ".into()),
        origin: None,
    });
    grant_provider(
        &mut p,
        ProviderFlags::default(),
        &declared("https://ignored.example", "IGNORED", "authorization"),
        &sources(&[("MISTRAL_API_KEY", KEY)]),
    )
    .expect("granted");
    let secret = p.secret.expect("secret");
    assert_eq!(secret.header, "authorization");
    assert!(secret.origin.matches("https", "api.mistral.ai", None));
    assert!(secret.source.contains("[plugins.mistral.secret]"));
}

#[test]
fn a_declared_header_that_steers_the_request_is_refused() {
    for header in ["host", "cookie", "transfer-encoding", "x\r\nhost"] {
        let mut p = PluginPolicy::deny_all("evil");
        let flags = ProviderFlags {
            base_url: Some("https://api.example.com"),
            key_env: Some("K"),
        };
        let err = grant_provider(
            &mut p,
            flags,
            &declared("https://api.example.com", "K", header),
            &sources(&[("K", KEY)]),
        )
        .expect_err(header);
        assert!(
            matches!(err, CredentialError::Refused { .. }),
            "{header}: {err}"
        );
        assert!(p.secret.is_none());
    }
}

#[test]
fn short_or_multi_line_secrets_are_refused() {
    for bad in ["short", "sk-0123456789\r\nx-evil: 1"] {
        let mut p = PluginPolicy::deny_all("openai");
        let err = grant_provider(
            &mut p,
            ProviderFlags::default(),
            &openai(),
            &sources(&[("OPENAI_API_KEY", bad)]),
        )
        .expect_err(bad);
        assert!(matches!(err, CredentialError::Refused { .. }), "{err}");
    }
}

#[test]
fn missing_key_is_an_actionable_error_unless_local() {
    let mut p = PluginPolicy::deny_all("openai");
    let err = grant_provider(&mut p, ProviderFlags::default(), &openai(), &sources(&[]))
        .expect_err("missing");
    let text = err.to_string();
    assert!(
        text.contains("no credential for openai: OPENAI_API_KEY is not set"),
        "{text}"
    );
    let mut p = PluginPolicy::deny_all("openai");
    let flags = ProviderFlags {
        base_url: Some("http://127.0.0.1:11434/v1"),
        key_env: None,
    };
    grant_provider(&mut p, flags, &openai(), &sources(&[])).expect("local needs no key");
    assert!(p.secret.is_none());
    assert!(p.check_outbound("http", "127.0.0.1", Some(11434)).is_ok());
    // A variable the user named must be there.
    let mut p = PluginPolicy::deny_all("openai");
    let flags = ProviderFlags {
        base_url: Some("http://127.0.0.1:11434/v1"),
        key_env: Some("MY_KEY"),
    };
    let err = grant_provider(&mut p, flags, &openai(), &sources(&[])).expect_err("named");
    assert!(err.to_string().contains("MY_KEY (--api-key-env)"), "{err}");
}

#[test]
fn precedence_flag_env_policy_preset() {
    let run = |flag: Option<&str>, env: &[(&str, &str)], policy: Option<&str>| {
        let mut p = PluginPolicy::deny_all("openai");
        p.base_url = policy.map(str::to_string);
        let flags = ProviderFlags {
            base_url: flag,
            key_env: Some("OPENAI_API_KEY"),
        };
        let mut pairs = env.to_vec();
        pairs.push(("OPENAI_API_KEY", KEY));
        grant_provider(&mut p, flags, &openai(), &sources(&pairs))
            .expect("granted")
            .base_url
            .expect("url")
    };
    assert_eq!(run(None, &[], None), "https://api.openai.com/v1");
    assert_eq!(
        run(None, &[], Some("https://p.example/v1")),
        "https://p.example/v1"
    );
    let env = [("OPENAI_BASE_URL", "https://e.example/v1/")];
    assert_eq!(
        run(None, &env, Some("https://p.example/v1")),
        "https://e.example/v1"
    );
    assert_eq!(
        run(Some("https://f.example"), &env, None),
        "https://f.example"
    );
}

#[test]
fn a_provider_without_an_api_gets_no_network() {
    let mut p = PluginPolicy::deny_all("replay");
    let granted = grant_provider(
        &mut p,
        ProviderFlags::default(),
        &Declared::default(),
        &sources(&[]),
    )
    .expect("granted");
    assert_eq!(granted, Granted::default());
    assert!(p.allowed_hosts.is_empty());
}

#[test]
fn a_tool_secret_needs_its_header_and_origin() {
    let mut p = PluginPolicy::deny_all("tool");
    p.secret_request = Some(SecretRequest {
        env: "TOOL_KEY".into(),
        header: None,
        prefix: None,
        origin: None,
    });
    let err = grant_tool(&mut p, &sources(&[("TOOL_KEY", KEY)])).expect_err("incomplete");
    assert!(
        err.to_string().contains("needs `header` and `host`"),
        "{err}"
    );
    p.secret_request = Some(SecretRequest {
        env: "TOOL_KEY".into(),
        header: Some("x-api-key".into()),
        prefix: None,
        origin: Some(Origin::of_entry("http://127.0.0.1:8080").expect("origin")),
    });
    grant_tool(&mut p, &sources(&[("TOOL_KEY", KEY)])).expect("granted");
    let secret = p.secret.expect("secret");
    assert!(secret.origin.matches("http", "127.0.0.1", Some(8080)));
}

#[test]
fn a_preset_key_goes_to_its_own_api_only() {
    // Pointed at another vendor's compatible API, OPENAI_API_KEY is not sent there...
    let mut p = PluginPolicy::deny_all("openai");
    let flags = ProviderFlags {
        base_url: Some("https://api.groq.example/openai/v1"),
        key_env: None,
    };
    let s = sources(&[("OPENAI_API_KEY", KEY)]);
    let err = grant_provider(&mut p, flags, &openai(), &s).expect_err("foreign");
    let text = err.to_string();
    assert!(
        text.contains("OPENAI_API_KEY is the key for https://api.openai.com/v1"),
        "{text}"
    );
    assert!(text.contains("--api-key-env VAR"), "{text}");
    assert!(p.secret.is_none());
    // ... nor to a local server, which needs none ...
    let mut p = PluginPolicy::deny_all("openai");
    let flags = ProviderFlags {
        base_url: Some("http://127.0.0.1:11434/v1"),
        key_env: None,
    };
    grant_provider(&mut p, flags, &openai(), &s).expect("local");
    assert!(p.secret.is_none());
    // ... unless the user names it for that destination.
    let flags = ProviderFlags {
        base_url: Some("http://127.0.0.1:11434/v1"),
        key_env: Some("OPENAI_API_KEY"),
    };
    grant_provider(&mut p, flags, &openai(), &s).expect("named");
    assert!(p.secret.is_some());
}

#[test]
fn a_dotenv_file_holds_keys_but_never_chooses_where_they_go() {
    // A cloned repository's .env pointing the preset elsewhere is ignored.
    let s = SecretSources {
        use_process_env: false,
        environment: Some(BTreeMap::new()),
        dotenv: map(&[
            ("OPENAI_BASE_URL", "https://evil.example/v1"),
            ("OPENAI_API_KEY", KEY),
        ]),
    };
    let mut p = PluginPolicy::deny_all("openai");
    let granted = grant_provider(&mut p, ProviderFlags::default(), &openai(), &s).expect("granted");
    assert_eq!(
        granted.base_url.as_deref(),
        Some("https://api.openai.com/v1")
    );
    assert!(
        p.secret
            .expect("the key from .env")
            .origin
            .matches("https", "api.openai.com", None)
    );
}

#[test]
fn a_secret_never_travels_in_plain_text_to_another_machine() {
    let mut p = PluginPolicy::deny_all("openai");
    let flags = ProviderFlags {
        base_url: Some("http://10.0.0.5:4000/v1"),
        key_env: Some("OPENAI_API_KEY"),
    };
    let err = grant_provider(
        &mut p,
        flags,
        &openai(),
        &sources(&[("OPENAI_API_KEY", KEY)]),
    )
    .expect_err("plain http");
    assert!(
        err.to_string().contains("plain http and not this machine"),
        "{err}"
    );
}
