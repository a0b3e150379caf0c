//! Delimited text with a header line.
//!
//! A file without one (empty, or blank lines only) is an error ([`IngestError::NoHeader`]);
//! a header alone is a file of 0 records.
//!
//! Records are read as raw bytes (`csv::ByteRecord`, flexible field counts) so that a record
//! with the wrong number of fields or with bytes that are not UTF-8 becomes a rejected row
//! instead of an error. `line` is the physical line a record starts on (the header is line 1).
//! The csv crate's own line count skips newlines inside quoted fields and blank lines, so
//! lines are counted here from the bytes the parser consumed (see [`LineTracker`]).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

use ::csv::{ByteRecord, ReaderBuilder, Terminator, WriterBuilder};

use crate::columns::ColumnMap;
use crate::format::default_delimiter;
use crate::loader::Loader;
use crate::rejects::{Problem, RejectKind};
use crate::rows::Cell;
use crate::{IngestError, LoadOptions, Result};

pub(crate) fn read(path: &Path, opts: &LoadOptions, loader: &mut Loader<'_>) -> Result<()> {
    let file = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (file, mut lines) = LineTracker::wrap(file);
    let delimiter = opts
        .csv_delimiter
        .unwrap_or_else(|| default_delimiter(path));
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    lines.advance(reader.position().byte());
    let names: Vec<String> = header
        .iter()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    let blank = |name: &String| {
        name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
            .is_empty()
    };
    if names.iter().all(blank) {
        return Err(IngestError::NoHeader {
            path: path.to_path_buf(),
        });
    }
    let map = ColumnMap::new(opts.table, &names).map_err(|d| d.into_error(path, "header"))?;
    loader.set_columns(map.ignored.clone(), map.missing_required.clone());
    // A required column the header lacks: every record is rejected for it.
    let missing = map.missing_column_problem();

    let mut record = ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        let line = lines.advance(reader.position().byte());
        if is_blank(&record, header.len()) {
            continue;
        }
        if let Some((column, problem)) = &missing {
            loader.reject(line, Some(column), problem, &raw(&record, delimiter))?;
            continue;
        }
        if record.len() != header.len() {
            let problem = Problem::new(
                RejectKind::FieldCount,
                format!("expected {} fields, found {}", header.len(), record.len()),
            );
            loader.reject(line, None, &problem, &raw(&record, delimiter))?;
            continue;
        }
        let cells: Vec<Cell<'_>> = map
            .target_to_source
            .iter()
            .map(|source| match source {
                None => Cell::Null,
                Some(i) => match std::str::from_utf8(&record[*i]) {
                    Ok(text) => Cell::Text(text),
                    Err(_) => Cell::InvalidUtf8,
                },
            })
            .collect();
        loader.record(line, &cells, || raw(&record, delimiter))?;
    }
    Ok(())
}

/// Counts physical lines in the bytes the CSV parser has consumed.
///
/// The file is read through [`Tee`], which keeps the bytes handed to the parser until the
/// parser reports (by its byte position) that a record used them; so at most the parser's
/// buffer plus one record are held.
struct LineTracker {
    pending: Rc<RefCell<VecDeque<u8>>>,
    consumed: u64,
    /// 1-based line number at byte `consumed`.
    line: u64,
}

/// A reader that copies what it reads into the tracker's pending bytes.
struct Tee<R> {
    inner: R,
    pending: Rc<RefCell<VecDeque<u8>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.borrow_mut().extend(&buf[..n]);
        Ok(n)
    }
}

impl LineTracker {
    fn wrap<R: Read>(inner: R) -> (Tee<R>, LineTracker) {
        let pending = Rc::new(RefCell::new(VecDeque::new()));
        let tee = Tee {
            inner,
            pending: pending.clone(),
        };
        let tracker = LineTracker {
            pending,
            consumed: 0,
            line: 1,
        };
        (tee, tracker)
    }

    /// The parser has consumed bytes up to `to`, ending one record: returns the line that
    /// record starts on, after the empty lines the parser skipped before it.
    fn advance(&mut self, to: u64) -> u64 {
        let n = usize::try_from(to.saturating_sub(self.consumed)).unwrap_or(usize::MAX);
        let mut pending = self.pending.borrow_mut();
        let n = n.min(pending.len());
        let mut start = None;
        for b in pending.drain(..n) {
            if start.is_none() && b != b'\n' && b != b'\r' {
                start = Some(self.line);
            }
            if b == b'\n' {
                self.line += 1;
            }
        }
        self.consumed = to;
        start.unwrap_or(self.line)
    }
}

/// A line with nothing but spaces (the csv crate already skips empty lines).
fn is_blank(record: &ByteRecord, header_len: usize) -> bool {
    header_len > 1 && record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace())
}

/// The record as it arrived, re-joined with the delimiter and re-quoted where needed.
fn raw(record: &ByteRecord, delimiter: u8) -> String {
    let mut writer = WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let written = writer
        .write_byte_record(record)
        .and_then(|()| Ok(writer.flush()?));
    let bytes = match (written, writer.get_ref()) {
        (Ok(()), bytes) => bytes.strip_suffix(b"\n").unwrap_or(bytes).to_vec(),
        // Writing to memory cannot fail; fall back to a plain join all the same.
        (Err(_), _) => record.iter().collect::<Vec<_>>().join(&delimiter),
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

fn csv_error(path: &Path, error: ::csv::Error) -> IngestError {
    let line = error.position().map(|p| p.line());
    match error.into_kind() {
        ::csv::ErrorKind::Io(source) => IngestError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => IngestError::Csv {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_requotes_fields_that_need_it() {
        let record = ByteRecord::from(vec!["a", "b,c", "line\nbreak", "say \"hi\"", ""]);
        assert_eq!(
            raw(&record, b','),
            "a,\"b,c\",\"line\nbreak\",\"say \"\"hi\"\"\","
        );
        let tsv = ByteRecord::from(vec!["a", "b,c"]);
        assert_eq!(raw(&tsv, b'\t'), "a\tb,c");
        let bad = ByteRecord::from(vec![&b"ok"[..], &b"\xff"[..]]);
        assert_eq!(raw(&bad, b','), "ok,\u{fffd}");
    }

    #[test]
    fn lines_are_counted_across_quoted_newlines_and_blank_lines() {
        let data = "h1,h2\r\na,\"x\r\ny\"\r\n\r\n\nb,c\n";
        let (tee, mut lines) = LineTracker::wrap(data.as_bytes());
        let mut reader = ReaderBuilder::new().flexible(true).from_reader(tee);
        reader.byte_headers().unwrap();
        assert_eq!(lines.advance(reader.position().byte()), 1);
        let mut record = ByteRecord::new();
        let mut starts = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            starts.push(lines.advance(reader.position().byte()));
        }
        assert_eq!(starts, [2, 6]);
    }

    #[test]
    fn only_whitespace_records_are_blank() {
        assert!(is_blank(&ByteRecord::from(vec!["  "]), 8));
        assert!(!is_blank(&ByteRecord::from(vec!["x"]), 8));
        assert!(!is_blank(&ByteRecord::from(vec!["", ""]), 8));
        assert!(!is_blank(&ByteRecord::from(vec![" "]), 1));
    }
}
