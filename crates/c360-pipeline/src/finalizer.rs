//! The finalizer: after every run, whatever its outcome, the run summary (JSON) is POSTed to
//! a webhook and/or handed to a command — the alerting the seed only described in a comment.
//! A failing finalizer never changes the run's status; its outcome is stored with the run.

use std::time::Duration;

use crate::config::Finalizer;
use crate::process::Launcher;

/// Environment variable holding the summary for the finalizer command.
pub const SUMMARY_ENV: &str = "C360_PIPELINE_SUMMARY";

/// Runs the finalizer with `summary` (JSON). Returns `ok`, or what failed.
pub async fn finalize(finalizer: &Finalizer, launcher: &Launcher, summary: &str) -> String {
    let mut problems = Vec::new();
    if let Some(url) = &finalizer.webhook {
        if let Err(e) = post(url, summary, finalizer.timeout).await {
            problems.push(format!("webhook: {e}"));
        }
    }
    if let Some(command) = &finalizer.command {
        let env = [(SUMMARY_ENV.to_string(), summary.to_string())];
        if let Err(e) = launcher
            .run_shell_with_input(command, summary, &env, finalizer.timeout)
            .await
        {
            problems.push(format!("command: {e}"));
        }
    }
    if problems.is_empty() {
        "ok".to_string()
    } else {
        problems.join("; ")
    }
}

async fn post(url: &str, body: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("c360/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {status}"))
    }
}
