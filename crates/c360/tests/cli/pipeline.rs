//! `c360 pipeline` and `c360 schedule` over a copy of the Customer 360 project: real child
//! processes, the real writer lock, `kill -9`, SIGTERM, and history read back from the lake.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use c360_lake::{Lake, Layer};

use crate::common::*;

/// A copy of the project whose c360.toml gets `pipelines` appended, and a lake beside it.
struct Setup {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    lake: PathBuf,
}

impl Setup {
    fn new(pipelines: &str) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        copy_dir(Path::new(PROJECT), &project);
        // The bundled [pipeline] is replaced by the test's own.
        let toml = std::fs::read_to_string(project.join("c360.toml")).unwrap();
        let base = toml.split("\n[pipeline").next().unwrap().to_string();
        std::fs::write(project.join("c360.toml"), format!("{base}\n{pipelines}")).unwrap();
        let lake = tmp.path().join("lake");
        Setup {
            _tmp: tmp,
            project,
            lake,
        }
    }

    fn c360(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(self.project.join("c360.toml"))
            .arg("--lake")
            .arg(&self.lake)
            .env_remove("C360_LAKE")
            .env_remove("C360_CONFIG")
            .env_remove("C360_LOCK_TIMEOUT")
            .env_remove("C360_WRITER_LOCK_FD")
            .env_remove("C360_FAILPOINT_BEFORE_COMMIT")
            .env_remove("RUST_LOG");
        cmd
    }

    fn csv(&self, sql: &str) -> Vec<String> {
        let out = ok(self.c360().args(["query", "--format", "csv", sql]));
        stdout(&out).lines().skip(1).map(str::to_string).collect()
    }
}

/// The seed's graph at test scale: generate → the models (the churn model needs more data
/// than a test generates, so it is left out) → a query, with a finalizer writing the summary.
fn daily(customers: u32, summary: &Path) -> String {
    format!(
        r#"
[pipeline]
default = "daily"

[pipeline.daily]
[pipeline.daily.tasks.generate]
c360 = "generate --customers {customers} --months 6"
[pipeline.daily.tasks.transform]
after = ["generate"]
c360 = "run --exclude churn_training_data+"
timeout = "5m"
[pipeline.daily.tasks.count]
after = ["transform"]
shell = "\"$C360_EXE\" query 'select count(*) from gold.fct_transactions'"
[pipeline.daily.finalizer]
command = "cat > '{}'"
"#,
        summary.display()
    )
}

#[test]
fn a_pipeline_run_builds_the_lake_and_its_history_is_queryable() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.json");
    let s = Setup::new(&daily(200, &summary));
    let out = ok(s.c360().args(["-q", "pipeline", "run"]));
    assert!(stdout(&out).contains("succeeded"), "{}", stdout(&out));

    let tasks = s.csv(
        "select task, status, attempts, rows is not null as has_rows \
         from _c360.pipeline_task_runs order by task",
    );
    assert_eq!(
        tasks,
        [
            "count,succeeded,1,false",
            "generate,succeeded,1,true",
            "transform,succeeded,1,true"
        ]
    );
    let runs = s.csv("select pipeline, trigger, status, finalizer from _c360.pipeline_runs");
    assert_eq!(runs, ["daily,manual,succeeded,ok"]);
    // The transform task's rows are the engine's own count for that run.
    let build_rows = s.csv("select rows from _c360.pipeline_task_runs where task = 'transform'");
    let engine_rows =
        s.csv("select sum(rows_affected) from _c360.run_history where resource_type <> 'test'");
    assert_eq!(build_rows, engine_rows);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(json["status"], "succeeded");
    assert_eq!(json["tasks"].as_array().unwrap().len(), 3);

    let history = stdout(&ok(s.c360().args(["pipeline", "history"])));
    assert!(
        history.contains("daily-") && history.contains("SUCCEEDED  transform"),
        "{history}"
    );
    let status = stdout(&ok(s.c360().args(["pipeline", "status"])));
    assert!(status.contains("generate → transform → count"), "{status}");
}

