//! Which reader a file goes to, decided by its extension.

use std::path::Path;

use crate::{IngestError, Result};

/// The file formats `c360 load` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileFormat {
    /// Delimited text with a header line (`.csv`, `.tsv`, `.txt`).
    Csv,
    /// Apache Parquet (`.parquet`, `.pq`).
    Parquet,
    /// One JSON object per line (`.jsonl`, `.ndjson`, and `.json`, which is read as JSON-lines).
    JsonLines,
}

impl FileFormat {
    /// The format of `path`, from its extension (case-insensitive).
    ///
    /// ```
    /// use c360_ingest::FileFormat;
    /// use std::path::Path;
    /// assert_eq!(FileFormat::from_path(Path::new("in/tx.TSV")).unwrap(), FileFormat::Csv);
    /// assert_eq!(FileFormat::from_path(Path::new("tx.json")).unwrap(), FileFormat::JsonLines);
    /// assert!(FileFormat::from_path(Path::new("tx.xlsx")).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<FileFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv" | "tsv" | "txt") => Ok(FileFormat::Csv),
            Some("parquet" | "pq") => Ok(FileFormat::Parquet),
            Some("jsonl" | "ndjson" | "json") => Ok(FileFormat::JsonLines),
            _ => Err(IngestError::UnsupportedFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// A short lower-case name: `csv`, `parquet` or `jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::JsonLines => "jsonl",
        }
    }
}

impl std::fmt::Display for FileFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The CSV delimiter used for `path` when none is given: a tab for `.tsv`, else a comma.
pub(crate) fn default_delimiter(path: &Path) -> u8 {
    let is_tsv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    if is_tsv {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_map_to_formats() {
        for (name, format) in [
            ("a.csv", FileFormat::Csv),
            ("a.tsv", FileFormat::Csv),
            ("a.TXT", FileFormat::Csv),
            ("a.parquet", FileFormat::Parquet),
            ("a.pq", FileFormat::Parquet),
            ("a.jsonl", FileFormat::JsonLines),
            ("a.ndjson", FileFormat::JsonLines),
            ("a.json", FileFormat::JsonLines),
        ] {
            assert_eq!(
                FileFormat::from_path(Path::new(name)).unwrap(),
                format,
                "{name}"
            );
        }
        let err = FileFormat::from_path(Path::new("dir/data.xlsx")).unwrap_err();
        assert!(err.to_string().contains("dir/data.xlsx"), "{err}");
        assert!(FileFormat::from_path(Path::new("no_extension")).is_err());
    }

    #[test]
    fn tsv_defaults_to_tab() {
        assert_eq!(default_delimiter(Path::new("x.tsv")), b'\t');
        assert_eq!(default_delimiter(Path::new("x.csv")), b',');
        assert_eq!(default_delimiter(Path::new("x.txt")), b',');
    }
}
