//! `[pipeline]` of c360.toml, parsed strictly: every pipeline, its tasks, schedule and
//! finalizer. An unknown key, a bad duration, cron pattern or time zone, an `after` naming no
//! task, or a dependency cycle is an error naming the key (`pipeline.daily.tasks.build`).
//!
//! ```toml
//! [pipeline]
//! default = "customer360"                 # what `c360 pipeline run` runs without a name
//!
//! [pipeline.customer360]
//! schedule = "0 2 * * *"                  # cron (5 fields, or 6 with seconds)
//! timezone = "America/New_York"           # IANA name; default UTC
//! suspend_after_failures = 3              # `c360 schedule` suspends it after 3 failed runs
//! max_parallel = 2                        # tasks running at once
//!
//! [pipeline.customer360.tasks.generate]
//! c360 = "generate --customers 50000"     # a c360 command line (or an array of words)
//!
//! [pipeline.customer360.tasks.build]
//! after = ["generate"]
//! c360 = ["build"]
//! timeout = "30m"
//! retries = 2                             # attempts after the first
//! retry_delay = "10s"                     # doubled after every failed attempt
//!
//! [pipeline.customer360.finalizer]        # always runs, with the run summary as JSON
//! webhook = "https://hooks.example.com/c360"
//! command = "logger -t c360"
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{PipelineError, Result};
use crate::graph::TaskGraph;
use crate::schedule::CronSchedule;

/// Every pipeline of a project.
#[derive(Debug, Clone, Default)]
pub struct PipelineSet {
    /// The pipeline `c360 pipeline run` runs when given no name.
    pub default: Option<String>,
    /// Pipelines by name.
    pub pipelines: BTreeMap<String, Pipeline>,
}

/// One pipeline: a task graph, how it is triggered, and what runs after it.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    /// When `c360 schedule` fires it; `None`: only run by hand.
    pub schedule: Option<CronSchedule>,
    /// Run only when a bronze table changed since the start of the last successful run.
    pub when_new_data: bool,
    /// `c360 schedule` suspends the pipeline after this many consecutive failed runs.
    pub suspend_after_failures: u32,
    /// At most this many tasks at once.
    pub max_parallel: usize,
    /// Tasks by name.
    pub tasks: BTreeMap<String, Task>,
    /// Runs after every run, whatever its outcome.
    pub finalizer: Option<Finalizer>,
}

/// One task of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    /// Tasks that must succeed before this one starts.
    pub after: Vec<String>,
    pub action: Action,
    /// An attempt still running after this long is killed and counts as failed.
    pub timeout: Duration,
    /// Attempts after the first failed one.
    pub retries: u32,
    /// Wait before the first retry; doubled for each later one.
    pub retry_delay: Duration,
}

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A c360 command line (without the executable and the global `--lake/--config` flags).
    C360(Vec<String>),
    /// A shell command, run with `sh -c`.
    Shell(String),
}

impl Action {
    /// A one-line description: `c360 build --select x` or `sh: ...`.
    pub fn describe(&self) -> String {
        match self {
            Action::C360(args) => format!("c360 {}", args.join(" ")),
            Action::Shell(cmd) => format!("sh -c {cmd:?}"),
        }
    }
}

/// What is told about every finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finalizer {
    /// POSTed the run summary as JSON (`http://` or `https://`).
    pub webhook: Option<String>,
    /// Run with `sh -c`, the summary on standard input and in `C360_PIPELINE_SUMMARY`.
    pub command: Option<String>,
    /// Each of the two is given at most this long.
    pub timeout: Duration,
}

