//! A small lake with every table the dashboard reads, written through `c360_lake` as real Delta
//! tables, with numbers chosen so tests can check them by hand:
//!
//! - 300 current customers in `gold.customer_360_profile`:
//!   - `CUST00000001`–`100`: High-Value Travelers in CA, lifetime value alternating 8,000 and
//!     12,000 (average exactly 10,000: the SPEC §7 check's audience), odd ids Standard card,
//!     even Premium; every 4th at High churn risk.
//!   - `101`–`200`: Stable Mid-Spenders in NY, 3,000.00 each, Low risk.
//!   - `201`–`260`: Budget-Conscious in TX, 900.50 each, Medium risk.
//!   - `261`–`280`: Declining in FL, 5,000.00 each, High risk.
//!   - `281`–`300`: New & Growing in WA, 400.00 each, not scored.
//! - `CUST00000042` is Jane Doe (jane.doe@example.com) with two SCD2 versions (a card upgrade)
//!   and 20 transactions (18 approved, 2 declined) over 4 categories.
//! - Run history (one run, 3 models and 2 tests), quarantine rows, churn model metrics, the
//!   monthly spend metric and a manifest with lineage.

use std::path::Path;
use std::sync::Arc;

use c360_lake::datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, TimestampMicrosecondArray,
};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use c360_lake::{Lake, Layer, WriteMode};
use chrono::NaiveDate;

/// The profile's as_of.
pub const AS_OF: &str = "2025-11-14";

