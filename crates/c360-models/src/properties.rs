//! The schema of property YAML files (`models/**/*.yml`, `seeds/*.yml`), in dbt's v2 shape:
//!
//! ```yaml
//! version: 2
//! sources:
//!   - name: bronze
//!     tables:
//!       - name: transactions
//! models:
//!   - name: stg_customers
//!     description: One row per customer.
//!     config: {materialized: table, tags: [daily]}
//!     columns:
//!       - name: customer_id
//!         tests: [unique, not_null]
//!       - name: state
//!         tests:
//!           - accepted_values: {values: [CA, NY], config: {severity: warn}}
//! ```
//!
//! Every level is strict (`deny_unknown_fields`): a misspelled key is an error with file and
//! line, never a silently ignored setting. Tests are written as dbt writes them — a bare name
//! (`unique`) or a one-key map (`{accepted_values: {values: [...]}}`) whose arguments may carry
//! a `config:`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::tests_def::TestConfig;

/// One property file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PropertyFile {
    /// dbt's schema version marker; accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    pub version: Option<u32>,
    #[serde(default)]
    pub models: Vec<ModelProperties>,
    #[serde(default)]
    pub seeds: Vec<SeedProperties>,
    #[serde(default)]
    pub sources: Vec<SourceProperties>,
}

/// What a property file says about one model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelProperties {
    /// The model (its file stem).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The YAML level of configuration.
    #[serde(default)]
    pub config: Option<ModelConfig>,
    /// Documented (and tested) columns, in file order.
    #[serde(default)]
    pub columns: Vec<ColumnProperties>,
    /// Model-level tests (`expression` only; the others need a column).
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// What a property file says about one seed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProperties {
    /// The seed (its file stem).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Documented (and tested) columns.
    #[serde(default)]
    pub columns: Vec<ColumnProperties>,
    /// Seed-level tests.
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// A declared source: a lake layer (usually `bronze`) and the tables models may read from it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceProperties {
    /// The source name, also the schema of its relations (`bronze.transactions`).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Its tables.
    #[serde(default)]
    pub tables: Vec<SourceTableProperties>,
}

/// One table of a source.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceTableProperties {
    /// The table name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Documented (and tested) columns.
    #[serde(default)]
    pub columns: Vec<ColumnProperties>,
    /// Table-level tests.
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// One documented column.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnProperties {
    /// The column name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The expected SQL type, documentation only for now.
    #[serde(default)]
    pub data_type: Option<String>,
    /// Tests of this column.
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// One generic test as written: what to check and its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSpec {
    /// What to check.
    pub kind: TestKind,
    /// Severity, thresholds, `where`, `store_failures`.
    pub config: TestConfig,
}

/// The generic tests. Each compiles to a query returning the failing rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TestKind {
    /// No two rows share a non-NULL value.
    Unique,
    /// No NULLs.
    NotNull,
    /// Every non-NULL value is one of `values`.
    AcceptedValues {
        /// The allowed values (strings, numbers, booleans).
        values: Vec<serde_json::Value>,
        /// Quote strings as SQL literals (default); false writes them as SQL.
        quote: bool,
    },
    /// Every non-NULL value exists in `to`'s `field`.
    Relationships {
        /// `ref('model')` or `source('name', 'table')`.
        to: String,
        /// The column of `to`.
        field: String,
    },
    /// A boolean SQL expression every row satisfies. On a column, the expression continues the
    /// column (`expression: ">= 0"` checks `col >= 0`), as dbt_utils' `expression_is_true`.
    Expression {
        /// The expression.
        expression: String,
    },
    /// Every non-NULL value lies between `min_value` and `max_value` (either may be absent).
    AcceptedRange {
        /// Lower bound.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_value: Option<serde_json::Value>,
        /// Upper bound.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_value: Option<serde_json::Value>,
        /// Bounds included (default true).
        inclusive: bool,
    },
}

impl TestKind {
    /// The test's name as written in YAML (and the first part of generated test names).
    pub fn name(&self) -> &'static str {
        match self {
            TestKind::Unique => "unique",
            TestKind::NotNull => "not_null",
            TestKind::AcceptedValues { .. } => "accepted_values",
            TestKind::Relationships { .. } => "relationships",
            TestKind::Expression { .. } => "expression",
            TestKind::AcceptedRange { .. } => "accepted_range",
        }
    }
}

