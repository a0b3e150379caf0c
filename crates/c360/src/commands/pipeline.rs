//! `c360 pipeline run|retry|status|history|resume` and `c360 schedule`: the pipelines of
//! `[pipeline]` in c360.toml, run by `c360-pipeline` with this executable as every c360 task.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use c360_models::ProjectFile;
use c360_pipeline::{
    process_is_alive, Action, EventRecord, Executor, History, Launcher, Pipeline, PipelineSet,
    RunOutcome, RunRecord, RunStatus, RunSummary, Scheduler, SystemClock, TaskRunRecord, Trigger,
    WriterLock,
};
use clap::Parser;
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::cli::{Cli, OutputFormat, PipelineArgs, PipelineCommand, ScheduleArgs};
use crate::settings::Settings;

pub fn run(
    settings: &Settings,
    runtime: &Runtime,
    args: PipelineArgs,
    lock: Option<&WriterLock>,
) -> anyhow::Result<ExitCode> {
    let set = load(settings)?;
    let lock = || lock.context("internal: a writing pipeline command runs without the writer lock");
    match args.command {
        PipelineCommand::Run { name, force } => {
            let pipeline = set.get(name.as_deref())?;
            check_commands(pipeline)?;
            let executor = executor(settings, runtime)?;
            let outcome =
                runtime.block_on(executor.run(pipeline, Trigger::Manual, force, lock()?))?;
            match outcome {
                RunOutcome::NoNewData { since_run } => {
                    println!(
                        "{}: no new bronze data since run {since_run}; nothing to do (--force runs anyway)",
                        pipeline.name
                    );
                    Ok(ExitCode::SUCCESS)
                }
                RunOutcome::Ran(summary) => Ok(print_summary(&summary)),
            }
        }
        PipelineCommand::Retry { name } => {
            let pipeline = set.get(name.as_deref())?;
            check_commands(pipeline)?;
            let executor = executor(settings, runtime)?;
            let summary = runtime.block_on(executor.retry(pipeline, lock()?))?;
            Ok(print_summary(&summary))
        }
        PipelineCommand::Resume { name } => {
            let pipeline = set.get(Some(&name))?;
            let history = History::new(settings.lake()?);
            runtime.block_on(history.record_event(&EventRecord {
                pipeline: pipeline.name.clone(),
                event: "resumed".to_string(),
                at: chrono::Utc::now(),
                detail: "c360 pipeline resume".to_string(),
            }))?;
            println!("{name}: resumed; `c360 schedule` fires it again");
            Ok(ExitCode::SUCCESS)
        }
        PipelineCommand::Status => status(settings, runtime, &set),
        PipelineCommand::History {
            name,
            limit,
            format,
        } => history(settings, runtime, name.as_deref(), limit, format),
    }
}