fn as_of() -> NaiveDate {
    NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap()
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

#[derive(Default)]
pub struct Cols {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Cols {
    pub fn add(mut self, name: &str, ty: DataType, a: ArrayRef) -> Self {
        self.fields.push(Field::new(name, ty, true));
        self.arrays.push(a);
        self
    }
    pub fn text<S: AsRef<str>>(self, name: &str, v: Vec<Option<S>>) -> Self {
        let a = StringArray::from_iter(v.iter().map(|s| s.as_ref().map(|s| s.as_ref())));
        self.add(name, DataType::Utf8, Arc::new(a))
    }
    pub fn int32(self, name: &str, v: Vec<Option<i32>>) -> Self {
        self.add(name, DataType::Int32, Arc::new(Int32Array::from(v)))
    }
    pub fn int64(self, name: &str, v: Vec<Option<i64>>) -> Self {
        self.add(name, DataType::Int64, Arc::new(Int64Array::from(v)))
    }
    pub fn float(self, name: &str, v: Vec<Option<f64>>) -> Self {
        self.add(name, DataType::Float64, Arc::new(Float64Array::from(v)))
    }
    pub fn boolean(self, name: &str, v: Vec<Option<bool>>) -> Self {
        self.add(name, DataType::Boolean, Arc::new(BooleanArray::from(v)))
    }
    /// Money in cents as DECIMAL(p, 2).
    pub fn money(self, name: &str, precision: u8, cents: Vec<Option<i128>>) -> Self {
        let a = Decimal128Array::from(cents)
            .with_precision_and_scale(precision, 2)
            .unwrap();
        self.add(name, DataType::Decimal128(precision, 2), Arc::new(a))
    }
    pub fn date(self, name: &str, v: Vec<Option<NaiveDate>>) -> Self {
        let a = Date32Array::from(v.into_iter().map(|d| d.map(days)).collect::<Vec<_>>());
        self.add(name, DataType::Date32, Arc::new(a))
    }
    pub fn ts(self, name: &str, micros: Vec<Option<i64>>, tz: bool) -> Self {
        let mut a = TimestampMicrosecondArray::from(micros);
        let ty = if tz {
            a = a.with_timezone("UTC");
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        } else {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        };
        self.add(name, ty, Arc::new(a))
    }
    pub fn batch(self) -> RecordBatch {
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.arrays).unwrap()
    }
}

pub async fn write(lake: &Lake, layer: Layer, name: &str, batch: RecordBatch) {
    lake.writer(layer, name, batch.schema())
        .mode(WriteMode::Overwrite)
        .write_batches([batch])
        .await
        .unwrap();
}

/// One fixture customer.
pub struct Customer {
    pub id: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub segment: &'static str,
    pub state: &'static str,
    pub city: &'static str,
    pub card: &'static str,
    pub ltv_cents: i128,
    pub risk: Option<&'static str>,
    pub score: Option<f64>,
}

/// The 300 fixture customers.
pub fn customers() -> Vec<Customer> {
    const FIRST: [&str; 8] = [
        "Ann", "Bob", "Carla", "Dev", "Erin", "Farid", "Gina", "Hugo",
    ];
    (1..=300)
        .map(|i| {
            let (segment, state, city, ltv, risk, score) = match i {
                1..=100 => {
                    let ltv = if i % 2 == 1 { 800_000 } else { 1_200_000 };
                    let high = i % 4 == 0;
                    (
                        "High-Value Travelers",
                        "CA",
                        "Los Angeles",
                        ltv,
                        Some(if high { "High" } else { "Low" }),
                        Some(if high { 75.5 } else { 12.0 }),
                    )
                }
                101..=200 => (
                    "Stable Mid-Spenders",
                    "NY",
                    "Buffalo",
                    300_000,
                    Some("Low"),
                    Some(20.0),
                ),
                201..=260 => (
                    "Budget-Conscious",
                    "TX",
                    "Austin",
                    90_050,
                    Some("Medium"),
                    Some(45.0),
                ),
                261..=280 => (
                    "Declining",
                    "FL",
                    "Miami",
                    500_000,
                    Some("High"),
                    Some(82.3),
                ),
                _ => ("New & Growing", "WA", "Seattle", 40_000, None, None),
            };
            let (first, last, email) = if i == 42 {
                (
                    "Jane".to_string(),
                    "Doe".to_string(),
                    "jane.doe@example.com".to_string(),
                )
            } else {
                let f = FIRST[i % FIRST.len()].to_string();
                let l = format!("Smith{i}");
                let e = format!("{}.{}@example.com", f.to_lowercase(), l.to_lowercase());
                (f, l, e)
            };
            Customer {
                id: format!("CUST{i:08}"),
                first,
                last,
                email,
                segment,
                state,
                city,
                card: if i <= 100 && i % 2 == 0 {
                    "Premium"
                } else {
                    "Standard"
                },
                ltv_cents: ltv,
                risk,
                score,
            }
        })
        .collect()
}

pub fn profile(cs: &[Customer]) -> RecordBatch {
    let n = cs.len();
    let as_of = as_of();
    let map_s = |f: &dyn Fn(&Customer) -> String| cs.iter().map(|c| Some(f(c))).collect::<Vec<_>>();
    Cols::default()
        .text("customer_id", map_s(&|c| c.id.clone()))
        .text("customer_key", map_s(&|c| format!("K{}", c.id)))
        .text("full_name", map_s(&|c| format!("{} {}", c.first, c.last)))
        .text("first_name", map_s(&|c| c.first.clone()))
        .text("last_name", map_s(&|c| c.last.clone()))
        .text("email", map_s(&|c| c.email.clone()))
        .int32("age", (0..n).map(|i| Some(22 + (i % 50) as i32)).collect())
        .text("state", map_s(&|c| c.state.to_string()))
        .text("city", map_s(&|c| c.city.to_string()))
        .text(
            "employment_status",
            (0..n)
                .map(|i| Some(if i % 5 == 0 { "Retired" } else { "Employed" }))
                .collect(),
        )
        .text("card_type", map_s(&|c| c.card.to_string()))
        .money("credit_limit", 12, vec![Some(2_000_000); n])
        .date(
            "account_open_date",
            vec![Some(as_of - chrono::Duration::days(1000)); n],
        )
        .int32("account_age_days", vec![Some(1000); n])
        .text("customer_segment", map_s(&|c| c.segment.to_string()))
        .date("segment_assigned_date", vec![Some(as_of); n])
        .int32(
            "tenure_months",
            cs.iter()
                .map(|c| Some(if c.segment == "New & Growing" { 3 } else { 18 }))
                .collect(),
        )
        .int64("total_transactions", vec![Some(100); n])
        .money(
            "lifetime_value",
            18,
            cs.iter().map(|c| Some(c.ltv_cents)).collect(),
        )
        .money(
            "avg_transaction_value",
            18,
            cs.iter().map(|c| Some(c.ltv_cents / 100)).collect(),
        )
        .date(
            "first_transaction_date",
            vec![Some(as_of - chrono::Duration::days(540)); n],
        )
        .date(
            "last_transaction_date",
            vec![Some(as_of - chrono::Duration::days(2)); n],
        )
        .money(
            "spend_last_90_days",
            18,
            cs.iter().map(|c| Some(c.ltv_cents / 6)).collect(),
        )
        .money(
            "spend_prior_90_days",
            18,
            cs.iter().map(|c| Some(c.ltv_cents / 5)).collect(),
        )
        .float("spend_change_pct", vec![Some(-16.67); n])
        .money(
            "avg_monthly_spend",
            18,
            cs.iter().map(|c| Some(c.ltv_cents / 18)).collect(),
        )
        .float(
            "travel_spend_pct",
            cs.iter()
                .map(|c| {
                    Some(if c.segment == "High-Value Travelers" {
                        35.0
                    } else {
                        5.0
                    })
                })
                .collect(),
        )
        .float("necessities_spend_pct", vec![Some(40.0); n])
        .int32("days_since_last_transaction", vec![Some(2); n])
        .text("recency_status", vec![Some("Active"); n])
        .text(
            "spending_profile",
            cs.iter()
                .map(|c| {
                    Some(if c.segment == "High-Value Travelers" {
                        "Travel-Focused"
                    } else {
                        "Balanced"
                    })
                })
                .collect(),
        )
        .float("credit_utilization_pct", vec![Some(25.0); n])
        .float("churn_risk_score", cs.iter().map(|c| c.score).collect())
        .text(
            "churn_risk_category",
            cs.iter()
                .map(|c| Some(c.risk.unwrap_or("Not Scored")))
                .collect(),
        )
        .text(
            "top_churn_drivers",
            cs.iter()
                .map(|c| {
                    c.score
                        .map(|_| "spend_trend_90d, days_since_last, decline_rate_90d")
                })
                .collect(),
        )
        .boolean(
            "eligible_for_retention_campaign",
            cs.iter()
                .map(|c| Some(c.segment == "Declining" || c.score.unwrap_or(0.0) >= 70.0))
                .collect(),
        )
        .boolean(
            "eligible_for_onboarding_campaign",
            cs.iter()
                .map(|c| Some(c.segment == "New & Growing"))
                .collect(),
        )
        .boolean(
            "eligible_for_premium_campaign",
            cs.iter()
                .map(|c| Some(c.segment == "High-Value Travelers" && c.card == "Standard"))
                .collect(),
        )
        .text(
            "next_best_action",
            cs.iter()
                .map(|c| {
                    Some(if c.segment == "Declining" {
                        "Retention offer"
                    } else if c.segment == "High-Value Travelers" && c.card == "Standard" {
                        "Premium upgrade"
                    } else {
                        "None"
                    })
                })
                .collect(),
        )
        .date("profile_updated_date", vec![Some(as_of); n])
        .batch()
}

fn dim_customer(cs: &[Customer]) -> RecordBatch {
    let as_of = as_of();
    let open = as_of - chrono::Duration::days(1000);
    let upgrade = as_of - chrono::Duration::days(200);
    let mut rows = Vec::new();
    for c in cs {
        if c.id == "CUST00000042" {
            rows.push((
                c,
                open,
                Some(upgrade - chrono::Duration::days(1)),
                false,
                "Standard",
                1_500_000i128,
            ));
            rows.push((c, upgrade, None, true, c.card, 2_000_000));
        } else {
            rows.push((c, open, None, true, c.card, 2_000_000));
        }
    }
    Cols::default()
        .text(
            "customer_id",
            rows.iter().map(|r| Some(r.0.id.clone())).collect(),
        )
        .text(
            "customer_key",
            rows.iter()
                .map(|r| Some(format!("K{}-{}", r.0.id, r.1)))
                .collect(),
        )
        .date("valid_from", rows.iter().map(|r| Some(r.1)).collect())
        .date("valid_to", rows.iter().map(|r| r.2).collect())
        .boolean("is_current", rows.iter().map(|r| Some(r.3)).collect())
        .text(
            "first_name",
            rows.iter().map(|r| Some(r.0.first.clone())).collect(),
        )
        .text(
            "last_name",
            rows.iter().map(|r| Some(r.0.last.clone())).collect(),
        )
        .text(
            "email",
            rows.iter().map(|r| Some(r.0.email.clone())).collect(),
        )
        .text("card_type", rows.iter().map(|r| Some(r.4)).collect())
        .money("credit_limit", 12, rows.iter().map(|r| Some(r.5)).collect())
        .text("state", rows.iter().map(|r| Some(r.0.state)).collect())
        .text("city", rows.iter().map(|r| Some(r.0.city)).collect())
        .text(
            "employment_status",
            rows.iter().map(|_| Some("Employed")).collect(),
        )
        .batch()
}

const CATEGORIES: [(&str, &str, bool, bool); 10] = [
    ("Airlines", "Leisure", true, false),
    ("Dining", "Leisure", false, false),
    ("Entertainment", "Leisure", false, false),
    ("Gas", "Necessities", false, true),
    ("Grocery", "Necessities", false, true),
    ("Healthcare", "Necessities", false, true),
    ("Hotels", "Leisure", true, false),
    ("Retail", "Retail", false, false),
    ("Travel", "Leisure", true, false),
    ("Utilities", "Necessities", false, true),
];

fn categories() -> RecordBatch {
    Cols::default()
        .int32("category_key", (1..=10).map(Some).collect())
        .text(
            "category_name",
            CATEGORIES.iter().map(|c| Some(c.0)).collect(),
        )
        .text(
            "category_group",
            CATEGORIES.iter().map(|c| Some(c.1)).collect(),
        )
        .boolean("is_travel", CATEGORIES.iter().map(|c| Some(c.2)).collect())
        .boolean(
            "is_necessity",
            CATEGORIES.iter().map(|c| Some(c.3)).collect(),
        )
        .batch()
}

/// Jane Doe's transactions: (days before as_of, category key, amount cents, status).
pub fn jane_transactions() -> Vec<(i64, i32, i128, &'static str)> {
    let mut out = Vec::new();
    for k in 0..20i64 {
        let category = [1, 5, 7, 9][(k % 4) as usize];
        let status = if k == 3 || k == 11 {
            "declined"
        } else {
            "approved"
        };
        out.push((k * 10, category, 10_000 + (k as i128) * 1_000, status));
    }
    out
}

pub fn transactions(cs: &[Customer]) -> RecordBatch {
    let as_of = as_of();
    let mut rows: Vec<(String, String, NaiveDate, i32, i128, &str, &str)> = Vec::new();
    for (i, c) in cs.iter().enumerate().take(60) {
        if c.id == "CUST00000042" {
            for (k, (back, cat, amount, status)) in jane_transactions().into_iter().enumerate() {
                rows.push((
                    format!("TXJ{k:04}"),
                    c.id.clone(),
                    as_of - chrono::Duration::days(back),
                    cat,
                    amount,
                    status,
                    "Online",
                ));
            }
        } else {
            for k in 0..3 {
                rows.push((
                    format!("TX{i:04}{k}"),
                    c.id.clone(),
                    as_of - chrono::Duration::days(5 + 30 * k),
                    2 + k as i32,
                    5_000,
                    "approved",
                    "In-Store",
                ));
            }
        }
    }
    let micros = |d: NaiveDate, h: i64| {
        (d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + h * 3600) * 1_000_000
    };
    Cols::default()
        .text(
            "transaction_id",
            rows.iter().map(|r| Some(r.0.clone())).collect(),
        )
        .text(
            "customer_id",
            rows.iter().map(|r| Some(r.1.clone())).collect(),
        )
        .text(
            "customer_key",
            rows.iter().map(|r| Some(format!("K{}", r.1))).collect(),
        )
        .int32(
            "date_key",
            rows.iter()
                .map(|r| Some(r.2.format("%Y%m%d").to_string().parse().unwrap()))
                .collect(),
        )
        .int32(
            "merchant_category_key",
            rows.iter().map(|r| Some(r.3)).collect(),
        )
        .date("transaction_date", rows.iter().map(|r| Some(r.2)).collect())
        .ts(
            "transaction_ts",
            rows.iter()
                .enumerate()
                .map(|(i, r)| Some(micros(r.2, 8 + (i % 10) as i64)))
                .collect(),
            false,
        )
        .text(
            "merchant_name",
            rows.iter()
                .map(|r| Some(format!("{} Merchant", CATEGORIES[(r.3 - 1) as usize].0)))
                .collect(),
        )
        .text("channel", rows.iter().map(|r| Some(r.6)).collect())
        .text("status", rows.iter().map(|r| Some(r.5)).collect())
        .money(
            "transaction_amount",
            12,
            rows.iter().map(|r| Some(r.4)).collect(),
        )
        .batch()
}

fn monthly(cs: &[Customer]) -> RecordBatch {
    let mut rows = Vec::new();
    for c in cs {
        for m in 0..6u32 {
            let month = NaiveDate::from_ymd_opt(2025, 6 + m, 1).unwrap();
            rows.push((c.id.clone(), month, c.ltv_cents / 18 + (m as i128) * 100));
        }
    }
    Cols::default()
        .text(
            "customer_id",
            rows.iter().map(|r| Some(r.0.clone())).collect(),
        )
        .date("month_start", rows.iter().map(|r| Some(r.1)).collect())
        .money(
            "monthly_spend",
            18,
            rows.iter().map(|r| Some(r.2)).collect(),
        )
        .int64("transaction_count", rows.iter().map(|_| Some(5)).collect())
        .batch()
}

/// Two runs of the `stream` pipeline (as `c360-pipeline` writes them), the newer one failed.
fn pipeline_runs() -> RecordBatch {
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    };
    Cols::default()
        .text("run_id", vec![Some("stream-1"), Some("stream-2")])
        .text("pipeline", vec![Some("stream"); 2])
        .text("trigger", vec![Some("schedule"); 2])
        .text("status", vec![Some("succeeded"), Some("failed")])
        .ts(
            "started_at",
            vec![
                Some(at("2025-11-15T02:00:00Z")),
                Some(at("2025-11-15T02:05:00Z")),
            ],
            true,
        )
        .float("duration_s", vec![Some(12.5), Some(3.0)])
        .text("message", vec![None, Some("1 task failed")])
        .batch()
}

