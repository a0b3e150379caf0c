//! Integration tests of `c360_ingest::read_file`, one temp dir per test.

mod batching;
mod columns;
mod csv_input;
mod every_format;
mod formats;
mod jsonl_input;
mod parquet_input;

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{
    Date32Type, Decimal128Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use c360_bronze::{rejected_schema, BronzeTable};
use c360_ingest::{read_file, Chunk, FileReport, LoadOptions, Result};
use chrono::{DateTime, TimeZone, Utc};

/// The load time every test uses.
pub fn loaded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 15, 6, 0, 0).unwrap()
}

pub fn opts(table: BronzeTable) -> LoadOptions {
    LoadOptions::new(table, "load-test", loaded_at())
}

/// Microseconds of an RFC 3339 instant.
pub fn micros(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_micros()
}

/// Days since the epoch of `YYYY-MM-DD`.
pub fn days(date: &str) -> i32 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Everything `read_file` produced for one file.
pub struct Loaded {
    pub report: FileReport,
    pub chunks: Vec<Chunk>,
    pub rows: RecordBatch,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: i64,
    pub field: Option<String>,
    pub reason: String,
    pub raw: String,
}

pub fn load(path: &Path, opts: &LoadOptions) -> Loaded {
    let mut chunks = Vec::new();
    let report = read_file(path, opts, &mut |chunk| -> Result<()> {
        chunks.push(chunk);
        Ok(())
    })
    .unwrap();
    let schema = opts.table.schema();
    let rows = concat_batches(&schema, chunks.iter().map(|c| &c.rows)).unwrap();
    let rejected_batch =
        concat_batches(&rejected_schema(), chunks.iter().map(|c| &c.rejected)).unwrap();
    let mut rejected = Vec::new();
    for i in 0..rejected_batch.num_rows() {
        let text = |c: usize| rejected_batch.column(c).as_string::<i32>();
        assert_eq!(text(0).value(i), "load-test");
        assert_eq!(text(1).value(i), path.display().to_string());
        let rejected_at = rejected_batch
            .column(6)
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!(rejected_at.value(i), loaded_at().timestamp_micros());
        rejected.push(Rejected {
            line: rejected_batch
                .column(2)
                .as_primitive::<Int64Type>()
                .value(i),
            field: text(3).is_valid(i).then(|| text(3).value(i).to_string()),
            reason: text(4).value(i).to_string(),
            raw: text(5).value(i).to_string(),
        });
    }
    assert_eq!(report.rows_read, report.loaded + report.rejected);
    assert_eq!(report.loaded, rows.num_rows() as u64);
    assert_eq!(report.rejected, rejected.len() as u64);
    for chunk in &chunks {
        assert_eq!(chunk.rows.schema(), schema);
        assert_eq!(chunk.rejected.schema(), rejected_schema());
    }
    Loaded {
        report,
        chunks,
        rows,
        rejected,
    }
}

/// A rejected row as expected: (line, field, reason).
pub fn rejection(line: i64, field: Option<&str>, reason: &str) -> (i64, Option<String>, String) {
    (line, field.map(str::to_string), reason.to_string())
}

impl Loaded {
    pub fn rejections(&self) -> Vec<(i64, Option<String>, String)> {
        self.rejected
            .iter()
            .map(|r| (r.line, r.field.clone(), r.reason.clone()))
            .collect()
    }

    fn column(&self, name: &str) -> &dyn Array {
        self.rows.column_by_name(name).unwrap().as_ref()
    }

    pub fn text(&self, name: &str) -> Vec<Option<String>> {
        let a = self.column(name).as_string::<i32>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
            .collect()
    }

    pub fn money(&self, name: &str) -> Vec<Option<i128>> {
        let a = self.column(name).as_primitive::<Decimal128Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    pub fn timestamps(&self, name: &str) -> Vec<Option<i64>> {
        let a = self.column(name).as_primitive::<TimestampMicrosecondType>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    pub fn ints(&self, name: &str) -> Vec<Option<i32>> {
        let a = self.column(name).as_primitive::<Int32Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    pub fn dates(&self, name: &str) -> Vec<Option<i32>> {
        let a = self.column(name).as_primitive::<Date32Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
}

pub fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}
