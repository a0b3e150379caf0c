//! The `unique` test without grouping the whole column.
//!
//! The generic test's SQL (`GROUP BY c HAVING COUNT(*) > 1`) builds a hash table of every
//! distinct value — for a 13.5M-row key, ~5 s and a few hundred MB of strings. Most of the time
//! the answer is "no duplicates", and that can be proven from 64-bit hashes alone: if no two
//! non-NULL values hash alike, no two values are equal. So the column is streamed once into a
//! set of hashes; only when two hashes meet (a real duplicate, or a collision — about one chance
//! in 200,000 at 13.5M rows) does the test run its SQL, which then counts the failing rows
//! exactly. The result is always the SQL's; only the time to reach it changes.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use c360_lake::datafusion::common::hash_utils::{create_hashes, QualityRandomState};
use c360_lake::datafusion::error::Result;
use c360_lake::datafusion::prelude::SessionContext;
use futures::StreamExt;

/// True when the non-NULL values of `column` in `relation` (optionally filtered by `filter`, the
/// test's `where`) have pairwise different 64-bit hashes, which proves them unique. False means
/// "maybe not unique": run the test's SQL.
pub(crate) async fn hashes_distinct(
    ctx: &SessionContext,
    relation: &str,
    column: &str,
    filter: Option<&str>,
) -> Result<bool> {
    let filter = filter.map(|w| format!(" AND ({w})")).unwrap_or_default();
    let frame = ctx
        .sql(&format!(
            "SELECT {column} FROM {relation} WHERE {column} IS NOT NULL{filter}"
        ))
        .await?;
    let state = QualityRandomState::with_seed(0x0c36_0c36);
    let mut seen: HashSet<u64, BuildHasherDefault<PreHashed>> = HashSet::default();
    let mut hashes = Vec::new();
    let mut stream = frame.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        hashes.clear();
        hashes.resize(batch.num_rows(), 0);
        create_hashes([batch.column(0)], &state, &mut hashes)?;
        for &hash in &hashes {
            if !seen.insert(hash) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// A `Hasher` for keys that already are hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
