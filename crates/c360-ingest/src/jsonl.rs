//! JSON-lines: one JSON object per line.
//!
//! Keys match columns like a CSV header does. A value is coerced from its text as written in
//! the file: a string's contents, a number's digits (`12.50`, `1e5` — never re-rendered through
//! a float, so exponent notation is rejected here as in CSV), `true`/`false`; null is NULL. An
//! object or array where one value belongs is rejected (`nested_value`). A record is rejected
//! when two of its keys name the same column (`duplicate_column`: no rule silently picks one),
//! or when it lacks a required key (there is no header to reject the file by, and nothing is
//! lost this way: the whole line is kept in `raw`). `line` is the physical line number.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use c360_bronze::BronzeTable;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::columns::{target_index, Duplicate};
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
    let mut keys = Keys::new(opts.table);
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
        match std::str::from_utf8(bytes) {
            Ok(text) => read_record(&mut keys, loader, line, text)?,
            Err(_) => {
                let problem = Problem::new(RejectKind::InvalidUtf8, "invalid UTF-8");
                loader.reject(line, None, &problem, &String::from_utf8_lossy(bytes))?;
            }
        }
    }
    loader.set_columns(
        keys.ignored.into_iter().collect(),
        keys.missing.into_iter().collect(),
    );
    Ok(())
}

/// What the keys of the records so far said about the file's columns.
struct Keys {
    table: BronzeTable,
    /// Target indexes of the required columns.
    required: Vec<usize>,
    ignored: BTreeSet<String>,
    missing: BTreeSet<String>,
}

impl Keys {
    fn new(table: BronzeTable) -> Keys {
        let schema = table.schema();
        Keys {
            table,
            required: table
                .required_columns()
                .iter()
                .filter_map(|c| schema.index_of(c).ok())
                .collect(),
            ignored: BTreeSet::new(),
            missing: BTreeSet::new(),
        }
    }
}

/// One line that is UTF-8 and not blank: typed, or rejected with its first problem.
fn read_record(keys: &mut Keys, loader: &mut Loader<'_>, line: u64, text: &str) -> Result<()> {
    let members = match serde_json::from_str::<Members<'_>>(text) {
        Ok(Members(members)) => members,
        Err(e) => {
            let reason = if e.is_data() {
                // Valid JSON, but not an object.
                format!(
                    "invalid JSON: expected an object, found {}",
                    json_type(text)
                )
            } else {
                format!("invalid JSON: {e}")
            };
            let problem = Problem::new(RejectKind::InvalidJson, reason);
            return loader.reject(line, None, &problem, text);
        }
    };
    let schema = keys.table.schema();
    let mut names: Vec<Option<&str>> = vec![None; schema.fields().len()];
    let mut values: Vec<Value<'_>> = vec![Value::Null; schema.fields().len()];
    for (key, raw) in &members {
        let Some(target) = target_index(keys.table, key) else {
            if keys.ignored.len() < MAX_IGNORED_LISTED {
                keys.ignored.insert(key.to_string());
            }
            continue;
        };
        if let Some(first) = names[target] {
            let column = schema.field(target).name();
            let duplicate = Duplicate {
                column: column.clone(),
                first: first.to_string(),
                second: key.to_string(),
            };
            let problem = Problem::new(
                RejectKind::DuplicateColumn,
                format!("{duplicate} in record"),
            );
            return loader.reject(line, Some(column), &problem, text);
        }
        names[target] = Some(key);
        values[target] = Value::of(raw);
    }
    if let Some(&absent) = keys.required.iter().find(|&&c| names[c].is_none()) {
        let column = schema.field(absent).name();
        keys.missing.insert(column.clone());
        let problem = Problem::new(
            RejectKind::MissingColumn,
            format!("missing column '{column}' in record"),
        );
        return loader.reject(line, Some(column), &problem, text);
    }
    let cells: Vec<Cell<'_>> = values.iter().map(Value::cell).collect();
    loader.record(line, &cells, || text.to_string())
}

/// The members of one JSON object in the order written, duplicate keys kept, each value as the
/// text it was written as.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    members.push((key.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A key, borrowed from the line unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A member's value, ready to become a cell.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Null,
    /// A string's contents, or the text of a number or boolean as written.
    Text(Cow<'a, str>),
    /// An object or array: what it is, and its JSON text.
    Nested(&'static str, &'a str),
}

impl<'a> Value<'a> {
    fn of(raw: &'a RawValue) -> Value<'a> {
        let json = raw.get();
        match json.as_bytes().first() {
            Some(b'"') => Value::Text(match serde_json::from_str::<&str>(json) {
                Ok(plain) => Cow::Borrowed(plain),
                // Escapes: the string is decoded into a copy (it was parsed once already).
                Err(_) => Cow::Owned(serde_json::from_str::<String>(json).unwrap_or_default()),
            }),
            Some(b'n') => Value::Null,
            Some(b'{' | b'[') => Value::Nested(json_type(json), json),
            // A number or a boolean: its text as written.
            _ => Value::Text(Cow::Borrowed(json)),
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            Value::Null => Cell::Null,
            Value::Text(text) => Cell::Text(text),
            Value::Nested(found, text) => Cell::Nested { found, text },
        }
    }
}

/// What kind of JSON value `json` (valid JSON) is, from its first character.
fn json_type(json: &str) -> &'static str {
    match json.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<(String, Value<'_>)> {
        let Members(members) = serde_json::from_str(line).unwrap();
        members
            .into_iter()
            .map(|(k, v)| (k.into_owned(), Value::of(v)))
            .collect()
    }

    #[test]
    fn values_keep_their_text_as_written() {
        let line =
            r#"{"a":null,"b":"x\"y","c":true,"d":12.50,"e":1e5,"f":-0,"g":{"k":[1]},"h":[ 1 ]}"#;
        let got = values(line);
        let text = |s: &str| Value::Text(Cow::Owned(s.to_string()));
        assert_eq!(got[0].1, Value::Null);
        assert_eq!(got[1].1, text("x\"y"));
        assert_eq!(got[2].1, text("true"));
        assert_eq!(got[3].1, text("12.50"));
        assert_eq!(got[4].1, text("1e5"));
        assert_eq!(got[5].1, text("-0"));
        assert_eq!(got[6].1, Value::Nested("an object", r#"{"k":[1]}"#));
        assert_eq!(got[7].1, Value::Nested("an array", "[ 1 ]"));
        assert_eq!(got[0].0, "a");
    }

    #[test]
    fn duplicate_keys_are_all_kept() {
        let got = values(r#"{"k":1,"K":2,"k":3,"\u006b":4}"#);
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["k", "K", "k", "k"]);
    }

    #[test]
    fn only_objects_are_records() {
        for (line, found) in [
            ("[1]", "an array"),
            ("\"x\"", "a string"),
            ("3", "a number"),
        ] {
            let err = serde_json::from_str::<Members<'_>>(line).err().unwrap();
            assert!(err.is_data(), "{line}");
            assert_eq!(json_type(line), found);
        }
        assert!(!serde_json::from_str::<Members<'_>>("{\"a\":1} x")
            .err()
            .unwrap()
            .is_data());
    }
}
