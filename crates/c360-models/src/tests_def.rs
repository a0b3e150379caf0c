//! Data tests: generic tests declared in property YAML expanded into [`TestNode`]s with
//! deterministic names and SQL that returns the failing rows, plus the severity and threshold
//! rules that turn a failure count into a [`TestStatus`]. Singular tests (`tests/*.sql`) are
//! rendered by the manifest phase with the models' Jinja environment and become `TestNode`s too.
//!
//! The SQL is plain ANSI that DataFusion runs as is; a test passes when its query returns
//! nothing (unless `warn_if` / `error_if` say otherwise).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::properties::{ColumnProperties, TestKind, TestSpec};

/// How bad a failing test is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Failures fail the run when `error_if` matches.
    #[default]
    Error,
    /// Failures are reported, never fatal.
    Warn,
}

/// A comparison of the failure count with a number: `>0`, `>=10`, `!=0`, `=0`, `<5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    op: CmpOp,
    value: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Threshold {
    /// dbt's default for both `warn_if` and `error_if`: any failure.
    pub const ANY_FAILURE: Threshold = Threshold {
        op: CmpOp::Ne,
        value: 0,
    };

    /// Whether `failures` satisfies the comparison.
    pub fn matches(self, failures: u64) -> bool {
        match self.op {
            CmpOp::Gt => failures > self.value,
            CmpOp::Ge => failures >= self.value,
            CmpOp::Lt => failures < self.value,
            CmpOp::Le => failures <= self.value,
            CmpOp::Eq => failures == self.value,
            CmpOp::Ne => failures != self.value,
        }
    }
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Threshold, String> {
        let t = s.trim();
        let (op, rest) = [
            (">=", CmpOp::Ge),
            ("<=", CmpOp::Le),
            ("!=", CmpOp::Ne),
            ("<>", CmpOp::Ne),
            ("==", CmpOp::Eq),
            (">", CmpOp::Gt),
            ("<", CmpOp::Lt),
            ("=", CmpOp::Eq),
        ]
        .iter()
        .find_map(|(p, op)| t.strip_prefix(p).map(|rest| (*op, rest)))
        .ok_or_else(|| {
            format!("invalid threshold '{s}': expected a comparison like '>0' or '>=10'")
        })?;
        let value = rest.trim().parse().map_err(|_| {
            format!(
                "invalid threshold '{s}': '{}' is not a whole number",
                rest.trim()
            )
        })?;
        Ok(Threshold { op, value })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
        };
        write!(f, "{op}{}", self.value)
    }
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A test's configuration as written (per test in YAML, or `config()` in a singular test).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConfig {
    /// `severity: error|warn`.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// `warn_if: ">0"`.
    #[serde(default)]
    pub warn_if: Option<Threshold>,
    /// `error_if: ">10"`.
    #[serde(default)]
    pub error_if: Option<Threshold>,
    /// `store_failures: true` keeps the failing rows in a table.
    #[serde(default)]
    pub store_failures: Option<bool>,
    /// `where: "..."` limits the tested rows.
    #[serde(default, rename = "where")]
    pub where_clause: Option<String>,
    /// `audit: true` makes `c360 run` execute the test too, right after the models it reads
    /// (SQLMesh's blocking audits): an invariant a run must never break silently.
    #[serde(default)]
    pub audit: Option<bool>,
}

impl TestConfig {
    /// Applies dbt's defaults.
    pub fn resolve(&self) -> TestSettings {
        TestSettings {
            severity: self.severity.unwrap_or_default(),
            warn_if: self.warn_if.unwrap_or(Threshold::ANY_FAILURE),
            error_if: self.error_if.unwrap_or(Threshold::ANY_FAILURE),
            store_failures: self.store_failures.unwrap_or(false),
            where_clause: self.where_clause.clone(),
            audit: self.audit.unwrap_or(false),
        }
    }
}

/// A test's configuration with defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestSettings {
    /// `error` or `warn`.
    pub severity: Severity,
    /// When failures warn.
    pub warn_if: Threshold,
    /// When failures are errors (only with severity `error`).
    pub error_if: Threshold,
    /// Keep the failing rows in a table.
    pub store_failures: bool,
    /// Applied to the tested relation before the check.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub where_clause: Option<String>,
    /// Also run by `c360 run` (see [`TestConfig::audit`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub audit: bool,
}

