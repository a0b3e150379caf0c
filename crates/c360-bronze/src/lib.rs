//! The bronze contract: the names and Arrow schemas of the raw tables of SPEC §1.
//!
//! Everything that produces bronze rows (the synthetic generator in `c360-gen`, the file
//! loader in `c360-ingest`) and everything that stores them (`c360-lake`) agrees on the
//! schemas defined here, so a row made by one is readable by the other without casts.
//!
//! Bronze keeps what arrived: every column is nullable, money is `DECIMAL(12,2)`, and
//! timestamps are microseconds in UTC (Delta's `timestamp` type, readable by every Delta
//! client). Rows that could not be typed at all go to the `_rejected_<table>` tables, whose
//! schema is [`rejected_schema`].
//!
//! This crate is not for parsing or validating values; it only says what the tables look like.
//!
//! ```
//! use c360_bronze::BronzeTable;
//! let schema = BronzeTable::Transactions.schema();
//! assert_eq!(schema.field(0).name(), "transaction_id");
//! assert_eq!(BronzeTable::Transactions.rejected_table_name(), "_rejected_transactions");
//! ```

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Precision and scale of every money column in bronze, silver and the fact table.
pub const MONEY_PRECISION: u8 = 12;
/// Scale of every money column: cents.
pub const MONEY_SCALE: i8 = 2;
/// The `source` value of rows made by the synthetic generator (SPEC §1).
pub const GENERATOR_SOURCE: &str = "generator";

/// Arrow type of a bronze money column.
pub fn money_type() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

/// Arrow type of a bronze timestamp column: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The raw tables of the bronze layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BronzeTable {
    /// `bronze/customers`: one row per customer record received.
    Customers,
    /// `bronze/transactions`: one row per transaction record received.
    Transactions,
}

impl BronzeTable {
    /// Both bronze tables, in the order they are written.
    pub const ALL: [BronzeTable; 2] = [BronzeTable::Customers, BronzeTable::Transactions];

    /// The table's name inside the bronze layer.
    pub fn name(self) -> &'static str {
        match self {
            BronzeTable::Customers => "customers",
            BronzeTable::Transactions => "transactions",
        }
    }

    /// The name of the table that keeps this table's rejected input rows.
    pub fn rejected_table_name(self) -> &'static str {
        match self {
            BronzeTable::Customers => "_rejected_customers",
            BronzeTable::Transactions => "_rejected_transactions",
        }
    }

    /// Parses a table name as given on the command line (`customers`, `transactions`).
    pub fn from_name(name: &str) -> Option<BronzeTable> {
        BronzeTable::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            BronzeTable::Customers => CUSTOMERS.clone(),
            BronzeTable::Transactions => TRANSACTIONS.clone(),
        }
    }

    /// Columns a loaded file must have (matched case-insensitively). The others may be absent
    /// and are then NULL (`ingested_at` and `source` are filled in by the loader).
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            BronzeTable::Customers => &[
                "customer_id",
                "first_name",
                "last_name",
                "email",
                "age",
                "state",
                "city",
                "employment_status",
                "card_type",
                "credit_limit",
                "account_open_date",
                "updated_at",
            ],
            BronzeTable::Transactions => &[
                "transaction_id",
                "customer_id",
                "transaction_date",
                "transaction_amount",
                "merchant_name",
                "merchant_category",
                "channel",
                "status",
            ],
        }
    }
}

impl std::fmt::Display for BronzeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

static CUSTOMERS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("customer_id"),
        text("first_name"),
        text("last_name"),
        text("email"),
        Field::new("age", DataType::Int32, true),
        text("state"),
        text("city"),
        text("employment_status"),
        text("card_type"),
        Field::new("credit_limit", money_type(), true),
        Field::new("account_open_date", DataType::Date32, true),
        text("customer_segment"),
        text("decline_type"),
        Field::new("updated_at", timestamp_type(), true),
        Field::new("ingested_at", timestamp_type(), true),
        text("source"),
    ]))
});

static TRANSACTIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("transaction_id"),
        text("customer_id"),
        Field::new("transaction_date", timestamp_type(), true),
        Field::new("transaction_amount", money_type(), true),
        text("merchant_name"),
        text("merchant_category"),
        text("channel"),
        text("status"),
        Field::new("ingested_at", timestamp_type(), true),
        text("source"),
    ]))
});

static REJECTED: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("load_id", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("line", DataType::Int64, false),
        text("field"),
        Field::new("reason", DataType::Utf8, false),
        text("raw"),
        Field::new("rejected_at", timestamp_type(), false),
    ]))
});

/// Schema of `bronze/_rejected_<table>`: one row per input record that could not be typed.
///
/// `line` is the 1-based physical line of a CSV or JSON-lines file (the header is line 1 of
/// a CSV), or the 1-based row number of a Parquet file. `raw` holds the record as it arrived
/// (invalid UTF-8 bytes replaced by U+FFFD), so nothing that arrived is lost.
pub fn rejected_schema() -> SchemaRef {
    REJECTED.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_follow_spec_section_1() {
        let names: Vec<_> = BronzeTable::Transactions
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "transaction_id",
                "customer_id",
                "transaction_date",
                "transaction_amount",
                "merchant_name",
                "merchant_category",
                "channel",
                "status",
                "ingested_at",
                "source"
            ]
        );
        assert_eq!(BronzeTable::Customers.schema().fields().len(), 16);
        assert_eq!(
            BronzeTable::Customers
                .schema()
                .field_with_name("credit_limit")
                .unwrap()
                .data_type(),
            &money_type()
        );
        for t in BronzeTable::ALL {
            for col in t.required_columns() {
                assert!(t.schema().field_with_name(col).is_ok(), "{col}");
            }
        }
    }

    #[test]
    fn table_names_parse_case_insensitively() {
        assert_eq!(
            BronzeTable::from_name(" Customers "),
            Some(BronzeTable::Customers)
        );
        assert_eq!(BronzeTable::from_name("nope"), None);
    }
}
