//! The memory budget of the lake's DataFusion sessions.
//!
//! Every [`Lake`] value (and its clones) carries one DataFusion [`RuntimeEnv`]: one memory
//! pool and one spill directory that every session it makes ([`Lake::session_context`]) draws
//! from. With a [`MemoryLimit`] the pool is a [`GreedyMemoryPool`] of that size (first come,
//! first served, as `datafusion-cli` uses): sorts and grouped aggregates write sorted runs to
//! temporary files (in `TMPDIR`) when it is full, and an operator that cannot spill fails with
//! an error naming the largest consumers instead of the process being killed
//! (docs/engine.md § Memory has the pools tried). Without a limit the pool only counts.
//!
//! [`PeakPool`] wraps the pool for one unit of work — a model of a run — and records the most
//! that unit's operators held at once (`peak_memory` in `run_results.json`).

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use deltalake::datafusion::error::Result as DfResult;
use deltalake::datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit as PoolLimit, MemoryPool, MemoryReservation,
    TrackConsumersPool, UnboundedMemoryPool,
};
use deltalake::datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use deltalake::datafusion::execution::SessionStateBuilder;
use deltalake::datafusion::prelude::SessionContext;

use crate::error::{LakeError, Result};
use crate::Lake;

/// How much memory the engine's operators may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    /// No limit: operators never spill.
    Unlimited,
    /// At most this many bytes; operators that can spill do so beyond it.
    Bytes(usize),
}

/// The share of the machine's memory the pool gets when nothing is configured.
pub const DEFAULT_MEMORY_SHARE_PERCENT: u64 = 20;

impl MemoryLimit {
    /// [`DEFAULT_MEMORY_SHARE_PERCENT`] of the machine's memory (the cgroup's limit when lower),
    /// or of 16 GiB when neither can be read.
    pub fn machine_share() -> MemoryLimit {
        let total = machine_memory().unwrap_or(16 << 30);
        MemoryLimit::Bytes((total / 100 * DEFAULT_MEMORY_SHARE_PERCENT) as usize)
    }

    /// Parses `4GiB`, `512MiB`, `256MB`, `1.5G`, `300000000`, `25%` (of the machine's memory)
    /// or `unlimited`. `K`/`M`/`G`/`T` and `KiB`…`TiB` are powers of 1024, `KB`…`TB` of 1000.
    pub fn parse(text: &str) -> std::result::Result<MemoryLimit, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("unlimited") {
            return Ok(MemoryLimit::Unlimited);
        }
        let bad = || format!("'{text}' is not a memory size (e.g. 4GiB, 512MB, 25%, unlimited)");
        if let Some(percent) = text.strip_suffix('%') {
            let percent: f64 = percent.trim().parse().map_err(|_| bad())?;
            if !(percent > 0.0 && percent <= 100.0) {
                return Err(format!(
                    "'{text}': a share must be above 0% and at most 100%"
                ));
            }
            let total = machine_memory().ok_or("the machine's memory cannot be read")?;
            return Ok(MemoryLimit::Bytes(
                (total as f64 * percent / 100.0) as usize,
            ));
        }
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().map_err(|_| bad())?;
        let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(bad()),
        };
        let bytes = number * scale as f64;
        if !(bytes >= 1.0) {
            return Err(format!("'{text}': a memory limit must be at least 1 byte"));
        }
        Ok(MemoryLimit::Bytes(bytes as usize))
    }
}

/// Exact, and what [`MemoryLimit::parse`] reads back: `4GiB`, `300MiB`, `123456789`.
impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryLimit::Unlimited => f.write_str("unlimited"),
            MemoryLimit::Bytes(b) if b % (1 << 30) == 0 => write!(f, "{}GiB", b >> 30),
            MemoryLimit::Bytes(b) if b % (1 << 20) == 0 => write!(f, "{}MiB", b >> 20),
            MemoryLimit::Bytes(b) => write!(f, "{b}"),
        }
    }
}

/// Total memory in bytes: `/proc/meminfo`'s `MemTotal`, or the cgroup v2 `memory.max` when set
/// and lower.
fn machine_memory() -> Option<u64> {
    let total = proc_bytes("/proc/meminfo", "MemTotal:")?;
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    Some(cgroup.map_or(total, |c| c.min(total)))
}

/// This process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`).
pub fn process_peak_rss() -> Option<u64> {
    proc_bytes("/proc/self/status", "VmHWM:")
}

