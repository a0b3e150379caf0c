//! `c360 share`: Delta Sharing recipients (crate `c360-sharing`). Shares are configured in
//! `[server.sharing]` of c360.toml and served by `c360 serve`; this command manages who may read
//! them: `recipient add|revoke|list` and `profile` (a new token in a profile file).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use c360_sharing::RecipientStore;
use chrono::Utc;

use crate::cli::{ProfileOutput, RecipientCommand, ShareCommand};
use crate::settings::Settings;

pub fn run(
    settings: &Settings,
    command: ShareCommand,
    config_path: &Path,
) -> anyhow::Result<ExitCode> {
    let lake = settings.lake()?;
    let store = RecipientStore::new(&lake.meta_dir());
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    match command {
        ShareCommand::Recipient(RecipientCommand::Add {
            name,
            expires_in_days,
            profile,
        }) => {
            let expires = expires_in_days.map(|d| now + chrono::Duration::days(i64::from(d)));
            let token = store.add(&name, expires, now)?;
            let path = write_profile(settings, config_path, &name, &token, expires, &profile)?;
            writeln!(
                out,
                "recipient '{name}' added{}; profile written to {} (it holds the token: send it \
                 securely; only the token's SHA-256 is kept, in {})",
                expires.map_or(String::new(), |e| format!(
                    ", expires {}",
                    e.format("%Y-%m-%d %H:%M UTC")
                )),
                path.display(),
                store.path().display()
            )?;
            warn_if_unshared(settings, config_path, &name)?;
        }
        ShareCommand::Recipient(RecipientCommand::Revoke { name }) => {
            store.revoke(&name, now)?;
            writeln!(out, "recipient '{name}' revoked: its token no longer works")?;
        }
        ShareCommand::Recipient(RecipientCommand::List) => {
            writeln!(
                out,
                "{:<24} {:<8} {:<20} {:<20} {:<20}",
                "recipient", "state", "created", "token issued", "expires"
            )?;
            for r in store.list()? {
                let state = if r.revoked_at.is_some() {
                    "revoked"
                } else if r.active(now) {
                    "active"
                } else {
                    "expired"
                };
                let t = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%d %H:%M").to_string();
                writeln!(
                    out,
                    "{:<24} {:<8} {:<20} {:<20} {:<20}",
                    r.name,
                    state,
                    t(r.created_at),
                    t(r.token_issued_at),
                    r.expires_at.map_or("never".to_string(), t)
                )?;
            }
        }
        ShareCommand::Profile(args) => {
            let token = store.rotate(&args.recipient, now)?;
            let expires = store.get(&args.recipient)?.and_then(|r| r.expires_at);
            let path = write_profile(
                settings,
                config_path,
                &args.recipient,
                &token,
                expires,
                &args.profile,
            )?;
            writeln!(
                out,
                "new token for '{}' written to {} (the previous token no longer works)",
                args.recipient,
                path.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the profile file (owner-only) and returns its path.
fn write_profile(
    settings: &Settings,
    config_path: &Path,
    recipient: &str,
    token: &str,
    expires: Option<chrono::DateTime<Utc>>,
    profile: &ProfileOutput,
) -> anyhow::Result<PathBuf> {
    let endpoint = match &profile.endpoint {
        Some(e) => e.trim_end_matches('/').to_string(),
        None => {
            let config = super::serve::server_config(config_path, &settings.project_dir)?;
            match &config.sharing.public_url {
                Some(url) => format!("{}/delta-sharing", url.trim_end_matches('/')),
                None => format!("http://{}/delta-sharing", config.bind),
            }
        }
    };
    let path = profile
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{recipient}.share")));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(c360_sharing::profile_json(&endpoint, token, expires).as_bytes())?;
    Ok(path)
}

fn warn_if_unshared(settings: &Settings, config_path: &Path, name: &str) -> anyhow::Result<()> {
    let config = super::serve::server_config(config_path, &settings.project_dir)?;
    if config.sharing.shares_for(name).next().is_none() {
        eprintln!("note: no share in [server.sharing] lists '{name}' yet (see docs/sharing.md)");
    }
    Ok(())
}
