//! JSON-lines: one JSON object per line.
//!
//! Keys match columns like a CSV header does. Values may be strings, numbers (their text as
//! written by the parser, coerced like any text), booleans (`true`/`false`) or null; an array
//! or object value is kept as its JSON text. A record that lacks a required key is rejected
//! for that key: there is no header to reject the file by, and nothing is lost this way (the
//! whole line is kept in `raw`). `line` is the physical line number.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::columns::target_index;
use crate::loader::Loader;
use crate::rejects::{Problem, RejectKind};
use crate::rows::Cell;
use crate::{IngestError, LoadOptions, Result};

/// At most this many distinct unknown keys are listed in the report.
const MAX_IGNORED_LISTED: usize = 100;

pub(crate) fn read(path: &Path, opts: &LoadOptions, loader: &mut Loader<'_>) -> Result<()> {
    let io_error = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut reader = BufReader::new(file);
    let schema = opts.table.schema();
    let required: Vec<usize> = opts
        .table
        .required_columns()
        .iter()
        .filter_map(|c| schema.index_of(c).ok())
        .collect();
    let mut ignored = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io_error)? == 0 {
            break;
        }
        line += 1;
        let mut bytes = buf.as_slice();
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            let problem = Problem::new(RejectKind::InvalidUtf8, "invalid UTF-8");
            loader.reject(line, None, &problem, &String::from_utf8_lossy(bytes))?;
            continue;
        };
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(other) => {
                let problem = Problem::new(
                    RejectKind::InvalidJson,
                    format!(
                        "invalid JSON: expected an object, found {}",
                        json_type(&other)
                    ),
                );
                loader.reject(line, None, &problem, text)?;
                continue;
            }
            Err(e) => {
                let problem = Problem::new(RejectKind::InvalidJson, format!("invalid JSON: {e}"));
                loader.reject(line, None, &problem, text)?;
                continue;
            }
        };

        let mut values: Vec<Option<Cow<'_, str>>> = vec![None; schema.fields().len()];
        let mut present = vec![false; schema.fields().len()];
        for (key, value) in &object {
            let Some(target) = target_index(opts.table, key) else {
                if ignored.len() < MAX_IGNORED_LISTED {
                    ignored.insert(key.clone());
                }
                continue;
            };
            present[target] = true;
            values[target] = as_text(value);
        }
        if let Some(&absent) = required.iter().find(|&&c| !present[c]) {
            let column = schema.field(absent).name();
            missing.insert(column.clone());
            let problem = Problem::new(
                RejectKind::MissingColumn,
                format!("missing column '{column}' in record"),
            );
            loader.reject(line, Some(column), &problem, text)?;
            continue;
        }
        let cells: Vec<Cell<'_>> = values
            .iter()
            .map(|v| v.as_deref().map_or(Cell::Null, Cell::Text))
            .collect();
        loader.record(line, &cells, || text.to_string())?;
    }
    loader.set_columns(ignored.into_iter().collect(), missing.into_iter().collect());
    Ok(())
}

/// A JSON value as text to coerce; `None` for null.
fn as_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        nested => Some(Cow::Owned(nested.to_string())),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_text() {
        let v: Value = serde_json::from_str(r#"[null, "a", true, 12.5, 7, {"k": 1}]"#).unwrap();
        let texts: Vec<_> = v.as_array().unwrap().iter().map(as_text).collect();
        assert_eq!(texts[0], None);
        assert_eq!(texts[1].as_deref(), Some("a"));
        assert_eq!(texts[2].as_deref(), Some("true"));
        assert_eq!(texts[3].as_deref(), Some("12.5"));
        assert_eq!(texts[4].as_deref(), Some("7"));
        assert_eq!(texts[5].as_deref(), Some(r#"{"k":1}"#));
    }
}
