//! The lake's writer lock: at most one c360 process writes a lake at a time.
//!
//! Every command that writes the lake takes an exclusive advisory lock (`flock`) on
//! `<lake>/_c360/writer.lock` and writes its pid and command line into the file, so a second
//! writer can say who holds it. The kernel releases the lock when the holder dies, even by
//! `kill -9`, so a crash never leaves the lake locked.
//!
//! A pipeline's tasks are child processes that write the lake while their parent holds the
//! lock. The parent shares it ([`WriterLock::share_with_children`]): the locked file descriptor
//! stays open across `exec` and its number is passed in [`LOCK_FD_ENV`]. A child whose
//! inherited descriptor is the lock file (same device and inode) already holds the very same
//! lock (`flock` locks belong to the open file, which parent and child share), so it goes
//! ahead; anything else — a stale or forged variable — is ignored and the child queues like
//! any writer. Children keep the lock held even if the parent dies first.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{PipelineError, Result};

/// Environment variable naming the inherited, already locked file descriptor.
pub const LOCK_FD_ENV: &str = "C360_WRITER_LOCK_FD";

/// The lock file, relative to the lake root.
pub const LOCK_FILE: &str = "_c360/writer.lock";

const POLL: Duration = Duration::from_millis(100);

/// A held writer lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
    /// `None` when the lock is the parent's, inherited.
    file: Option<File>,
}

/// What a failed attempt found.
enum Attempt {
    Held(WriterLock),
    Busy(String),
}

impl WriterLock {
    /// Takes the lock of the lake at `lake_root` for `command` (shown to waiting writers),
    /// waiting up to `wait` for another holder to finish; then [`PipelineError::LakeBusy`].
    pub fn acquire(lake_root: &Path, command: &str, wait: Duration) -> Result<WriterLock> {
        let started = Instant::now();
        loop {
            match Self::attempt(lake_root, command)? {
                Attempt::Held(lock) => return Ok(lock),
                Attempt::Busy(holder) if started.elapsed() >= wait => {
                    return Err(PipelineError::LakeBusy {
                        lake: lake_root.to_path_buf(),
                        holder,
                    })
                }
                Attempt::Busy(holder) => {
                    if started.elapsed() < POLL {
                        tracing::warn!(%holder, "waiting for the lake's writer lock");
                    }
                    std::thread::sleep(POLL);
                }
            }
        }
    }

    /// As [`WriterLock::acquire`], without blocking the async runtime, and giving up with
    /// [`PipelineError::StoppedWaitingForLock`] as soon as `stop` turns true.
    pub async fn acquire_async(
        lake_root: &Path,
        command: &str,
        wait: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<WriterLock> {
        let started = Instant::now();
        loop {
            if *stop.borrow() {
                return Err(PipelineError::StoppedWaitingForLock);
            }
            match Self::attempt(lake_root, command)? {
                Attempt::Held(lock) => return Ok(lock),
                Attempt::Busy(holder) if started.elapsed() >= wait => {
                    return Err(PipelineError::LakeBusy {
                        lake: lake_root.to_path_buf(),
                        holder,
                    })
                }
                Attempt::Busy(_) => {
                    let _ = tokio::time::timeout(POLL, stop.changed()).await;
                }
            }
        }
    }

    fn attempt(lake_root: &Path, command: &str) -> Result<Attempt> {
        let path = lake_root.join(LOCK_FILE);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| PipelineError::io(format!("creating {}", parent.display()), e))?;
        }
        if sys::inherited_lock_matches(&path) {
            return Ok(Attempt::Held(WriterLock { path, file: None }));
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| PipelineError::io(format!("opening {}", path.display()), e))?;
        if !sys::try_lock(&file)
            .map_err(|e| PipelineError::io(format!("locking {}", path.display()), e))?
        {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "a process that has not said who it is yet".to_string()
            } else {
                holder.to_string()
            };
            return Ok(Attempt::Busy(holder));
        }
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let text = format!("pid {}: {command} (since {stamp})\n", std::process::id());
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.flush());
        written.map_err(|e| PipelineError::io(format!("writing {}", path.display()), e))?;
        Ok(Attempt::Held(WriterLock {
            path,
            file: Some(file),
        }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this process holds the lock through its parent.
    pub fn is_inherited(&self) -> bool {
        self.file.is_none()
    }

    /// The environment variable that lets a child inherit the lock. The launcher keeps the
    /// named descriptor open across `exec` in that child only (it stays close-on-exec in this
    /// process, so unrelated children never inherit it). An inherited lock is passed on as it
    /// came.
    pub fn share_with_children(&self) -> Result<(&'static str, String)> {
        match &self.file {
            Some(file) => Ok((LOCK_FD_ENV, sys::fd_number(file))),
            None => Ok((LOCK_FD_ENV, std::env::var(LOCK_FD_ENV).unwrap_or_default())),
        }
    }
}

#[cfg(unix)]
mod sys {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    pub fn try_lock(file: &File) -> std::io::Result<bool> {
        // SAFETY: flock on a descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(err)
        }
    }

    pub fn fd_number(file: &File) -> String {
        file.as_raw_fd().to_string()
    }

    /// Whether [`super::LOCK_FD_ENV`] names an open descriptor of `path` that holds its lock.
    pub fn inherited_lock_matches(path: &Path) -> bool {
        let Some(fd) = std::env::var(super::LOCK_FD_ENV)
            .ok()
            .and_then(|v| v.parse::<libc::c_int>().ok())
        else {
            return false;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        // SAFETY: fstat writes into a zeroed stat we own; a closed fd just fails.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if fd < 0 || unsafe { libc::fstat(fd, &mut st) } != 0 {
            return false;
        }
        if st.st_dev as u64 != meta.dev() || st.st_ino as u64 != meta.ino() {
            return false;
        }
        // The same open file as the holder's: locking again succeeds at once (a no-op);
        // a different open file of the lock would fail here, and we never wait.
        // SAFETY: flock on a descriptor that fstat just confirmed is open.
        unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
}

#[cfg(not(unix))]
mod sys {
    use std::fs::File;
    use std::path::Path;

    pub fn try_lock(file: &File) -> std::io::Result<bool> {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    pub fn fd_number(_file: &File) -> String {
        String::new()
    }

    pub fn inherited_lock_matches(_path: &Path) -> bool {
        false
    }
}

/// Whether the process `pid` still exists (a run whose row says `running` but whose process
/// is gone was interrupted).
pub fn process_is_alive(pid: i64) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        pid > 0
            && (unsafe { libc::kill(pid, 0) } == 0
                || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_told_who_holds_the_lake() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), "c360 build", Duration::ZERO).unwrap();
        let err =
            WriterLock::acquire(dir.path(), "c360 run", Duration::from_millis(250)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}: c360 build", std::process::id())),
            "{text}"
        );
        drop(first);
        WriterLock::acquire(dir.path(), "c360 run", Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiting_writer_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), "first", Duration::ZERO).unwrap();
        let root = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            WriterLock::acquire(&root, "second", Duration::from_secs(10)).map(|_| ())
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