#[test]
fn a_task_command_that_is_not_a_c360_command_is_refused_before_anything_runs() {
    let s = Setup::new("[pipeline.p.tasks.a]\nc360 = \"biuld\"\n");
    let out = s.c360().args(["pipeline", "run", "p"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[pipeline.p.tasks.a] c360 = \"biuld\""),
        "{err}"
    );
    assert!(!s.lake.join("_c360/pipeline_runs").exists());
}

/// Waits for `path` to exist, failing if `child` exits first.
fn wait_for(path: &Path, child: &mut Child) {
    let started = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("c360 exited ({status}) before {}", path.display());
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_writer_is_refused_with_the_holder_named_or_waits_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let started = tmp.path().join("started");
    let release = tmp.path().join("release");
    let s = Setup::new(&format!(
        "[pipeline.hold.tasks.wait]\nshell = \"touch '{}'; while [ ! -e '{}' ]; do sleep 0.05; done\"\n",
        started.display(),
        release.display()
    ));
    let mut holder = s
        .c360()
        .args(["-q", "pipeline", "run", "hold"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&started, &mut holder);

    let out = s
        .c360()
        .args(["generate", "--customers", "10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("pid {}: c360", holder.id())) && err.contains("pipeline run hold"),
        "{err}"
    );
    assert!(err.contains("--lock-timeout"), "{err}");

    // With a timeout, the second writer waits for the first to finish.
    let waiter = s
        .c360()
        .args([
            "-q",
            "--lock-timeout",
            "60s",
            "generate",
            "--customers",
            "10",
        ])
        .spawn();
    let mut waiter = waiter.unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(waiter.try_wait().unwrap().is_none(), "it waits");
    std::fs::write(&release, "").unwrap();
    assert!(holder.wait().unwrap().success());
    assert!(waiter.wait().unwrap().success());
    // Readers never wait.
    ok(s.c360()
        .args(["query", "select count(*) from bronze.customers"]));
}

/// Every silver and gold table: name → (rows, content hash).
fn silver_and_gold(lake: &Path) -> Vec<(String, (u64, String))> {
    let rt = runtime();
    let lake = Lake::new(lake);
    rt.block_on(lake.list_tables())
        .unwrap()
        .into_iter()
        .filter(|t| matches!(t.layer, Layer::Silver | Layer::Gold))
        .map(|t| {
            let hash = rt.block_on(lake.content_hash(t.layer, &t.name)).unwrap();
            (format!("{}.{}", t.layer, t.name), hash)
        })
        .collect()
}

#[test]
fn kill_9_in_the_middle_of_the_build_then_a_retry_gives_the_tables_of_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.json");
    let reference = Setup::new(&daily(300, &summary));
    ok(reference.c360().args(["-q", "pipeline", "run"]));
    let expected = silver_and_gold(&reference.lake);
    assert!(expected.len() > 10, "{expected:?}");

    let s = Setup::new(&daily(300, &summary));
    let marker = tmp.path().join("marker");
    let mut run = s.c360();
    run.args(["-q", "pipeline", "run"])
        .env(
            "C360_FAILPOINT_BEFORE_COMMIT",
            format!("gold.fct_transactions:{}", marker.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = run.spawn().unwrap();
    wait_for(&marker, &mut child);
    child.kill().unwrap(); // SIGKILL, while the build task holds before a commit
    child.wait().unwrap();
    assert!(
        !s.lake.join("gold/fct_transactions/_delta_log").exists(),
        "the build was stopped before fct_transactions committed"
    );

    // The build child died with its parent: the lake is free at once, and the killed run
    // shows as interrupted with generate done.
    let history = stdout(&ok(s.c360().args([
        "--lock-timeout",
        "10s",
        "pipeline",
        "history",
    ])));
    assert!(history.contains("interrupted"), "{history}");
    let out = ok(s.c360().args(["-q", "pipeline", "retry"]));
    let text = stdout(&out);
    assert!(
        text.contains("SUCCEEDED  transform") && !text.contains("generate"),
        "{text}"
    );
    assert_eq!(silver_and_gold(&s.lake), expected);
}

/// Reading `_c360.pipeline_runs` straight from the lake (the daemon keeps writing it).
mod c360_pipeline_runs {
    use super::*;

    #[derive(Debug)]
    pub struct Run {
        pub status: String,
        pub trigger: String,
    }

    pub fn runs_of(lake: &Path, pipeline: &str) -> Vec<Run> {
        if !lake.join("_c360/pipeline_runs/_delta_log").exists() {
            return Vec::new();
        }
        let batches = read(lake, Layer::Meta, "pipeline_runs");
        let names = strings(&batches, "pipeline");
        let statuses = strings(&batches, "status");
        let triggers = strings(&batches, "trigger");
        let starts = strings(&batches, "started_at");
        let mut runs: Vec<(String, Run)> = (0..names.len())
            .filter(|i| names[*i].as_deref() == Some(pipeline))
            .map(|i| {
                (
                    starts[i].clone().unwrap(),
                    Run {
                        status: statuses[i].clone().unwrap(),
                        trigger: triggers[i].clone().unwrap(),
                    },
                )
            })
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        runs.into_iter().map(|(_, r)| r).collect()
    }

    /// Waits until `count` runs of `pipeline` have finished.
    pub fn wait(lake: &Path, pipeline: &str, count: usize, daemon: &mut Child) -> Vec<Run> {
        let started = Instant::now();
        loop {
            let runs = runs_of(lake, pipeline);
            if runs.iter().filter(|r| r.status != "running").count() >= count {
                return runs;
            }
            if let Some(status) = daemon.try_wait().unwrap() {
                panic!("c360 schedule exited ({status}) with {runs:?}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "only {runs:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_stream_schedule_processes_simulated_days_end_to_end_and_stops_on_sigterm() {
    let s = Setup::new(
        r#"
[pipeline.stream]
schedule = "*/2 * * * * *"
when_new_data = true
[pipeline.stream.tasks.merge]
c360 = "run --select source:bronze.transactions+,source:bronze.customers+ --exclude churn_training_data+"
"#,
    );
    ok(s.c360().args([
        "-q",
        "generate",
        "--customers",
        "200",
        "--months",
        "6",
        "--clean",
    ]));
    ok(s.c360()
        .args(["-q", "run", "--exclude", "churn_training_data+"]));
    let max_day = |s: &Setup| {
        s.csv("select cast(max(transaction_date) as varchar) from gold.fct_transactions")
    };

    let mut daemon = s
        .c360()
        .args(["schedule", "stream"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first firing processes the generated history.
    c360_pipeline_runs::wait(&s.lake, "stream", 1, &mut daemon);
    let mut days = vec![max_day(&s)];
    for n in 2..=3 {
        ok(s.c360()
            .args(["-q", "--lock-timeout", "60s", "simulate", "--days", "1"]));
        c360_pipeline_runs::wait(&s.lake, "stream", n, &mut daemon);
        days.push(max_day(&s));
    }
    // Bronze is unchanged now: later firings skip without a run.
    std::thread::sleep(Duration::from_millis(4500));
    let runs = c360_pipeline_runs::runs_of(&s.lake, "stream");
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(
        runs.iter()
            .all(|r| r.status == "succeeded" && r.trigger == "schedule"),
        "{runs:?}"
    );
    assert!(
        days[0] < days[1] && days[1] < days[2],
        "each simulated day reached gold: {days:?}"
    );

    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(daemon.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let out = daemon.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no new bronze data since run"), "{text}");
    assert!(text.contains("c360 schedule stopped"), "{text}");

    let history = stdout(&ok(s.c360().args(["pipeline", "history", "stream"])));
    let run_lines = history.lines().filter(|l| l.contains(" stream-"));
    assert_eq!(
        run_lines.filter(|l| l.contains(" succeeded ")).count(),
        3,
        "{history}"
    );
    // Silver equals what a full rebuild from bronze gives.
    let incremental =
        s.csv("select count(*), sum(transaction_amount) from silver.stg_transactions");
    ok(s.c360().args([
        "-q",
        "run",
        "--full-refresh",
        "--exclude",
        "churn_training_data+",
    ]));
    assert_eq!(
        s.csv("select count(*), sum(transaction_amount) from silver.stg_transactions"),
        incremental
    );
}
