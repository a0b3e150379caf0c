//! The Customer 360 project (`project/`) built end to end over 1,000 generated customers, and
//! a few SPEC rules recomputed here, in plain Rust, from what silver and bronze hold.

use std::collections::{BTreeMap, BTreeSet};

use c360_lake::Layer;
use chrono::{Datelike, Days, NaiveDate};

pub(crate) use crate::common::Setup;
use crate::common::*;

/// The date every generated history ends on (the generator's default `--end-date`).
const END_DATE: &str = "2025-11-14";

impl Setup {
    /// `c360 build`, insisting that every model succeeds and every data test passes.
    pub(crate) fn build(&self) {
        let out = ok(self.c360().arg("build"));
        let results: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.project.join("target/run_results.json")).unwrap(),
        )
        .unwrap();
        let results = results["results"].as_array().unwrap();
        assert!(results.len() > 50, "{}", stdout(&out));
        for r in results {
            let status = r["status"].as_str().unwrap();
            assert!(
                status == "success" || status == "pass",
                "{} ended {status}: {}\n{}",
                r["unique_id"],
                r["message"],
                stdout(&out)
            );
        }
    }

    pub(crate) fn column(&self, layer: Layer, table: &str, column: &str) -> Vec<Option<String>> {
        strings(&read(&self.lake, layer, table), column)
    }

    /// Columns of a table as rows of strings (NULL as None).
    pub(crate) fn rows(
        &self,
        layer: Layer,
        table: &str,
        columns: &[&str],
    ) -> Vec<Vec<Option<String>>> {
        let batches = read(&self.lake, layer, table);
        let cols: Vec<Vec<Option<String>>> = columns.iter().map(|c| strings(&batches, c)).collect();
        (0..cols[0].len())
            .map(|i| cols.iter().map(|c| c[i].clone()).collect())
            .collect()
    }

    /// One row of a query as JSON.
    pub(crate) fn query_one(&self, sql: &str) -> serde_json::Value {
        let out = ok(self.c360().args(["query", "--format", "json", sql]));
        let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{sql}");
        rows[0].clone()
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A DECIMAL(_, 2) rendered as text, in cents.
fn cents(s: &str) -> i64 {
    let (units, frac) = s.split_once('.').unwrap_or((s, "0"));
    let negative = units.starts_with('-');
    let units: i64 = units.trim_start_matches('-').parse().unwrap();
    let frac: i64 = format!("{frac:0<2}")[..2].parse().unwrap();
    let v = units * 100 + frac;
    if negative {
        -v
    } else {
        v
    }
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap()
}

/// SPEC §0 months_between(a, b).
fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (i64::from(b.year()) * 12 + i64::from(b.month()))
        - (i64::from(a.year()) * 12 + i64::from(a.month()))
}

/// One approved transaction of stg_transactions.
struct Spend {
    customer_id: String,
    date: NaiveDate,
    cents: i64,
    category: String,
}

/// stg_transactions' approved rows up to `as_of`, and as_of (the latest transaction_date).
fn spend(setup: &Setup) -> (Vec<Spend>, NaiveDate) {
    let rows = setup.rows(
        Layer::Silver,
        "stg_transactions",
        &[
            "customer_id",
            "transaction_date",
            "transaction_amount",
            "merchant_category",
            "status",
        ],
    );
    let as_of = rows
        .iter()
        .map(|r| date(r[1].as_deref().unwrap()))
        .max()
        .unwrap();
    let spend = rows
        .into_iter()
        .filter(|r| r[4].as_deref() == Some("approved"))
        .map(|r| Spend {
            customer_id: r[0].clone().unwrap(),
            date: date(r[1].as_deref().unwrap()),
            cents: cents(r[2].as_deref().unwrap()),
            category: r[3].clone().unwrap(),
        })
        .filter(|s| s.date <= as_of)
        .collect();
    (spend, as_of)
}