/// What a test's failure count means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    /// Nothing to report.
    Pass,
    /// Reported, not fatal.
    Warn,
    /// Fails the run.
    Error,
}

impl TestSettings {
    /// dbt's rule: with severity `error`, `error_if` decides an error first; otherwise
    /// `warn_if` decides a warning.
    pub fn status(&self, failures: u64) -> TestStatus {
        if self.severity == Severity::Error && self.error_if.matches(failures) {
            TestStatus::Error
        } else if self.warn_if.matches(failures) {
            TestStatus::Warn
        } else {
            TestStatus::Pass
        }
    }
}

/// A data test ready to run: its query returns the failing rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestNode {
    /// Deterministic name, e.g. `unique_stg_customers_customer_id`.
    pub name: String,
    /// The YAML file declaring it, or the singular test's `.sql`.
    pub path: String,
    /// `unique`, ..., or `singular`.
    pub kind: String,
    /// Generic tests: the arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<TestKind>,
    /// Generic tests: the node under test (`model.x`, `seed.x`, `source.s.t`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_node: Option<String>,
    /// Column tests: the column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Node ids the query reads.
    pub depends_on: BTreeSet<String>,
    /// The query returning failing rows.
    pub sql: String,
    /// Severity and thresholds.
    pub settings: TestSettings,
}

/// A node whose YAML declares tests: what the generated SQL reads and how tests are named.
#[derive(Debug, Clone)]
pub(crate) struct TestTarget<'a> {
    /// `model.x`, `seed.x`, `source.s.t`.
    pub id: String,
    /// Name part of generated test names (`stg_customers`, `source_bronze_transactions`).
    pub name_part: String,
    /// The relation the SQL reads.
    pub relation: String,
    /// The declaring YAML file.
    pub path: String,
    pub columns: &'a [ColumnProperties],
    pub node_tests: &'a [TestSpec],
}

/// Why a generic test could not be built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TestIssue {
    pub test: String,
    pub message: String,
}

/// Resolves `relationships.to` (`ref('x')` / `source('s','t')`) into (node id, relation).
pub(crate) type ResolveTo<'a> = dyn Fn(&str) -> Result<(String, String), String> + 'a;

/// Expands every test declared on `target`, in file order.
pub(crate) fn expand(
    target: &TestTarget<'_>,
    resolve_to: &ResolveTo<'_>,
) -> Result<Vec<TestNode>, TestIssue> {
    let mut out = Vec::new();
    for spec in target.node_tests {
        out.push(build(target, None, spec, resolve_to)?);
    }
    for column in target.columns {
        for spec in &column.tests {
            out.push(build(target, Some(&column.name), spec, resolve_to)?);
        }
    }
    Ok(out)
}