/// Default per-attempt timeout (Snowflake's default `USER_TASK_TIMEOUT_MS` is one hour too).
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(3600);
const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(10);
const DEFAULT_FINALIZER_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_SUSPEND_AFTER: u32 = 3;
const DEFAULT_MAX_PARALLEL: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineToml {
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    when_new_data: bool,
    #[serde(default)]
    suspend_after_failures: Option<u32>,
    #[serde(default)]
    max_parallel: Option<usize>,
    #[serde(default)]
    tasks: BTreeMap<String, toml::Value>,
    #[serde(default)]
    finalizer: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskToml {
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    c360: Option<Words>,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    retry_delay: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Words {
    Line(String),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinalizerToml {
    #[serde(default)]
    webhook: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

impl PipelineSet {
    /// Parses the `[pipeline]` table (as kept raw by the project file); `None`: no pipelines.
    pub fn from_toml(table: Option<&toml::Table>) -> Result<PipelineSet> {
        let mut set = PipelineSet::default();
        let Some(table) = table else {
            return Ok(set);
        };
        for (key, value) in table {
            if key == "default" {
                let name = value.as_str().ok_or_else(|| {
                    PipelineError::config("pipeline.default", "expected a pipeline name (a string)")
                })?;
                set.default = Some(name.to_string());
                continue;
            }
            let at = format!("pipeline.{key}");
            if !value.is_table() {
                return Err(PipelineError::config(
                    at,
                    "expected a table [pipeline.<name>] (or `default = \"<name>\"`)",
                ));
            }
            check_name(&at, key)?;
            set.pipelines
                .insert(key.clone(), Pipeline::from_toml(key, value.clone())?);
        }
        if let Some(default) = &set.default {
            if !set.pipelines.contains_key(default) {
                return Err(PipelineError::config(
                    "pipeline.default",
                    format!("'{default}' is not a pipeline defined here"),
                ));
            }
        }
        Ok(set)
    }

    /// The pipeline called `name`, or the default one (the `default` key, else the only one).
    pub fn get(&self, name: Option<&str>) -> Result<&Pipeline> {
        let name = match (name, &self.default) {
            (Some(name), _) => name.to_string(),
            (None, Some(default)) => default.clone(),
            (None, None) if self.pipelines.len() == 1 => {
                self.pipelines.keys().next().unwrap().clone()
            }
            (None, None) => String::new(),
        };
        self.pipelines
            .get(&name)
            .ok_or_else(|| PipelineError::UnknownPipeline {
                name,
                known: self.pipelines.keys().cloned().collect(),
            })
    }
}

impl Pipeline {
    fn from_toml(name: &str, value: toml::Value) -> Result<Pipeline> {
        let at = format!("pipeline.{name}");
        let raw: PipelineToml = value
            .try_into()
            .map_err(|e: toml::de::Error| PipelineError::config(&at, e.message()))?;
        let schedule = match (raw.schedule, raw.timezone) {
            (Some(cron), tz) => Some(
                CronSchedule::parse(&cron, tz.as_deref().unwrap_or("UTC"))
                    .map_err(|message| PipelineError::config(format!("{at}.schedule"), message))?,
            ),
            (None, Some(_)) => {
                return Err(PipelineError::config(
                    format!("{at}.timezone"),
                    "a time zone needs a `schedule`",
                ))
            }
            (None, None) => None,
        };
        if raw.tasks.is_empty() {
            return Err(PipelineError::config(
                &at,
                "a pipeline needs at least one task ([pipeline.<name>.tasks.<task>])",
            ));
        }
        let mut tasks = BTreeMap::new();
        for (task_name, value) in raw.tasks {
            let task_at = format!("{at}.tasks.{task_name}");
            check_name(&task_at, &task_name)?;
            tasks.insert(
                task_name.clone(),
                Task::from_toml(&task_at, &task_name, value)?,
            );
        }
        for task in tasks.values() {
            for dep in &task.after {
                if !tasks.contains_key(dep) {
                    let known: Vec<&str> = tasks.keys().map(String::as_str).collect();
                    return Err(PipelineError::config(
                        format!("{at}.tasks.{}.after", task.name),
                        format!(
                            "no task named '{dep}' in this pipeline (tasks: {})",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        if let Some(cycle) = TaskGraph::new(&tasks).find_cycle() {
            return Err(PipelineError::config(
                format!("{at}.tasks"),
                format!(
                    "the `after` dependencies form a cycle: {}",
                    cycle.join(" -> ")
                ),
            ));
        }
        let max_parallel = raw.max_parallel.unwrap_or(DEFAULT_MAX_PARALLEL);
        if max_parallel == 0 {
            return Err(PipelineError::config(
                format!("{at}.max_parallel"),
                "must be at least 1",
            ));
        }
        let suspend_after_failures = raw.suspend_after_failures.unwrap_or(DEFAULT_SUSPEND_AFTER);
        if suspend_after_failures == 0 {
            return Err(PipelineError::config(
                format!("{at}.suspend_after_failures"),
                "must be at least 1",
            ));
        }
        let finalizer = raw
            .finalizer
            .map(|v| Finalizer::from_toml(&format!("{at}.finalizer"), v))
            .transpose()?;
        Ok(Pipeline {
            name: name.to_string(),
            schedule,
            when_new_data: raw.when_new_data,
            suspend_after_failures,
            max_parallel,
            tasks,
            finalizer,
        })
    }

    /// The pipeline's task graph.
    pub fn graph(&self) -> TaskGraph {
        TaskGraph::new(&self.tasks)
    }
}

impl Task {
    fn from_toml(at: &str, name: &str, value: toml::Value) -> Result<Task> {
        let raw: TaskToml = value
            .try_into()
            .map_err(|e: toml::de::Error| PipelineError::config(at, e.message()))?;
        let action = match (raw.c360, raw.shell) {
            (Some(words), None) => {
                let words = match words {
                    Words::Line(line) => line.split_whitespace().map(str::to_string).collect(),
                    Words::List(list) => list,
                };
                if words.is_empty() {
                    return Err(PipelineError::config(
                        format!("{at}.c360"),
                        "names no command",
                    ));
                }
                if matches!(words[0].as_str(), "pipeline" | "schedule" | "serve") {
                    return Err(PipelineError::config(
                        format!("{at}.c360"),
                        format!("`c360 {}` cannot be a pipeline task", words[0]),
                    ));
                }
                Action::C360(words)
            }
            (None, Some(cmd)) if !cmd.trim().is_empty() => Action::Shell(cmd),
            (None, Some(_)) => {
                return Err(PipelineError::config(format!("{at}.shell"), "is empty"))
            }
            (Some(_), Some(_)) => {
                return Err(PipelineError::config(
                    at,
                    "has both `c360` and `shell`; pick one",
                ))
            }
            (None, None) => {
                return Err(PipelineError::config(
                    at,
                    "needs an action: `c360 = \"build --select ...\"` or `shell = \"...\"`",
                ))
            }
        };
        let mut after = raw.after;
        after.sort();
        after.dedup();
        if after.iter().any(|a| a == name) {
            return Err(PipelineError::config(
                format!("{at}.after"),
                "a task cannot wait for itself",
            ));
        }
        Ok(Task {
            name: name.to_string(),
            after,
            action,
            timeout: duration(&format!("{at}.timeout"), raw.timeout.as_deref())?
                .unwrap_or(DEFAULT_TASK_TIMEOUT),
            retries: raw.retries,
            retry_delay: duration(&format!("{at}.retry_delay"), raw.retry_delay.as_deref())?
                .unwrap_or(DEFAULT_RETRY_DELAY),
        })
    }

    /// The wait before retry number `retry` (1-based): `retry_delay × 2^(retry−1)`, capped at
    /// one hour.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
        self.retry_delay
            .saturating_mul(factor)
            .min(Duration::from_secs(3600))
    }
}

impl Finalizer {
    fn from_toml(at: &str, value: toml::Value) -> Result<Finalizer> {
        let raw: FinalizerToml = value
            .try_into()
            .map_err(|e: toml::de::Error| PipelineError::config(at, e.message()))?;
        if raw.webhook.is_none() && raw.command.is_none() {
            return Err(PipelineError::config(
                at,
                "needs a `webhook` URL or a `command`",
            ));
        }
        if let Some(url) = &raw.webhook {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(PipelineError::config(
                    format!("{at}.webhook"),
                    format!("'{url}' is not an http:// or https:// URL"),
                ));
            }
        }
        Ok(Finalizer {
            webhook: raw.webhook,
            command: raw.command,
            timeout: duration(&format!("{at}.timeout"), raw.timeout.as_deref())?
                .unwrap_or(DEFAULT_FINALIZER_TIMEOUT),
        })
    }
}

/// Pipeline and task names: letters, digits, `_` and `-` (they appear in history and on the
/// command line).
fn check_name(at: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(PipelineError::config(
            at,
            format!("'{name}' is not a valid name (letters, digits, '_' and '-')"),
        ))
    }
}

/// Parses `500ms`, `30s`, `5m`, `2h` or `1d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 30s, 5m, 2h)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        other => {
            return Err(format!(
                "'{other}' in '{text}' is not a unit (ms, s, m, h, d)"
            ))
        }
    };
    if !(0.0..=366.0 * 86_400.0).contains(&seconds) {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn duration(at: &str, text: Option<&str>) -> Result<Option<Duration>> {
    text.map(|t| parse_duration(t).map_err(|m| PipelineError::config(at, m)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PipelineSet> {
        let table: toml::Table = toml::from_str(text).unwrap();
        PipelineSet::from_toml(table.get("pipeline").and_then(|v| v.as_table()))
    }

    #[test]
    fn a_full_pipeline_parses() {
        let set = parse(
            r#"
            [pipeline]
            default = "daily"
            [pipeline.daily]
            schedule = "0 2 * * *"
            timezone = "Europe/Paris"
            [pipeline.daily.tasks.generate]
            c360 = "generate --customers 100"
            [pipeline.daily.tasks.build]
            after = ["generate"]
            c360 = ["build", "--select", "tag:gold"]
            timeout = "30m"
            retries = 2
            retry_delay = "1s"
            [pipeline.daily.finalizer]
            command = "cat"
            "#,
        )
        .unwrap();
        let daily = set.get(None).unwrap();
        assert_eq!(daily.tasks.len(), 2);
        let build = &daily.tasks["build"];
        assert_eq!(
            build.action,
            Action::C360(vec!["build".into(), "--select".into(), "tag:gold".into()])
        );
        assert_eq!(build.timeout, Duration::from_secs(1800));
        assert_eq!(build.backoff(1), Duration::from_secs(1));
        assert_eq!(build.backoff(3), Duration::from_secs(4));
        assert_eq!(
            daily.finalizer.as_ref().unwrap().timeout,
            DEFAULT_FINALIZER_TIMEOUT
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[pipeline.p.tasks.a]\nc360 = \"run\"\nretires = 2", "pipeline.p.tasks.a", "retires"),
            ("[pipeline.p.tasks.a]\nc360 = \"run\"\nafter = [\"b\"]", "pipeline.p.tasks.a.after", "no task named 'b'"),
            ("[pipeline.p]\nschedule = \"61 * * * *\"\n[pipeline.p.tasks.a]\nc360 = \"run\"", "pipeline.p.schedule", ""),
            ("[pipeline.p]\nschedule = \"0 * * * *\"\ntimezone = \"Mars/Olympus\"\n[pipeline.p.tasks.a]\nc360 = \"run\"", "pipeline.p.schedule", "Mars/Olympus"),
            ("[pipeline.p.tasks.a]\nc360 = \"run\"\ntimeout = \"5 parsecs\"", "pipeline.p.tasks.a.timeout", "parsecs"),
            ("[pipeline.p.tasks.a]\nc360 = \"run\"\nshell = \"true\"", "pipeline.p.tasks.a", "pick one"),
            ("[pipeline.p.tasks.a]\nc360 = \"run\"\nafter = [\"b\"]\n[pipeline.p.tasks.b]\nshell = \"true\"\nafter = [\"a\"]", "pipeline.p.tasks", "cycle"),
            ("[pipeline.p.tasks.a]\nc360 = \"pipeline run\"", "pipeline.p.tasks.a.c360", "cannot be a pipeline task"),
            ("[pipeline.p]\nfoo = 1\n[pipeline.p.tasks.a]\nc360 = \"run\"", "pipeline.p", "foo"),
            ("[pipeline]\ndefault = \"q\"\n[pipeline.p.tasks.a]\nc360 = \"run\"", "pipeline.default", "'q'"),
        ];
        for (text, key, needle) in cases {
            let err = parse(text).unwrap_err();
            let PipelineError::Config { key: got, message } = &err else {
                panic!("{text}: {err}")
            };
            assert_eq!(got, key, "{text}: {err}");
            assert!(message.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