/// A `key:   1234 kB` line of a `/proc` file, in bytes.
fn proc_bytes(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The runtime of a lake whose sessions draw from one pool of `limit`.
pub(crate) fn runtime(limit: MemoryLimit) -> Result<Arc<RuntimeEnv>> {
    let pool: Arc<dyn MemoryPool> = match limit {
        MemoryLimit::Unlimited => Arc::new(UnboundedMemoryPool::default()),
        MemoryLimit::Bytes(bytes) => Arc::new(TrackConsumersPool::new(
            GreedyMemoryPool::new(bytes),
            NonZeroUsize::new(5).expect("5 is not zero"),
        )),
    };
    RuntimeEnvBuilder::new()
        .with_memory_pool(pool)
        .build_arc()
        .map_err(|e| LakeError::Internal(format!("setting up the engine's memory: {e}")))
}

impl Lake {
    /// This lake with its sessions' memory held to `limit` (spilling beyond it). The default
    /// of [`Lake::new`] is [`MemoryLimit::Unlimited`].
    pub fn with_memory_limit(mut self, limit: MemoryLimit) -> Result<Lake> {
        self.runtime = runtime(limit)?;
        self.memory_limit = limit;
        Ok(self)
    }

    /// The limit the lake's sessions are held to.
    pub fn memory_limit(&self) -> MemoryLimit {
        self.memory_limit
    }
}

/// A memory pool that passes every request to the pool it wraps and records the most its own
/// reservations held at once.
#[derive(Debug)]
pub struct PeakPool {
    inner: Arc<dyn MemoryPool>,
    reserved: AtomicUsize,
    peak: AtomicUsize,
    spilled: AtomicU64,
}

impl PeakPool {
    /// A session sharing `ctx`'s catalog, functions, settings, object stores and spill files,
    /// whose operators' memory goes through a new [`PeakPool`] over `ctx`'s pool.
    pub fn session(ctx: &SessionContext) -> (SessionContext, Arc<PeakPool>) {
        let runtime = ctx.runtime_env();
        let peak = Arc::new(PeakPool {
            inner: runtime.memory_pool.clone(),
            reserved: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            spilled: AtomicU64::new(0),
        });
        let tracked = Arc::new(RuntimeEnv {
            memory_pool: peak.clone(),
            ..RuntimeEnv::clone(&runtime)
        });
        let state = SessionStateBuilder::new_from_existing(ctx.state())
            .with_runtime_env(tracked)
            .build();
        (SessionContext::new_with_state(state), peak)
    }

    /// The most bytes this pool's reservations held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Counts `bytes` written to spill files by a plan run in this pool (operators report
    /// spills in their metrics, not to the pool).
    pub fn add_spilled(&self, bytes: u64) {
        self.spilled.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The bytes counted by [`PeakPool::add_spilled`].
    pub fn spilled(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    fn add(&self, bytes: usize) {
        let now = self.reserved.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

impl fmt::Display for PeakPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (peak {} bytes)", self.inner, self.peak())
    }
}

impl MemoryPool for PeakPool {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer)
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer)
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.add(additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
        self.reserved.fetch_sub(shrink, Ordering::Relaxed);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> DfResult<()> {
        self.inner.try_grow(reservation, additional)?;
        self.add(additional);
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> PoolLimit {
        self.inner.memory_limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(
            MemoryLimit::parse("256MiB"),
            Ok(MemoryLimit::Bytes(256 << 20))
        );
        assert_eq!(
            MemoryLimit::parse("256M"),
            Ok(MemoryLimit::Bytes(256 << 20))
        );
        assert_eq!(
            MemoryLimit::parse("256MB"),
            Ok(MemoryLimit::Bytes(256_000_000))
        );
        assert_eq!(
            MemoryLimit::parse("1.5 GiB"),
            Ok(MemoryLimit::Bytes(3 << 29))
        );
        assert_eq!(MemoryLimit::parse("4096"), Ok(MemoryLimit::Bytes(4096)));
        assert_eq!(MemoryLimit::parse("Unlimited"), Ok(MemoryLimit::Unlimited));
        for limit in ["4GiB", "300MiB", "123456789", "unlimited"] {
            assert_eq!(MemoryLimit::parse(limit).unwrap().to_string(), limit);
        }
        for bad in ["", "GiB", "4 parsecs", "0", "-1G", "0%", "150%"] {
            assert!(MemoryLimit::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn a_share_is_of_the_machines_memory() {
        let total = machine_memory().expect("this test runs on Linux");
        let MemoryLimit::Bytes(half) = MemoryLimit::parse("50%").unwrap() else {
            panic!("50% is a size");
        };
        assert_eq!(half as u64, total / 2);
    }
}
