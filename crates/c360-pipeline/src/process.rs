//! Running one task attempt as a child process: the c360 executable itself (same `--lake`
//! and `--config`) or `sh -c`, with a timeout that kills the attempt's whole process group.
//!
//! Children run in their own process group, so a Ctrl-C in the terminal reaches only the
//! parent (which lets the running tasks finish), and on Linux they are killed if the parent
//! dies (`PR_SET_PDEATHSIG`), so a `kill -9` of `c360 pipeline run` leaves no orphan writing
//! the lake.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::config::Action;

/// Environment variable holding the c360 executable, for shell tasks that call it.
pub const EXE_ENV: &str = "C360_EXE";

/// How tasks are started.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The c360 executable (`std::env::current_exe()` in the binary).
    pub c360: PathBuf,
    /// Put before every c360 task's own arguments (`--lake L --config C`).
    pub global_args: Vec<OsString>,
    /// Extra environment of every task (`C360_LAKE`, `C360_CONFIG`, ...).
    pub env: Vec<(OsString, OsString)>,
    /// Working directory of tasks.
    pub working_dir: PathBuf,
    /// Print the tasks' output lines, prefixed with the task name.
    pub echo: bool,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The child's pid (`None`: it could not be started).
    pub pid: Option<u32>,
    /// Its exit code (`None`: killed by a signal or by the timeout, or never started).
    pub exit_code: Option<i64>,
    /// What went wrong; `None` on success.
    pub error: Option<String>,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

const TAIL_LINES: usize = 20;

impl Launcher {
    fn command(&self, action: &Action, keep_fd: Option<i32>) -> Command {
        let mut cmd = match action {
            Action::C360(args) => {
                let mut c = Command::new(&self.c360);
                c.args(&self.global_args).args(args);
                c
            }
            Action::Shell(script) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(script);
                c
            }
        };
        cmd.current_dir(&self.working_dir)
            .env(EXE_ENV, &self.c360)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(unix)]
        // SAFETY: the closure runs in the child between fork and exec and only calls prctl and
        // fcntl, which are async-signal-safe; it changes the child's descriptor table only.
        unsafe {
            cmd.pre_exec(move || {
                #[cfg(target_os = "linux")]
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(fd) = keep_fd {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        #[cfg(not(unix))]
        let _ = keep_fd;
        cmd
    }

    /// Runs `action` once as task `task`, killing it after `timeout`. `extra_env` is added to
    /// the launcher's environment; if it names the writer lock's descriptor
    /// ([`crate::LOCK_FD_ENV`]), that descriptor stays open in the child.
    pub async fn attempt(
        &self,
        task: &str,
        action: &Action,
        timeout: Duration,
        extra_env: &[(String, String)],
    ) -> AttemptOutcome {
        let keep_fd = extra_env
            .iter()
            .find(|(k, _)| k == crate::lock::LOCK_FD_ENV)
            .and_then(|(_, v)| v.parse().ok());
        let mut cmd = self.command(action, keep_fd);
        cmd.envs(extra_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                return AttemptOutcome {
                    pid: None,
                    exit_code: None,
                    error: Some(format!("could not start {}: {e}", action.describe())),
                }
            }
        };
        let pid = child.id();
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let out_tail = Arc::new(Mutex::new(VecDeque::new()));
        let out = child.stdout.take().map(|s| {
            tokio::spawn(forward(
                s,
                task.to_string(),
                self.echo,
                false,
                Some(out_tail.clone()),
            ))
        });
        let err = child.stderr.take().map(|s| {
            tokio::spawn(forward(
                s,
                task.to_string(),
                self.echo,
                true,
                Some(tail.clone()),
            ))
        });
        let waited = tokio::time::timeout(timeout, child.wait()).await;
        let (exit_code, error) = match waited {
            Ok(Ok(status)) if status.success() => (status.code().map(i64::from), None),
            Ok(Ok(status)) => {
                // Let the readers drain the last lines before describing the failure.
                for handle in [&out, &err].into_iter().flatten() {
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while !handle.is_finished() {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    })
                    .await;
                }
                let code = status.code().map(i64::from);
                (code, Some(describe_failure(status, &tail, Some(&out_tail))))
            }
            Ok(Err(e)) => (None, Some(format!("waiting for the task: {e}"))),
            Err(_) => {
                kill_group(pid);
                let _ = child.kill().await;
                (
                    None,
                    Some(format!("timed out after {} and was killed", show(timeout))),
                )
            }
        };
        // Output readers end when the last writer of the pipes is gone; never hang on a
        // straggler that escaped the process group.
        for handle in [out, err].into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), handle).await;
        }
        AttemptOutcome {
            pid,
            exit_code,
            error,
        }
    }

    /// Runs a finalizer command with `input` on standard input and `env`; the error on failure.
    pub async fn run_shell_with_input(
        &self,
        script: &str,
        input: &str,
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<(), String> {
        use tokio::io::AsyncWriteExt;
        let mut cmd = self.command(&Action::Shell(script.to_string()), None);
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("could not start: {e}"))?;
        let pid = child.id();
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input is fine.
            let _ = stdin.write_all(input.as_bytes()).await;
        }
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let err = child.stderr.take().map(|s| {
            tokio::spawn(forward(
                s,
                "finalizer".into(),
                self.echo,
                true,
                Some(tail.clone()),
            ))
        });
        let result = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(describe_failure(status, &tail, None)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                kill_group(pid);
                let _ = child.kill().await;
                Err(format!("timed out after {}", show(timeout)))
            }
        };
        if let Some(handle) = err {
            let _ = tokio::time::timeout(Duration::from_secs(2), handle).await;
        }
        result
    }
}

