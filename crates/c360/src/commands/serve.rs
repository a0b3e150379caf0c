//! `c360 serve`: the dashboard and JSON API (crate `c360-server`), configured by `[server]` of
//! c360.toml; `--hash-password` and `--new-token` make the secrets that table stores.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use c360_models::ProjectFile;
use c360_server::ServerConfig;
use tokio::runtime::Runtime;

use crate::cli::ServeArgs;
use crate::settings::Settings;

pub fn run(
    settings: &Settings,
    runtime: &Runtime,
    args: ServeArgs,
    config_path: &Path,
) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        bind,
        hash_password,
        new_token,
    } = args;
    if hash_password {
        eprint!("password (read from standard input): ");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!password.is_empty(), "the password is empty");
        writeln!(
            std::io::stdout(),
            "{}",
            c360_server::hash_password(password)?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if new_token {
        let (token, digest) = c360_server::new_token();
        writeln!(
            std::io::stdout(),
            "token:  {token}\nsha256: {digest}\n\nGive the token to its user; put only the sha256 in c360.toml:\n\n[[server.tokens]]\nname = \"...\"\nrole = \"analyst\"\nsha256 = \"{digest}\""
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = server_config(config_path, &settings.project_dir)?;
    if let Some(bind) = bind {
        config.bind = bind;
    }
    let lake = settings.lake()?;
    runtime.block_on(c360_server::serve(
        config,
        lake,
        settings.project_dir.clone(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `[server]` of the project file (defaults when the file or the table is absent).
pub(crate) fn server_config(path: &Path, project_dir: &Path) -> anyhow::Result<ServerConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ServerConfig::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let parsed = ProjectFile::parse(project_dir, &text)
        .with_context(|| format!("parsing {}", path.display()))?;
    match parsed.server {
        Some(table) => {
            ServerConfig::from_toml(table).with_context(|| format!("in {}", path.display()))
        }
        None => Ok(ServerConfig::default()),
    }
}