const TEST_NAMES: &[&str] = &[
    "unique",
    "not_null",
    "accepted_values",
    "relationships",
    "expression",
    "accepted_range",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {
    #[serde(default)]
    config: Option<TestConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptedValuesArgs {
    values: Vec<serde_json::Value>,
    #[serde(default)]
    quote: Option<bool>,
    #[serde(default)]
    config: Option<TestConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelationshipsArgs {
    to: String,
    field: String,
    #[serde(default)]
    config: Option<TestConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpressionArgs {
    expression: String,
    #[serde(default)]
    config: Option<TestConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptedRangeArgs {
    #[serde(default)]
    min_value: Option<serde_json::Value>,
    #[serde(default)]
    max_value: Option<serde_json::Value>,
    #[serde(default)]
    inclusive: Option<bool>,
    #[serde(default)]
    config: Option<TestConfig>,
}

impl<'de> Deserialize<'de> for TestSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TestSpecVisitor)
    }
}

struct TestSpecVisitor;

impl<'de> Visitor<'de> for TestSpecVisitor {
    type Value = TestSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a test name (unique, not_null) or a one-key map {test_name: {arguments}}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TestSpec, E> {
        let kind = match v {
            "unique" => TestKind::Unique,
            "not_null" => TestKind::NotNull,
            other if TEST_NAMES.contains(&other) => {
                return Err(E::custom(format!(
                    "test '{other}' needs arguments: write `{other}: {{...}}`"
                )))
            }
            other => return Err(E::unknown_variant(other, TEST_NAMES)),
        };
        Ok(TestSpec {
            kind,
            config: TestConfig::default(),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TestSpec, A::Error> {
        let name: String = map
            .next_key()?
            .ok_or_else(|| de::Error::custom("empty test entry"))?;
        let (kind, config) = match name.as_str() {
            "unique" | "not_null" => {
                let args: Option<NoArgs> = map.next_value()?;
                let kind = if name == "unique" {
                    TestKind::Unique
                } else {
                    TestKind::NotNull
                };
                (kind, args.and_then(|a| a.config))
            }
            "accepted_values" => {
                let a: AcceptedValuesArgs = map.next_value()?;
                if a.values.is_empty() {
                    return Err(de::Error::custom(
                        "accepted_values needs at least one value",
                    ));
                }
                let kind = TestKind::AcceptedValues {
                    values: a.values,
                    quote: a.quote.unwrap_or(true),
                };
                (kind, a.config)
            }
            "relationships" => {
                let a: RelationshipsArgs = map.next_value()?;
                (
                    TestKind::Relationships {
                        to: a.to,
                        field: a.field,
                    },
                    a.config,
                )
            }
            "expression" => {
                let a: ExpressionArgs = map.next_value()?;
                (
                    TestKind::Expression {
                        expression: a.expression,
                    },
                    a.config,
                )
            }
            "accepted_range" => {
                let a: AcceptedRangeArgs = map.next_value()?;
                if a.min_value.is_none() && a.max_value.is_none() {
                    return Err(de::Error::custom(
                        "accepted_range needs min_value, max_value or both",
                    ));
                }
                let kind = TestKind::AcceptedRange {
                    min_value: a.min_value,
                    max_value: a.max_value,
                    inclusive: a.inclusive.unwrap_or(true),
                };
                (kind, a.config)
            }
            other => return Err(de::Error::unknown_variant(other, TEST_NAMES)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a test entry has one key, the test's name; found '{name}' and '{extra}' \
                 (put arguments and config under '{name}:')"
            )));
        }
        Ok(TestSpec {
            kind,
            config: config.unwrap_or_default(),
        })
    }
}

/// The 1-based line of the `name: <name>` entry in a YAML text (for errors about an entry that
/// parsed but means nothing, like properties of an unknown model).
pub(crate) fn entry_line(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("name:").is_some_and(|rest| {
                let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
                v == name
            })
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests_def::Severity;

    #[test]
    fn every_test_form_parses() {
        let yaml = r#"
- unique
- not_null: {config: {severity: warn}}
- accepted_values: {values: [a, 1, true], quote: true}
- relationships: {to: "ref('dim')", field: id}
- expression: {expression: "> 0"}
- accepted_range: {min_value: 0, max_value: 100, inclusive: false, config: {error_if: ">10"}}
"#;
        let specs: Vec<TestSpec> = serde_norway::from_str(yaml).unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.kind.name()).collect();
        assert_eq!(names, TEST_NAMES);
        assert_eq!(specs[1].config.severity, Some(Severity::Warn));
        assert_eq!(specs[5].config.error_if.unwrap().to_string(), ">10");
    }

    #[test]
    fn mistakes_are_errors_with_a_line() {
        let err = serde_norway::from_str::<Vec<TestSpec>>("- uniqe\n").unwrap_err();
        assert!(err.to_string().contains("uniqe"), "{err}");
        let err = serde_norway::from_str::<Vec<TestSpec>>(
            "- unique\n- accepted_values:\n    valuez: [a]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("valuez"), "{err}");
        assert_eq!(err.location().unwrap().line(), 3);
        assert!(serde_norway::from_str::<Vec<TestSpec>>("- accepted_values\n").is_err());
    }

    #[test]
    fn entry_lines_are_found() {
        let text = "models:\n  - name: a\n  - name: \"b\"\n";
        assert_eq!(entry_line(text, "b"), Some(3));
        assert_eq!(entry_line(text, "c"), None);
    }
}