/// The tasks of the failed `stream` run.
fn pipeline_task_runs() -> RecordBatch {
    let at = chrono::DateTime::parse_from_rfc3339("2025-11-15T02:05:00Z")
        .unwrap()
        .timestamp_micros();
    Cols::default()
        .text("run_id", vec![Some("stream-2"); 2])
        .text("task", vec![Some("merge_new_data"), Some("notify")])
        .text("action", vec![Some("c360 run"), Some("sh")])
        .text("status", vec![Some("failed"), Some("skipped")])
        .int64("attempts", vec![Some(2), Some(0)])
        .ts("started_at", vec![Some(at), None], true)
        .float("duration_s", vec![Some(3.0), None])
        .int64("rows", vec![None, None])
        .text("error", vec![Some("exit status 1"), None])
        .batch()
}

fn run_history() -> RecordBatch {
    let nodes = [
        ("model.stg_transactions", "model", "success", 0i64),
        ("model.fct_transactions", "model", "success", 0),
        ("model.customer_360_profile", "model", "success", 0),
        ("test.unique_profile_customer_id", "test", "pass", 0),
        ("test.not_null_fct_amount", "test", "fail", 3),
    ];
    let started = chrono::DateTime::parse_from_rfc3339("2025-11-15T02:00:00Z")
        .unwrap()
        .timestamp_micros();
    Cols::default()
        .text("run_id", vec![Some("run-0001"); 5])
        .text("project", vec![Some("c360"); 5])
        .ts("run_started_at", vec![Some(started); 5], true)
        .text("unique_id", nodes.iter().map(|n| Some(n.0)).collect())
        .text("resource_type", nodes.iter().map(|n| Some(n.1)).collect())
        .text("status", nodes.iter().map(|n| Some(n.2)).collect())
        .text(
            "materialized",
            nodes
                .iter()
                .map(|n| (n.1 == "model").then_some("table"))
                .collect(),
        )
        .text(
            "relation",
            nodes
                .iter()
                .map(|n| (n.1 == "model").then(|| format!("gold.{}", &n.0[6..])))
                .collect(),
        )
        .int64(
            "rows_affected",
            nodes
                .iter()
                .map(|n| (n.1 == "model").then_some(300))
                .collect(),
        )
        .int64(
            "failures",
            nodes
                .iter()
                .map(|n| (n.1 == "test").then_some(n.3))
                .collect(),
        )
        .int64(
            "table_version",
            nodes
                .iter()
                .map(|n| (n.1 == "model").then_some(1))
                .collect(),
        )
        .float("execution_time", vec![Some(0.25); 5])
        .text(
            "message",
            nodes
                .iter()
                .map(|n| {
                    Some(if n.2 == "fail" {
                        "3 failing rows"
                    } else {
                        "OK"
                    })
                })
                .collect(),
        )
        .batch()
}

