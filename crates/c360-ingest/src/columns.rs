//! Matching a file's column names to the columns of a bronze table.
//!
//! Names match case-insensitively, ignoring surrounding spaces (and a stray byte-order mark).
//! Columns the table does not have are ignored and reported. Two columns that match the same
//! target column are an error ([`Duplicate`]), the same in every format: no rule silently picks
//! one of them.

use std::path::Path;

use c360_bronze::BronzeTable;

use crate::rejects::{Problem, RejectKind};
use crate::IngestError;

/// The target column of `table` that a file column called `name` fills, if any.
pub(crate) fn target_index(table: BronzeTable, name: &str) -> Option<usize> {
    let name = name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    table
        .schema()
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case(name))
}

/// Two names of one file (header, schema or JSON record) that fill the same target column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The target column.
    pub(crate) column: String,
    /// The first name that matched it, as written.
    pub(crate) first: String,
    /// The second name that matched it, as written.
    pub(crate) second: String,
}

impl Duplicate {
    /// The error of a file whose `place` (`header`, `schema`) names the column twice.
    pub(crate) fn into_error(self, path: &Path, place: &'static str) -> IngestError {
        IngestError::DuplicateColumn {
            path: path.to_path_buf(),
            place,
            column: self.column,
            first: self.first,
            second: self.second,
        }
    }
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "duplicate column '{}' (named by '{}' and '{}')",
            self.column, self.first, self.second
        )
    }
}

/// How the columns of one file (with a header or a schema) map to a bronze table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnMap {
    /// For each target column (in schema order), the index of the file column that fills it.
    pub(crate) target_to_source: Vec<Option<usize>>,
    /// File columns that fill no target column, in file order, as written.
    pub(crate) ignored: Vec<String>,
    /// Required target columns the file lacks, in the table's required order.
    pub(crate) missing_required: Vec<String>,
}

impl ColumnMap {
    /// The first required column the file lacks, with the problem every record of the file
    /// is rejected for.
    pub(crate) fn missing_column_problem(&self) -> Option<(String, Problem)> {
        self.missing_required.first().map(|col| {
            let problem = Problem::new(
                RejectKind::MissingColumn,
                format!("missing column '{col}' in file header"),
            );
            (col.clone(), problem)
        })
    }

    /// Maps the file columns `names` (in file order) onto `table`, or says which target column
    /// two of them both fill.
    pub(crate) fn new<S: AsRef<str>>(
        table: BronzeTable,
        names: &[S],
    ) -> Result<ColumnMap, Duplicate> {
        let schema = table.schema();
        let mut target_to_source: Vec<Option<usize>> = vec![None; schema.fields().len()];
        let mut ignored = Vec::new();
        for (source, name) in names.iter().enumerate() {
            let name = name.as_ref();
            match target_index(table, name) {
                None => ignored.push(name.to_string()),
                Some(target) => match target_to_source[target] {
                    None => target_to_source[target] = Some(source),
                    Some(first) => {
                        return Err(Duplicate {
                            column: schema.field(target).name().clone(),
                            first: names[first].as_ref().to_string(),
                            second: name.to_string(),
                        })
                    }
                },
            }
        }
        let missing_required = table
            .required_columns()
            .iter()
            .filter(|col| {
                let target = schema
                    .index_of(col)
                    .expect("required columns are in the schema");
                target_to_source[target].is_none()
            })
            .map(|col| col.to_string())
            .collect();
        Ok(ColumnMap {
            target_to_source,
            ignored,
            missing_required,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_case_and_space_and_reports_extras() {
        let t = BronzeTable::Transactions;
        let header = [
            " Transaction_ID ",
            "\u{feff}customer_id",
            "TRANSACTION_DATE",
            "transaction_amount",
            "merchant_name",
            "merchant_category",
            "Channel",
            "status",
            "note",
            "NOTE",
        ];
        let map = ColumnMap::new(t, &header).unwrap();
        assert_eq!(map.target_to_source[0], Some(0));
        assert_eq!(map.target_to_source[1], Some(1));
        assert_eq!(map.target_to_source[6], Some(6));
        assert_eq!(map.target_to_source[8], None); // ingested_at
        assert_eq!(map.ignored, ["note", "NOTE"]);
        assert!(map.missing_required.is_empty());
    }

    #[test]
    fn two_names_for_one_column_are_a_duplicate() {
        let t = BronzeTable::Transactions;
        let err = ColumnMap::new(t, &["customer_id", "status", " Customer_ID"]).unwrap_err();
        assert_eq!(err.column, "customer_id");
        assert_eq!(
            (err.first.as_str(), err.second.as_str()),
            ("customer_id", " Customer_ID")
        );
        assert_eq!(
            err.to_string(),
            "duplicate column 'customer_id' (named by 'customer_id' and ' Customer_ID')"
        );
    }

    #[test]
    fn reports_missing_required_columns_in_order() {
        let map = ColumnMap::new(BronzeTable::Transactions, &["status", "customer_id"]).unwrap();
        assert_eq!(map.missing_required[0], "transaction_id");
        assert_eq!(map.missing_required.len(), 6);
        assert_eq!(target_index(BronzeTable::Customers, "AGE"), Some(4));
        assert_eq!(target_index(BronzeTable::Customers, "ages"), None);
    }
}