fn build(
    target: &TestTarget<'_>,
    column: Option<&str>,
    spec: &TestSpec,
    resolve_to: &ResolveTo<'_>,
) -> Result<TestNode, TestIssue> {
    let settings = spec.config.resolve();
    let kind = spec.kind.name();
    let issue = |message: String| TestIssue {
        test: format!(
            "{kind} on {}{}",
            target.id,
            column.map(|c| format!(".{c}")).unwrap_or_default()
        ),
        message,
    };
    let mut name = format!("{kind}_{}", target.name_part);
    if let Some(c) = column {
        name.push('_');
        name.push_str(c);
    }
    let from = |alias: &str| match &settings.where_clause {
        Some(w) => format!("(SELECT * FROM {} WHERE {w}) AS {alias}", target.relation),
        None if alias == "tested" => target.relation.clone(),
        None => format!("{} AS {alias}", target.relation),
    };
    let mut depends_on = BTreeSet::from([target.id.clone()]);
    let sql = match (&spec.kind, column) {
        (TestKind::Expression { expression }, col) => {
            name.push('_');
            name.push_str(&slug(expression));
            let check = match col {
                Some(c) => format!("{c} {expression}"),
                None => expression.clone(),
            };
            format!("SELECT *\nFROM {}\nWHERE NOT ({check})", from("tested"))
        }
        (_, None) => {
            return Err(issue(
                "needs a column: declare it under the column's tests".into(),
            ))
        }
        (TestKind::Unique, Some(c)) => format!(
            "SELECT {c} AS unique_field, COUNT(*) AS n_records\nFROM {}\nWHERE {c} IS NOT NULL\n\
             GROUP BY {c}\nHAVING COUNT(*) > 1",
            from("tested")
        ),
        (TestKind::NotNull, Some(c)) => {
            format!("SELECT *\nFROM {}\nWHERE {c} IS NULL", from("tested"))
        }
        (TestKind::AcceptedValues { values, quote }, Some(c)) => {
            let list = values
                .iter()
                .map(|v| literal(v, *quote))
                .collect::<Result<Vec<_>, _>>()
                .map_err(issue)?;
            format!(
                "SELECT {c} AS value_field, COUNT(*) AS n_records\nFROM {}\n\
                 WHERE {c} IS NOT NULL AND {c} NOT IN ({})\nGROUP BY {c}",
                from("tested"),
                list.join(", ")
            )
        }
        (TestKind::Relationships { to, field }, Some(c)) => {
            let (to_id, to_relation) = resolve_to(to).map_err(issue)?;
            name.push_str("__");
            name.push_str(to_id.rsplit('.').next().unwrap_or(&to_id));
            name.push('_');
            name.push_str(field);
            depends_on.insert(to_id);
            format!(
                "SELECT child.{c} AS from_field\nFROM {}\nLEFT JOIN {to_relation} AS parent \
                 ON child.{c} = parent.{field}\nWHERE child.{c} IS NOT NULL AND parent.{field} IS NULL",
                from("child")
            )
        }
        (
            TestKind::AcceptedRange {
                min_value,
                max_value,
                inclusive,
            },
            Some(c),
        ) => {
            let (lo, hi) = if *inclusive { (">=", "<=") } else { (">", "<") };
            let mut bounds = Vec::new();
            if let Some(v) = min_value {
                bounds.push(format!("{c} {lo} {}", literal(v, true).map_err(issue)?));
            }
            if let Some(v) = max_value {
                bounds.push(format!("{c} {hi} {}", literal(v, true).map_err(issue)?));
            }
            format!(
                "SELECT *\nFROM {}\nWHERE {c} IS NOT NULL AND NOT ({})",
                from("tested"),
                bounds.join(" AND ")
            )
        }
    };
    Ok(TestNode {
        name,
        path: target.path.clone(),
        kind: kind.to_string(),
        args: Some(spec.kind.clone()),
        attached_node: Some(target.id.clone()),
        column: column.map(str::to_string),
        depends_on,
        sql,
        settings,
    })
}

/// A YAML scalar as an SQL literal.
fn literal(v: &serde_json::Value, quote: bool) -> Result<String, String> {
    match v {
        serde_json::Value::String(s) if quote => Ok(format!("'{}'", s.replace('\'', "''"))),
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(if *b { "TRUE" } else { "FALSE" }.to_string()),
        other => Err(format!("{other} is not a string, number or boolean")),
    }
}

/// Lower-case letters and digits of `s`, runs of anything else as one `_`, at most 40 chars.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out: String = out.trim_matches('_').chars().take(40).collect();
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "expr".to_string()
    } else {
        out
    }
}