fn quarantine() -> RecordBatch {
    let reasons = [
        "bad_amount",
        "bad_amount",
        "unknown_customer",
        "bad_status",
        "bad_amount",
    ];
    Cols::default()
        .text(
            "transaction_id",
            (0..5).map(|i| Some(format!("QTX{i}"))).collect(),
        )
        .text("reason", reasons.iter().map(|r| Some(*r)).collect())
        .batch()
}

fn model_metrics() -> RecordBatch {
    Cols::default()
        .text("model_version", vec![Some("v1")])
        .float("auc_roc", vec![Some(0.86)])
        .float("pr_auc", vec![Some(0.61)])
        .float("f1", vec![Some(0.58)])
        .boolean("promoted", vec![Some(true)])
        .batch()
}

const MANIFEST: &str = r#"{
  "project": "c360",
  "vars": {},
  "nodes": {
    "source.bronze.transactions": {"name": "transactions", "resource_type": "source", "path": "models/sources.yml", "depends_on": []},
    "model.stg_transactions": {"name": "stg_transactions", "resource_type": "model", "path": "models/silver/stg_transactions.sql", "layer": "silver", "materialized": "incremental", "depends_on": ["source.bronze.transactions"]},
    "model.fct_transactions": {"name": "fct_transactions", "resource_type": "model", "path": "models/gold/fct_transactions.sql", "layer": "gold", "materialized": "table", "depends_on": ["model.stg_transactions"]},
    "model.customer_360_profile": {"name": "customer_360_profile", "resource_type": "model", "path": "models/gold/customer_360_profile.sql", "layer": "gold", "materialized": "table", "depends_on": ["model.fct_transactions"]},
    "test.unique_profile_customer_id": {"name": "unique_profile_customer_id", "resource_type": "test", "path": "models/gold/schema.yml", "depends_on": ["model.customer_360_profile"]}
  }
}"#;