pub fn schedule(
    settings: &Settings,
    runtime: &Runtime,
    args: ScheduleArgs,
) -> anyhow::Result<ExitCode> {
    let ScheduleArgs { names } = args;
    let set = load(settings)?;
    for name in &names {
        set.get(Some(name))?;
    }
    let pipelines: Vec<Pipeline> = set
        .pipelines
        .values()
        .filter(|p| p.schedule.is_some() && (names.is_empty() || names.contains(&p.name)))
        .cloned()
        .collect();
    anyhow::ensure!(
        !pipelines.is_empty(),
        "no pipeline to schedule: give one a `schedule = \"<cron>\"` in [pipeline.<name>] of {}",
        settings.config.display()
    );
    for p in &pipelines {
        check_commands(p)?;
    }
    let scheduler = Scheduler {
        executor: executor(settings, runtime)?,
        pipelines,
        lake_root: settings.lake.clone(),
        // A scheduled run queues behind other writers for at least an hour.
        lock_wait: settings.lock_timeout.max(Duration::from_secs(3600)),
    };
    let report = |line: String| {
        println!("{} {line}", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
    };
    runtime.block_on(scheduler.run(&report))?;
    println!("c360 schedule stopped");
    Ok(ExitCode::SUCCESS)
}

/// `[pipeline]` of the project file (no pipelines when the file or the table is absent).
fn load(settings: &Settings) -> anyhow::Result<PipelineSet> {
    let path = &settings.config;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PipelineSet::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let parsed = ProjectFile::parse(&settings.project_dir, &text)
        .with_context(|| format!("parsing {}", path.display()))?;
    PipelineSet::from_toml(parsed.pipeline.as_ref())
        .with_context(|| format!("in {}", path.display()))
}

/// Every c360 task's command line must parse as a c360 command, before anything runs.
fn check_commands(pipeline: &Pipeline) -> anyhow::Result<()> {
    for task in pipeline.tasks.values() {
        if let Action::C360(words) = &task.action {
            let argv = std::iter::once("c360").chain(words.iter().map(String::as_str));
            if let Err(e) = Cli::try_parse_from(argv) {
                let first = e.to_string();
                let first = first
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                anyhow::bail!(
                    "[pipeline.{}.tasks.{}] c360 = \"{}\": {first}",
                    pipeline.name,
                    task.name,
                    words.join(" ")
                );
            }
        }
    }
    Ok(())
}

/// Tasks run this executable with the same lake and project file; a stop channel is fed by
/// SIGTERM and Ctrl-C (a second one exits at once).
fn executor(settings: &Settings, runtime: &Runtime) -> anyhow::Result<Executor> {
    let lake = std::path::absolute(&settings.lake)?;
    let config = std::path::absolute(&settings.config)?;
    let launcher = Launcher {
        c360: std::env::current_exe().context("finding the c360 executable")?,
        global_args: vec![
            OsString::from("--lake"),
            lake.clone().into(),
            OsString::from("--config"),
            config.clone().into(),
            OsString::from("--memory-limit"),
            settings.memory_limit.to_string().into(),
        ],
        env: vec![
            (OsString::from("C360_LAKE"), lake.clone().into()),
            (OsString::from("C360_CONFIG"), config.into()),
        ],
        working_dir: std::env::current_dir()?,
        echo: settings.show_progress,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    runtime.spawn(async move {
        let mut signals = 0;
        loop {
            wait_for_signal().await;
            signals += 1;
            if signals > 1 {
                eprintln!("c360: second signal; exiting now");
                std::process::exit(130);
            }
            eprintln!("c360: stopping after the running task(s); signal again to exit now");
            let _ = stop_tx.send(true);
        }
    });
    Ok(Executor {
        lake: settings.lake()?,
        launcher,
        clock: Arc::new(SystemClock),
        stop: stop_rx,
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn secs(d: Option<f64>) -> String {
    d.map_or(String::new(), |s| format!("{s:.1}s"))
}

fn print_summary(summary: &RunSummary) -> ExitCode {
    let run = &summary.run;
    for t in &summary.tasks {
        println!("{}", task_line(t));
    }
    println!(
        "{} {} {} in {} ({}){}",
        run.pipeline,
        run.run_id,
        run.status,
        secs(run.duration_s),
        run.message.as_deref().unwrap_or(""),
        run.finalizer
            .as_ref()
            .map_or(String::new(), |f| format!("; finalizer: {f}"))
    );
    if run.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn task_line(t: &TaskRunRecord) -> String {
    format!(
        "  {:<10} {:<24} {:>8} {:>12} {:>3}x  {}",
        t.status.as_str().to_uppercase(),
        t.task,
        secs(t.duration_s),
        t.rows.map_or(String::new(), |r| format!("{r} rows")),
        t.attempts,
        t.error.as_deref().unwrap_or("")
    )
}

/// `running` with its process gone: the run was killed.
fn shown_status(run: &RunRecord) -> &'static str {
    if run.status == RunStatus::Running && !process_is_alive(run.pid) {
        "interrupted"
    } else {
        run.status.as_str()
    }
}

fn status(settings: &Settings, runtime: &Runtime, set: &PipelineSet) -> anyhow::Result<ExitCode> {
    if set.pipelines.is_empty() {
        println!("no pipelines in {}", settings.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    let history = History::new(settings.lake()?);
    let runs = runtime.block_on(history.runs(None))?;
    let now = chrono::Utc::now();
    for p in set.pipelines.values() {
        let mine: Vec<&RunRecord> = runs.iter().filter(|r| r.pipeline == p.name).collect();
        let suspended = runtime.block_on(history.is_suspended(&p.name))?;
        let failures = c360_pipeline::daemon::consecutive_failures(mine.iter().map(|r| r.status));
        let default = if set.default.as_deref() == Some(p.name.as_str()) {
            " (default)"
        } else {
            ""
        };
        println!("{}{default}", p.name);
        println!("  tasks      {}", p.graph().topological_order().join(" → "));
        match &p.schedule {
            Some(s) => println!(
                "  schedule   {} ({}), next {}{}",
                s.pattern(),
                s.timezone(),
                s.next_after(now)
                    .map_or("never".to_string(), |t| t.to_rfc3339()),
                if p.when_new_data {
                    ", when bronze has new data"
                } else {
                    ""
                }
            ),
            None => println!("  schedule   none (run by hand)"),
        }
        match mine.last() {
            Some(r) => println!(
                "  last run   {} {} at {} in {}",
                r.run_id,
                shown_status(r),
                r.started_at.to_rfc3339(),
                secs(r.duration_s)
            ),
            None => println!("  last run   never"),
        }
        println!(
            "  state      {}{}",
            if suspended { "SUSPENDED" } else { "active" },
            if failures > 0 {
                format!(
                    ", {failures} consecutive failed run(s) (suspends at {})",
                    p.suspend_after_failures
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn history(
    settings: &Settings,
    runtime: &Runtime,
    name: Option<&str>,
    limit: usize,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let history = History::new(settings.lake()?);
    let runs = runtime.block_on(history.runs(name))?;
    let tasks = runtime.block_on(history.task_runs(None))?;
    let latest: Vec<&RunRecord> = runs.iter().rev().take(limit).collect();
    let tasks_of = |run: &RunRecord| -> Vec<&TaskRunRecord> {
        tasks.iter().filter(|t| t.run_id == run.run_id).collect()
    };
    match format {
        OutputFormat::Json => {
            let out: Vec<serde_json::Value> = latest
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    v["status"] = shown_status(r).into();
                    v["tasks"] = serde_json::to_value(tasks_of(r)).unwrap_or_default();
                    v
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        OutputFormat::Table => {
            if latest.is_empty() {
                println!("no pipeline runs yet");
            }
            for r in latest {
                println!(
                    "{} {:<11} {} {:<8} {:>8}  {}{}",
                    r.started_at.format("%Y-%m-%d %H:%M:%S"),
                    shown_status(r),
                    r.run_id,
                    r.trigger,
                    secs(r.duration_s),
                    r.message.as_deref().unwrap_or(""),
                    r.finalizer
                        .as_ref()
                        .map_or(String::new(), |f| format!("; finalizer: {f}"))
                );
                for t in tasks_of(r) {
                    println!("{}", task_line(t));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