/// Makes names unique by suffixing `_2`, `_3`, ... to repeats, in order.
pub(crate) fn dedupe_names(tests: &mut [TestNode]) {
    let mut seen = BTreeSet::new();
    for t in tests.iter_mut() {
        if !seen.insert(t.name.clone()) {
            let base = t.name.clone();
            let mut n = 2;
            while !seen.insert(format!("{base}_{n}")) {
                n += 1;
            }
            t.name = format!("{base}_{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_and_compare() {
        let t: Threshold = ">10".parse().unwrap();
        assert!(t.matches(11) && !t.matches(10));
        let t: Threshold = " >= 3 ".parse().unwrap();
        assert!(t.matches(3) && !t.matches(2));
        assert_eq!(t.to_string(), ">=3");
        assert_eq!("<>0".parse::<Threshold>().unwrap(), Threshold::ANY_FAILURE);
        assert!("=0".parse::<Threshold>().unwrap().matches(0));
        assert!("10".parse::<Threshold>().is_err());
        assert!(">ten".parse::<Threshold>().is_err());
        assert!(">-1".parse::<Threshold>().is_err());
    }

    #[test]
    fn status_follows_severity_and_thresholds() {
        let cfg = TestConfig {
            warn_if: Some(">0".parse().unwrap()),
            error_if: Some(">10".parse().unwrap()),
            ..Default::default()
        };
        let s = cfg.resolve();
        assert_eq!(s.status(0), TestStatus::Pass);
        assert_eq!(s.status(5), TestStatus::Warn);
        assert_eq!(s.status(11), TestStatus::Error);
        let warn_only = TestConfig {
            severity: Some(Severity::Warn),
            ..Default::default()
        }
        .resolve();
        assert_eq!(warn_only.status(1000), TestStatus::Warn);
        assert_eq!(TestConfig::default().resolve().status(1), TestStatus::Error);
    }

    fn target<'a>(columns: &'a [ColumnProperties], node_tests: &'a [TestSpec]) -> TestTarget<'a> {
        TestTarget {
            id: "model.orders".into(),
            name_part: "orders".into(),
            relation: "gold.orders".into(),
            path: "models/gold/schema.yml".into(),
            columns,
            node_tests,
        }
    }

    #[test]
    fn generic_tests_expand_to_failing_row_queries() {
        let columns: Vec<ColumnProperties> = serde_norway::from_str(
            r#"
- name: id
  tests: [unique, {not_null: {config: {where: "status = 'ok'"}}}]
- name: customer_id
  tests: [{relationships: {to: "ref('customers')", field: customer_id}}]
- name: state
  tests: [{accepted_values: {values: ["CA", "O'Hare", 1]}}]
- name: amount
  tests: [{accepted_range: {min_value: 0, max_value: 100000, inclusive: false}}, {expression: {expression: ">= 0"}}]
"#,
        )
        .unwrap();
        let resolve = |to: &str| -> Result<(String, String), String> {
            assert_eq!(to, "ref('customers')");
            Ok(("model.customers".into(), "silver.customers".into()))
        };
        let tests = expand(&target(&columns, &[]), &resolve).unwrap();
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "unique_orders_id",
                "not_null_orders_id",
                "relationships_orders_customer_id__customers_customer_id",
                "accepted_values_orders_state",
                "accepted_range_orders_amount",
                "expression_orders_amount_0",
            ]
        );
        assert_eq!(
            tests[0].sql,
            "SELECT id AS unique_field, COUNT(*) AS n_records\nFROM gold.orders\nWHERE id IS NOT NULL\nGROUP BY id\nHAVING COUNT(*) > 1"
        );
        assert_eq!(tests[1].sql, "SELECT *\nFROM (SELECT * FROM gold.orders WHERE status = 'ok') AS tested\nWHERE id IS NULL");
        assert!(tests[2].sql.contains(
            "LEFT JOIN silver.customers AS parent ON child.customer_id = parent.customer_id"
        ));
        assert_eq!(
            tests[2].depends_on,
            BTreeSet::from(["model.customers".into(), "model.orders".into()])
        );
        assert!(tests[3].sql.contains("NOT IN ('CA', 'O''Hare', 1)"));
        assert!(tests[4]
            .sql
            .ends_with("WHERE amount IS NOT NULL AND NOT (amount > 0 AND amount < 100000)"));
        assert!(tests[5].sql.ends_with("WHERE NOT (amount >= 0)"));
    }

    #[test]
    fn column_tests_need_a_column_and_names_are_deduplicated() {
        let specs: Vec<TestSpec> = serde_norway::from_str("- unique\n").unwrap();
        let err = expand(&target(&[], &specs), &|_| unreachable!()).unwrap_err();
        assert!(err.message.contains("needs a column"));

        let columns: Vec<ColumnProperties> =
            serde_norway::from_str("- name: a\n  tests: [{accepted_values: {values: [x]}}, {accepted_values: {values: [y]}}]\n")
                .unwrap();
        let mut tests = expand(&target(&columns, &[]), &|_| unreachable!()).unwrap();
        dedupe_names(&mut tests);
        assert_eq!(tests[1].name, "accepted_values_orders_a_2");
    }
}