/// SPEC §4.4 segment rules, in exact integer cents.
fn expected_segments(
    customers: &[String],
    spend: &[Spend],
    as_of: NaiveDate,
) -> BTreeMap<String, &'static str> {
    #[derive(Default)]
    struct Totals {
        lifetime: i64,
        last_90: i64,
        prior_90: i64,
        travel: i64,
        necessities: i64,
        first: Option<NaiveDate>,
    }
    let d90 = as_of.checked_sub_days(Days::new(90)).unwrap();
    let d180 = as_of.checked_sub_days(Days::new(180)).unwrap();
    let mut totals: BTreeMap<&str, Totals> = BTreeMap::new();
    for s in spend {
        let t = totals.entry(&s.customer_id).or_default();
        t.lifetime += s.cents;
        if s.date > d90 {
            t.last_90 += s.cents;
        } else if s.date > d180 {
            t.prior_90 += s.cents;
        }
        // SPEC §0: travel = {Travel, Airlines, Hotels}; necessities = {Grocery, Gas,
        // Utilities, Healthcare}
        match s.category.as_str() {
            "Travel" | "Airlines" | "Hotels" => t.travel += s.cents,
            "Grocery" | "Gas" | "Utilities" | "Healthcare" => t.necessities += s.cents,
            _ => {}
        }
        t.first = Some(t.first.map_or(s.date, |f| f.min(s.date)));
    }
    let none = Totals::default();
    customers
        .iter()
        .map(|c| {
            let t = totals.get(c.as_str()).unwrap_or(&none);
            let change_pct_at_most = |pct: i64| (t.last_90 - t.prior_90) * 100 <= pct * t.prior_90;
            let tenure = t.first.map(|f| months_between(f, as_of));
            let segment = if t.last_90 >= 3 * 500_000
                && t.lifetime > 0
                && t.travel * 100 >= 25 * t.lifetime
            {
                "High-Value Travelers"
            } else if t.prior_90 >= 200_000 && change_pct_at_most(-30) {
                "Declining"
            } else if tenure.is_some_and(|m| m <= 6)
                && (t.prior_90 == 0 || (t.last_90 - t.prior_90) * 100 >= 50 * t.prior_90)
            {
                "New & Growing"
            } else if t.last_90 < 3 * 150_000
                && t.lifetime > 0
                && t.necessities * 100 >= 60 * t.lifetime
            {
                "Budget-Conscious"
            } else {
                "Stable Mid-Spenders"
            };
            (c.clone(), segment)
        })
        .collect()
}

fn segments(setup: &Setup) -> BTreeMap<String, Vec<Option<String>>> {
    setup
        .rows(
            Layer::Gold,
            "customer_segments",
            &[
                "customer_id",
                "customer_segment",
                "previous_segment",
                "segment_assigned_date",
            ],
        )
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1..].to_vec()))
        .collect()
}