/// Copies a child's output lines to ours (when echoing), keeping the last stderr lines (and,
/// from standard output, the model engine's `FAIL`/`ERROR` lines).
async fn forward(
    stream: impl AsyncRead + Unpin,
    task: String,
    echo: bool,
    is_stderr: bool,
    tail: Option<Arc<Mutex<VecDeque<String>>>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if echo {
            if is_stderr {
                eprintln!("[{task}] {line}");
            } else {
                println!("[{task}] {line}");
            }
        }
        let keep = is_stderr || {
            let l = strip_ansi(&line);
            l.starts_with("FAIL ") || l.starts_with("ERROR ")
        };
        if let (Some(tail), true) = (&tail, keep) {
            let mut tail = tail.lock().unwrap();
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}

/// The child's own `error: ...` line if it printed one, else the model engine's `FAIL` and
/// `ERROR` lines on standard output, else its last stderr line, else its exit status.
fn describe_failure(
    status: std::process::ExitStatus,
    tail: &Mutex<VecDeque<String>>,
    out_tail: Option<&Mutex<VecDeque<String>>>,
) -> String {
    let tail = tail.lock().unwrap();
    let stripped = |l: &String| strip_ansi(l).trim().to_string();
    if let Some(line) = tail
        .iter()
        .rev()
        .map(stripped)
        .find(|l| l.starts_with("error:"))
    {
        return line.trim_start_matches("error:").trim().to_string();
    }
    if let Some(out_tail) = out_tail {
        let failed: Vec<String> = out_tail
            .lock()
            .unwrap()
            .iter()
            .map(stripped)
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        if !failed.is_empty() {
            return failed.join("; ");
        }
    }
    let last = tail.iter().rev().map(stripped).find(|l| !l.is_empty());
    match (status.code(), last) {
        (Some(code), Some(line)) => format!("exit status {code}: {line}"),
        (Some(code), None) => format!("exit status {code}"),
        (None, _) => format!("killed by a signal ({status})"),
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SAFETY: sends a signal to the process group the child leads; no memory involved.
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// `1.5s`, `2m`, `1h30m` for messages.
pub fn show(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{}s", (secs * 10.0).round() / 10.0)
    } else if secs < 3600.0 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!("{}h{:02}m", d.as_secs() / 3600, (d.as_secs() % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launcher() -> Launcher {
        Launcher {
            c360: PathBuf::from("/bin/false"),
            global_args: Vec::new(),
            env: Vec::new(),
            working_dir: std::env::temp_dir(),
            echo: false,
        }
    }

    #[tokio::test]
    async fn a_failing_command_reports_its_error_line_and_exit_code() {
        let out = launcher()
            .attempt(
                "t",
                &Action::Shell(
                    "echo noise >&2; echo 'error: the lake is on fire' >&2; exit 3".into(),
                ),
                Duration::from_secs(10),
                &[],
            )
            .await;
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.error.as_deref(), Some("the lake is on fire"));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let started = std::time::Instant::now();
        let out = launcher()
            .attempt("t", &Action::Shell(script), Duration::from_millis(300), &[])
            .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(out.error.unwrap().contains("timed out after 0.3s"));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the background grandchild was killed too");
    }
}
