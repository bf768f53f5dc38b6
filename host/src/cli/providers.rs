//! `wasmhost providers` and `wasmhost models`: which providers are installed, whether each
//! has a credential, and what models an API offers.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use wasmhost::plugin::{self, ModelInfo, ProviderInfo, World};
use wasmhost::policy::PluginPolicy;
use wasmhost::policy::credentials::{self, ProviderFlags, SecretSources};

use super::config::Environment;
use super::terminal;

#[derive(Debug, clap::Args)]
pub struct ProvidersArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    path: String,
    version: String,
    default_model: String,
    base_url: String,
    credential: String,
}

pub async fn list(env: &Environment, args: ProvidersArgs) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for source in plugin::installed() {
        let spec = source.path.display().to_string();
        let row = match super::config::load(env, &spec, None)
            .await
            .map(|p| (p.world, p))
        {
            Ok((World::Provider, plugin)) => {
                let name = plugin.name().to_string();
                let provider = plugin.into_provider()?;
                match provider.info().await {
                    Ok(info) => {
                        let policy = &provider.plugin().policy;
                        let (base_url, credential) =
                            grant_status(&name, policy, &info, &env.sources);
                        Row {
                            name,
                            path: spec,
                            version: info.version,
                            default_model: info.default_model,
                            base_url,
                            credential,
                        }
                    }
                    Err(e) => broken(name, spec, e.to_string()),
                }
            }
            Ok(_) => continue,
            Err(e) => broken(source.name, spec, format!("{e:#}")),
        };
        rows.push(row);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!(
            "no provider plugins found in {}",
            plugin::search_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        for r in &rows {
            let row = format!(
                "{:<12} {:<8} {:<24} {:<32} {}",
                r.name, r.version, r.default_model, r.base_url, r.credential
            );
            println!("{}", terminal::line(&row));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the provider may go and where its key comes from, as granted now: a preset's
/// documented URL and variable, the user's grants, or — for a plugin wasmhost has no preset
/// for — what it asks for and how to grant it.
pub fn grant_status(
    name: &str,
    policy: &PluginPolicy,
    info: &ProviderInfo,
    sources: &SecretSources,
) -> (String, String) {
    let preset = credentials::preset(name);
    let base_url = match (
        sources.lookup(&credentials::base_url_env(name)),
        &policy.base_url,
        preset,
    ) {
        (Some(url), _, _) => url,
        (None, Some(url), _) => url.clone(),
        (None, None, Some(p)) => p.base_url.to_string(),
        (None, None, None) if info.default_base_url.is_empty() => "-".to_string(),
        (None, None, None) => format!("asks for {} (not granted)", info.default_base_url),
    };
    let state = |var: &str| {
        if sources.has(var) {
            format!("set ({var})")
        } else {
            format!("missing: set {var}")
        }
    };
    let credential = match (&policy.secret_request, preset, &info.credential) {
        (Some(r), _, _) => format!("{} ([plugins.{name}.secret])", state(&r.env)),
        (None, Some(p), _) => match p.env_vars.iter().find(|v| sources.has(v)) {
            Some(var) => format!("set ({var})"),
            None => format!("missing: set {}", p.env_vars.join(" or ")),
        },
        (None, None, None) => "not needed".to_string(),
        (None, None, Some(c)) if !c.required => format!("optional, asks for {}", c.env_var),
        (None, None, Some(c)) => format!(
            "asks for {} (not granted: --api-key-env {} or [plugins.{name}.secret])",
            c.env_var, c.env_var
        ),
    };
    (base_url, credential)
}

fn broken(name: String, path: String, error: String) -> Row {
    Row {
        name,
        path,
        version: "-".into(),
        default_model: "-".into(),
        base_url: "-".into(),
        credential: format!("does not load: {error}"),
    }
}

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// The provider plugin.
    #[arg(long, value_name = "NAME|PATH")]
    plugin: String,
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The environment variable that holds the key (see `run --help`).
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// Ask the API even when a cached list is fresh.
    #[arg(long)]
    refresh: bool,
    #[arg(long)]
    json: bool,
}

/// How long a model list is reused.
const MODELS_TTL: Duration = Duration::from_secs(3600);

#[derive(Serialize, Deserialize)]
struct CachedModels {
    base_url: String,
    fetched_at_secs: u64,
    models: Vec<ModelInfo>,
}

pub async fn models(env: &Environment, args: ModelsArgs) -> Result<ExitCode> {
    let flags = ProviderFlags {
        base_url: args.base_url.as_deref(),
        key_env: args.api_key_env.as_deref(),
    };
    let provider = env
        .provider(&args.plugin, flags)
        .await
        .map_err(super::config::cli_error)?;
    let base_url = provider.base_url().to_string();
    let cache_file = directories::ProjectDirs::from("", "", "wasmhost").map(|d| {
        let key = blake3::hash(format!("{}\n{base_url}", args.plugin).as_bytes()).to_hex();
        d.cache_dir()
            .join("models")
            .join(format!("{}.json", &key[..24]))
    });
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cached = cache_file
        .as_ref()
        .filter(|_| !args.refresh)
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<CachedModels>(&b).ok())
        .filter(|c| {
            c.base_url == base_url && now.saturating_sub(c.fetched_at_secs) < MODELS_TTL.as_secs()
        });
    let models = match cached {
        Some(c) => c.models,
        None => {
            let models = provider
                .list_models()
                .await
                .with_context(|| format!("cannot list the models of {base_url}"))?;
            if let Some(path) = &cache_file {
                let entry = CachedModels {
                    base_url: base_url.clone(),
                    fetched_at_secs: now,
                    models: models.clone(),
                };
                if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(&entry)) {
                    let _ = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(path, bytes));
                }
            }
            models
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&models)?);
    } else {
        for m in &models {
            match m.context_window {
                Some(n) => println!("{}  ({n} tokens)", terminal::line(&m.id)),
                None => println!("{}", terminal::line(&m.id)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