#[test]
fn customer360_builds_from_bronze_and_keeps_history() {
    let setup = Setup::new();
    // A high change rate, so that `simulate --days 3` re-sends a few customers too.
    ok(setup.c360().args([
        "generate",
        "--customers",
        "1000",
        "--dirt-rate",
        "customer_change=0.5",
    ]));
    setup.build();

    // Every customer of stg_customers appears once in each customer mart.
    let customers: Vec<String> = setup
        .column(Layer::Silver, "stg_customers", "customer_id")
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(customers.len(), 1000);
    let customer_set: BTreeSet<&String> = customers.iter().collect();
    for mart in [
        "customer_segments",
        "metric_customer_ltv",
        "metric_avg_transaction_value",
    ] {
        let ids: Vec<String> = setup
            .column(Layer::Gold, mart, "customer_id")
            .into_iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(ids.len(), customers.len(), "{mart}");
        assert_eq!(ids.iter().collect::<BTreeSet<_>>(), customer_set, "{mart}");
    }

    // Conservation (SPEC §3): bronze rows = survivors + duplicates + quarantined, with each
    // count recomputed here from bronze and silver.
    let (_, bronze_rows) = version_and_rows(&setup.lake, Layer::Bronze, "transactions").unwrap();
    let ids = setup.column(Layer::Bronze, "transactions", "transaction_id");
    let with_id: Vec<&str> = ids
        .iter()
        .filter_map(|id| id.as_deref().filter(|s| !s.trim().is_empty()))
        .collect();
    let duplicates = (with_id.len() - with_id.iter().collect::<BTreeSet<_>>().len()) as u64;
    let (_, survivors) = version_and_rows(&setup.lake, Layer::Silver, "stg_transactions").unwrap();
    let (_, quarantined) =
        version_and_rows(&setup.lake, Layer::Silver, "quarantine_transactions").unwrap();
    assert!(duplicates > 0 && quarantined > 0);
    assert_eq!(bronze_rows, survivors + duplicates + quarantined);
    let conservation = setup.query_one("SELECT * FROM silver.transactions_conservation");
    assert_eq!(conservation["bronze_rows"], bronze_rows);
    assert_eq!(conservation["survivors"], survivors);
    assert_eq!(conservation["duplicates"], duplicates);
    assert_eq!(conservation["quarantined"], quarantined);

    // The segment rule (SPEC §4.4), recomputed in integer cents from stg_transactions.
    let (spend_rows, as_of) = spend(&setup);
    assert_eq!(as_of, date(END_DATE));
    let expected = expected_segments(&customers, &spend_rows, as_of);
    let first = segments(&setup);
    for (customer, segment) in &expected {
        let row = &first[customer];
        assert_eq!(row[0].as_deref(), Some(*segment), "{customer}");
        // first build: no previous segment, assigned at this as_of
        assert_eq!(row[1], None, "{customer}");
        assert_eq!(row[2].as_deref(), Some(END_DATE), "{customer}");
    }
    let kinds: BTreeSet<&str> = expected.values().copied().collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");

    // The exact median (SPEC §4.4), recomputed in integer cents from stg_transactions: the
    // middle amount, or the mean of the two middle ones, in thousandths of a dollar.
    let mut amounts: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for row in &spend_rows {
        amounts.entry(&row.customer_id).or_default().push(row.cents);
    }
    let medians: BTreeMap<String, Option<String>> = setup
        .rows(
            Layer::Gold,
            "metric_avg_transaction_value",
            &["customer_id", "median_transaction_value"],
        )
        .into_iter()
        .map(|mut row| (row.remove(0).unwrap(), row.remove(0)))
        .collect();
    for customer in &customers {
        let expected = amounts.get_mut(customer.as_str()).map(|cents| {
            cents.sort_unstable();
            let n = cents.len();
            let thousandths = (cents[(n - 1) / 2] + cents[n / 2]) * 5;
            format!("{}.{:03}", thousandths / 1000, thousandths % 1000)
        });
        assert_eq!(medians[customer], expected, "median of {customer}");
    }

    // metric_mom_spend_change (SPEC §4.4): every month from the first spend month to as_of's
    // month, months without spend as 0.
    let mut monthly: BTreeMap<(String, NaiveDate), i64> = BTreeMap::new();
    let mut first_month: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for s in &spend_rows {
        *monthly
            .entry((s.customer_id.clone(), month_start(s.date)))
            .or_default() += s.cents;
        let m = first_month
            .entry(&s.customer_id)
            .or_insert(month_start(s.date));
        *m = (*m).min(month_start(s.date));
    }
    let mut expected_mom: BTreeMap<(String, NaiveDate), i64> = BTreeMap::new();
    for (customer, first) in &first_month {
        let mut m = *first;
        while m <= month_start(as_of) {
            let key = (customer.to_string(), m);
            let spent = monthly.get(&key).copied().unwrap_or(0);
            expected_mom.insert(key, spent);
            m = m.checked_add_months(chrono::Months::new(1)).unwrap();
        }
    }
    let actual_mom: BTreeMap<(String, NaiveDate), i64> = setup
        .rows(
            Layer::Gold,
            "metric_mom_spend_change",
            &["customer_id", "month_start", "monthly_spend"],
        )
        .into_iter()
        .map(|r| {
            (
                (r[0].clone().unwrap(), date(r[1].as_deref().unwrap())),
                cents(r[2].as_deref().unwrap()),
            )
        })
        .collect();
    assert!(
        expected_mom.values().filter(|v| **v == 0).count() > 0,
        "no gap month to fill"
    );
    assert_eq!(actual_mom.len(), expected_mom.len());
    assert!(
        actual_mom == expected_mom,
        "metric_mom_spend_change differs"
    );

    // Three more days: new transactions and a few re-sent customers, then a second build.
    ok(setup.c360().args(["simulate", "--days", "3"]));
    setup.build();

    // SCD2 (SPEC §4.1): versions opened by the simulated changes, and facts dated before a
    // change keep pointing to the version valid on their date.
    let versions = setup.rows(
        Layer::Gold,
        "dim_customer",
        &[
            "customer_id",
            "customer_key",
            "valid_from",
            "valid_to",
            "version_number",
        ],
    );
    let end = date(END_DATE);
    let changed: BTreeSet<String> = versions
        .iter()
        .filter(|v| date(v[2].as_deref().unwrap()) > end)
        .map(|v| v[0].clone().unwrap())
        .collect();
    assert!(!changed.is_empty(), "simulate changed no customer");
    // customer_key -> (customer_id, valid_from, valid_to, version_number)
    let by_key: BTreeMap<String, (String, NaiveDate, Option<NaiveDate>, String)> = versions
        .iter()
        .map(|v| {
            (
                v[1].clone().unwrap(),
                (
                    v[0].clone().unwrap(),
                    date(v[2].as_deref().unwrap()),
                    v[3].as_deref().map(date),
                    v[4].clone().unwrap(),
                ),
            )
        })
        .collect();
    let facts = setup.rows(
        Layer::Gold,
        "fct_transactions",
        &["customer_id", "customer_key", "transaction_date"],
    );
    let mut old_version_facts = 0;
    for f in facts
        .iter()
        .filter(|f| changed.contains(f[0].as_deref().unwrap()))
    {
        let (customer, from, to, number) = &by_key[f[1].as_deref().unwrap()];
        let day = date(f[2].as_deref().unwrap());
        assert_eq!(customer, f[0].as_deref().unwrap());
        assert!(
            (day >= *from || number == "1") && to.is_none_or(|t| day <= t),
            "fact of {customer} on {day} points to the version {from}..{to:?}"
        );
        if to.is_some() {
            old_version_facts += 1;
        }
    }
    assert!(old_version_facts > 0, "no fact before a change");

    // customer_segments after the second build: a changed segment remembers the one before
    // and is assigned at the new as_of; an unchanged one keeps its first assignment.
    let (spend_rows, new_as_of) = spend(&setup);
    assert!(new_as_of > as_of);
    let now = expected_segments(&customers, &spend_rows, new_as_of);
    let second = segments(&setup);
    let mut moved = 0;
    for (customer, segment) in &now {
        let row = &second[customer];
        let before = first[customer][0].as_deref().unwrap();
        assert_eq!(row[0].as_deref(), Some(*segment), "{customer}");
        if before == *segment {
            assert_eq!(row[1], None, "{customer}");
            assert_eq!(row[2].as_deref(), Some(END_DATE), "{customer}");
        } else {
            moved += 1;
            assert_eq!(row[1].as_deref(), Some(before), "{customer}");
            let assigned = new_as_of.format("%Y-%m-%d").to_string();
            assert_eq!(row[2].as_deref(), Some(assigned.as_str()), "{customer}");
        }
    }
    assert!(moved > 0, "no segment moved in three days");
}