/// Writes every fixture table into a lake at `lake_dir` and a manifest under
/// `project_dir/target/`.
pub async fn build(lake_dir: &Path, project_dir: &Path) -> Lake {
    let lake = Lake::new(lake_dir);
    let cs = customers();
    write(&lake, Layer::Gold, "customer_360_profile", profile(&cs)).await;
    write(&lake, Layer::Gold, "dim_customer", dim_customer(&cs)).await;
    write(&lake, Layer::Gold, "dim_merchant_category", categories()).await;
    write(&lake, Layer::Gold, "fct_transactions", transactions(&cs)).await;
    write(&lake, Layer::Gold, "metric_mom_spend_change", monthly(&cs)).await;
    write(&lake, Layer::Gold, "churn_model_metrics", model_metrics()).await;
    write(
        &lake,
        Layer::Silver,
        "quarantine_transactions",
        quarantine(),
    )
    .await;
    let customers_quarantined = Cols::default()
        .text("customer_id", vec![Some(""), Some("CUSTX")])
        .text("reason", vec![Some("missing_id"), Some("bad_age")])
        .batch();
    write(
        &lake,
        Layer::Silver,
        "quarantine_customers",
        customers_quarantined,
    )
    .await;
    write(&lake, Layer::Meta, "run_history", run_history()).await;
    write(&lake, Layer::Meta, "pipeline_runs", pipeline_runs()).await;
    write(
        &lake,
        Layer::Meta,
        "pipeline_task_runs",
        pipeline_task_runs(),
    )
    .await;
    std::fs::create_dir_all(project_dir.join("target")).unwrap();
    std::fs::write(project_dir.join("target/manifest.json"), MANIFEST).unwrap();
    lake
}
