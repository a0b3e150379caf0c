//! A single, explicit crash-test hook.
//!
//! When the environment variable `C360_FAILPOINT_BEFORE_COMMIT` is `TABLE:MARKER` (for example
//! `bronze.transactions:/tmp/x/marker`, or `*:MARKER` for any table), a writer that has written
//! every data file of `TABLE` creates the file `MARKER` and then waits a minute before it
//! commits. Crash tests use it to `kill -9` a `c360 generate` or `c360 load` at the worst
//! moment — data files on disk, commit not yet written — and check that every table still
//! reads at its previous version. Unset (always, outside tests), it costs one environment
//! lookup per commit.

use std::time::Duration;

pub(crate) const BEFORE_COMMIT: &str = "C360_FAILPOINT_BEFORE_COMMIT";

pub(crate) async fn before_commit(table: &str) {
    let Ok(spec) = std::env::var(BEFORE_COMMIT) else {
        return;
    };
    let Some((target, marker)) = spec.split_once(':') else {
        return;
    };
    if target != "*" && target != table {
        return;
    }
    tracing::warn!(table, "failpoint: holding before commit");
    let _ = std::fs::write(marker, table);
    tokio::time::sleep(Duration::from_secs(60)).await;
}
