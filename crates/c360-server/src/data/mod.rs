//! Reading the lake: one DataFusion session holding the tables the dashboard reads, rebuilt only
//! when a table's Delta version changes, and query results as [`Frame`]s of JSON values.
//!
//! Small tables (the profile, the SCD2 dimension, the monthly metrics, run history…) are loaded
//! into memory when their version changes, so a page costs a plan and an in-memory scan; the
//! fact table stays on disk behind the Delta provider. Every query takes its user-supplied values
//! as positional parameters (`$1`, `$2`, …) bound with `with_param_values`, never as SQL text.

mod load;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use c360_lake::datafusion::common::ScalarValue;
use c360_lake::datafusion::prelude::{DataFrame, SessionContext};
use c360_lake::{Lake, Layer};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};

use crate::customers::CustomerIndex;
use crate::error::{AppError, AppResult};
use crate::facts::{FactIndex, FactKey};
pub use crate::frame::Frame;
pub use load::{describe, Unreadable};

/// The tables the dashboard reads. Any of them may be missing; pages say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `gold.customer_360_profile` (SPEC §6).
    Profile,
    /// `gold.dim_customer` (SCD2).
    DimCustomer,
    /// `gold.fct_transactions`.
    Transactions,
    /// `gold.dim_merchant_category`.
    Categories,
    /// `gold.metric_mom_spend_change`.
    MonthlySpend,
    /// `gold.customer_segments`.
    Segments,
    /// `gold.churn_model_metrics`.
    ModelMetrics,
    /// `silver.quarantine_transactions`.
    QuarantineTransactions,
    /// `silver.quarantine_customers`.
    QuarantineCustomers,
    /// `_c360.run_history`.
    RunHistory,
    /// `_c360.pipeline_runs` (`c360 pipeline` / `c360 schedule` runs; absent until the first).
    PipelineRuns,
    /// `_c360.pipeline_task_runs` (one row per task of a pipeline run).
    PipelineTaskRuns,
}

impl Table {
    /// Every table, in registration order.
    pub const ALL: [Table; 12] = [
        Table::Profile,
        Table::DimCustomer,
        Table::Transactions,
        Table::Categories,
        Table::MonthlySpend,
        Table::Segments,
        Table::ModelMetrics,
        Table::QuarantineTransactions,
        Table::QuarantineCustomers,
        Table::RunHistory,
        Table::PipelineRuns,
        Table::PipelineTaskRuns,
    ];

    /// Layer and table name.
    pub fn location(self) -> (Layer, &'static str) {
        match self {
            Table::Profile => (Layer::Gold, "customer_360_profile"),
            Table::DimCustomer => (Layer::Gold, "dim_customer"),
            Table::Transactions => (Layer::Gold, "fct_transactions"),
            Table::Categories => (Layer::Gold, "dim_merchant_category"),
            Table::MonthlySpend => (Layer::Gold, "metric_mom_spend_change"),
            Table::Segments => (Layer::Gold, "customer_segments"),
            Table::ModelMetrics => (Layer::Gold, "churn_model_metrics"),
            Table::QuarantineTransactions => (Layer::Silver, "quarantine_transactions"),
            Table::QuarantineCustomers => (Layer::Silver, "quarantine_customers"),
            Table::RunHistory => (Layer::Meta, "run_history"),
            Table::PipelineRuns => (Layer::Meta, "pipeline_runs"),
            Table::PipelineTaskRuns => (Layer::Meta, "pipeline_task_runs"),
        }
    }

    /// `layer.table`, as SQL names it.
    pub fn sql(self) -> String {
        let (layer, name) = self.location();
        format!("{layer}.{name}")
    }

    /// Whether the table is loaded into memory (everything but the fact table).
    fn in_memory(self) -> bool {
        self != Table::Transactions
    }
}

/// The dashboard's view of the lake at some versions of its tables.
pub struct Snapshot {
    ctx: SessionContext,
    /// The versions loaded (`None`: not in the lake, or unreadable with no good version).
    versions: BTreeMap<Table, Option<u64>>,
    /// The latest versions listed in the `_delta_log`s when this snapshot was built.
    seen: BTreeMap<Table, Option<u64>>,
    /// Tables whose latest version could not be read.
    unreadable: Arc<Vec<Unreadable>>,
    columns: Arc<BTreeMap<Table, Vec<String>>>,
    checked: Instant,
    derived: Arc<Derived>,
    facts: Arc<FactSlot>,
}

/// What is computed once per set of table versions: the customer index (at load) and the
/// overview (on its first request).
struct Derived {
    customers: CustomerIndex,
    overview: OnceCell<Arc<crate::pages::overview::Overview>>,
    category_names: OnceCell<Arc<Vec<String>>>,
}

/// The current fact index, and whether one is being built.
#[derive(Default)]
struct FactSlot {
    index: RwLock<Option<Arc<FactIndex>>>,
    building: AtomicBool,
}

impl Snapshot {
    /// The Delta versions the fact index for this snapshot must be read from.
    fn fact_key(&self) -> FactKey {
        (
            self.versions.get(&Table::Transactions).copied().flatten(),
            self.versions.get(&Table::Categories).copied().flatten(),
        )
    }

    /// The fact table held per customer, when an index of this snapshot's versions is ready.
    pub fn fact_index(&self) -> Option<Arc<FactIndex>> {
        let index = self.facts.index.read().unwrap_or_else(|e| e.into_inner());
        index
            .as_ref()
            .filter(|ix| ix.key() == self.fact_key())
            .cloned()
    }

    /// Profile rows and SCD2 histories by customer id.
    pub fn customers(&self) -> &CustomerIndex {
        &self.derived.customers
    }

    /// The merchant category names (from `gold.dim_merchant_category`; empty without it),
    /// read on the first call for these table versions.
    pub async fn category_names(&self) -> AppResult<Arc<Vec<String>>> {
        self.derived
            .category_names
            .get_or_try_init(|| async {
                if !self.has(Table::Categories) {
                    return Ok(Arc::new(Vec::new()));
                }
                let f = self
                    .query(
                        "SELECT DISTINCT category_name FROM gold.dim_merchant_category
                         WHERE category_name IS NOT NULL ORDER BY 1",
                        vec![],
                    )
                    .await?;
                Ok(Arc::new(
                    f.rows
                        .iter()
                        .filter_map(|r| r[0].as_str().map(str::to_string))
                        .collect(),
                ))
            })
            .await
            .cloned()
    }

    /// The overview's data, computed on the first call for these table versions.
    pub async fn overview(&self) -> AppResult<Arc<crate::pages::overview::Overview>> {
        self.derived
            .overview
            .get_or_try_init(|| async { Ok(Arc::new(crate::pages::overview::load(self).await?)) })
            .await
            .cloned()
    }

    /// The tables whose latest version could not be read (served at an older version, or
    /// left out).
    pub fn unreadable(&self) -> &[Unreadable] {
        &self.unreadable
    }

    /// Whether `table` exists in this snapshot.
    pub fn has(&self, table: Table) -> bool {
        self.versions.get(&table).is_some_and(|v| v.is_some())
    }

    /// Whether `table` exists and has column `column`.
    pub fn has_column(&self, table: Table, column: &str) -> bool {
        self.columns
            .get(&table)
            .is_some_and(|c| c.iter().any(|x| x == column))
    }

    /// The first of `candidates` that `table` has (columns renamed across model versions).
    pub fn pick_column(&self, table: Table, candidates: &[&'static str]) -> Option<&'static str> {
        candidates
            .iter()
            .copied()
            .find(|c| self.has_column(table, c))
    }

    /// Fails with a 404-free, page-friendly message when `table` is missing.
    pub fn require(&self, table: Table) -> Result<(), Missing> {
        if self.has(table) {
            Ok(())
        } else {
            Err(Missing(table.sql()))
        }
    }

    /// Plans `sql` with positional parameters `$1…` bound to `params`.
    pub async fn frame(&self, sql: &str, params: Vec<ScalarValue>) -> AppResult<DataFrame> {
        let df = self.ctx.sql(sql).await?;
        Ok(if params.is_empty() {
            df
        } else {
            df.with_param_values(params)?
        })
    }

    /// Runs `sql` with `params` and returns its rows.
    pub async fn query(&self, sql: &str, params: Vec<ScalarValue>) -> AppResult<Frame> {
        let batches = self.frame(sql, params).await?.collect().await?;
        Frame::from_batches(&batches)
    }

    /// Runs `sql` with `params`, skipping `offset` rows and returning at most `limit`.
    pub async fn query_page(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
        offset: usize,
        limit: usize,
    ) -> AppResult<Frame> {
        let batches = self
            .frame(sql, params)
            .await?
            .limit(offset, Some(limit))?
            .collect()
            .await?;
        Frame::from_batches(&batches)
    }

    /// The single value of a one-row, one-column query (NULL when there is no row).
    pub async fn scalar(&self, sql: &str, params: Vec<ScalarValue>) -> AppResult<Value> {
        let frame = self.query(sql, params).await?;
        Ok(frame
            .rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or(Value::Null))
    }
}

/// A table a page needs is not in the lake (yet).
#[derive(Debug, Clone, Serialize)]
pub struct Missing(pub String);

/// Holds the current [`Snapshot`] and refreshes it when table versions change.
pub struct Db {
    lake: Lake,
    current: Mutex<Option<Arc<Snapshot>>>,
    /// The current snapshot's unreadable tables, readable without waiting for a reload.
    health: RwLock<Arc<Vec<Unreadable>>>,
    refresh: Duration,
    facts: Arc<FactSlot>,
    fact_max_rows: usize,
}

impl Db {
    /// A reader of `lake` that re-checks table versions at most every `refresh` and holds the
    /// fact table per customer in memory when it has at most `fact_max_rows` rows (0: never).
    pub fn new(lake: Lake, refresh: Duration, fact_max_rows: usize) -> Db {
        Db {
            lake,
            current: Mutex::new(None),
            health: RwLock::default(),
            refresh,
            facts: Arc::default(),
            fact_max_rows,
        }
    }

    /// Makes sure a fact index of `snap`'s versions exists or is being built: the first one is
    /// built before returning (so a fresh server answers from memory), later ones in the
    /// background while requests scan the table.
    async fn ensure_fact_index(&self, snap: &Arc<Snapshot>) {
        if self.fact_max_rows == 0 || !snap.has(Table::Transactions) || snap.fact_index().is_some()
        {
            return;
        }
        if self.facts.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let first = self
            .facts
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none();
        let (slot, snap, max) = (self.facts.clone(), snap.clone(), self.fact_max_rows);
        let job = async move {
            let key = snap.fact_key();
            let built = FactIndex::build(&snap.ctx, key, snap.has(Table::Categories), max).await;
            match built {
                Ok(Some(index)) => {
                    *slot.index.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(index));
                }
                Ok(None) => {
                    // Too large: keep scanning; remember nothing, try again on the next version.
                    *slot.index.write().unwrap_or_else(|e| e.into_inner()) = None;
                }
                Err(e) => tracing::error!("building the fact index failed: {e}"),
            }
            slot.building.store(false, Ordering::Release);
        };
        if first {
            job.await;
        } else {
            tokio::spawn(job);
        }
    }

    /// The lake.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// The current snapshot, rebuilt first if a table changed since the last check.
    pub async fn snapshot(&self) -> AppResult<Arc<Snapshot>> {
        let snap = self.current_snapshot().await?;
        self.ensure_fact_index(&snap).await;
        Ok(snap)
    }

    /// The tables the current snapshot could not read at their latest version.
    pub fn unreadable(&self) -> Arc<Vec<Unreadable>> {
        self.health
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn current_snapshot(&self) -> AppResult<Arc<Snapshot>> {
        let mut current = self.current.lock().await;
        if let Some(snap) = current.as_ref() {
            if snap.checked.elapsed() < self.refresh {
                return Ok(snap.clone());
            }
        }
        let seen = load::table_versions(self.lake.root());
        let previous = current.clone();
        if let Some(snap) = previous.as_ref().filter(|s| s.seen == seen) {
            let fresh = Arc::new(snap.rechecked(seen));
            *current = Some(fresh.clone());
            return Ok(fresh);
        }
        let built = load::build_snapshot(
            &self.lake,
            seen.clone(),
            self.facts.clone(),
            previous.as_deref(),
        )
        .await;
        let snap = match (built, previous) {
            (Ok(snap), _) => Arc::new(snap),
            (Err(e), Some(previous)) => {
                // Not one table but the whole reload failed: keep what we had until the
                // versions change again.
                tracing::warn!(
                    "reloading the dashboard's tables failed ({}); still serving the previous versions",
                    describe(&e)
                );
                Arc::new(previous.rechecked(seen))
            }
            (Err(e), None) => return Err(e),
        };
        *self.health.write().unwrap_or_else(|e| e.into_inner()) = snap.unreadable.clone();
        *current = Some(snap.clone());
        Ok(snap)
    }
}

impl Snapshot {
    /// This snapshot, checked again just now and found to match the listed versions `seen`.
    fn rechecked(&self, seen: BTreeMap<Table, Option<u64>>) -> Snapshot {
        Snapshot {
            ctx: self.ctx.clone(),
            versions: self.versions.clone(),
            seen,
            unreadable: self.unreadable.clone(),
            columns: self.columns.clone(),
            checked: Instant::now(),
            derived: self.derived.clone(),
            facts: self.facts.clone(),
        }
    }
}

/// Positional SQL parameters: `push` binds a value and returns its placeholder (`$n`).
#[derive(Debug, Default)]
pub struct Params(pub Vec<ScalarValue>);

impl Params {
    /// Binds `value`; returns the placeholder to write in the SQL.
    pub fn push(&mut self, value: ScalarValue) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    /// Binds a string.
    pub fn text(&mut self, value: &str) -> String {
        self.push(ScalarValue::Utf8(Some(value.to_string())))
    }

    /// Binds a list of strings and returns `($1, $2, …)`.
    pub fn text_list(&mut self, values: &[String]) -> String {
        let placeholders: Vec<String> = values.iter().map(|v| self.text(v)).collect();
        format!("({})", placeholders.join(", "))
    }

    /// Binds an exact decimal.
    pub fn decimal(&mut self, value: rust_decimal::Decimal) -> String {
        let scale = value.scale() as i8;
        self.push(ScalarValue::Decimal128(Some(value.mantissa()), 38, scale))
    }

    /// Binds a date.
    pub fn date(&mut self, value: chrono::NaiveDate) -> String {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        self.push(ScalarValue::Date32(Some((value - epoch).num_days() as i32)))
    }

    /// The bound values, consuming the list.
    pub fn into_values(self) -> Vec<ScalarValue> {
        self.0
    }
}

/// Parses a value a [`Frame`] holds (number or exact text) as an exact decimal.
pub fn decimal_of(value: &Value) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    match value {
        Value::String(s) => rust_decimal::Decimal::from_str(s).ok(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(rust_decimal::Decimal::from(i))
            } else {
                rust_decimal::Decimal::from_str(&n.to_string()).ok()
            }
        }
        _ => None,
    }
}

/// A value as an `f64` for charts (display only; never summed).
pub fn f64_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Raised when a caller asks for a missing table as an error.
impl From<Missing> for AppError {
    fn from(m: Missing) -> Self {
        AppError::NotFound(format!("table {} is not in the lake yet", m.0))
    }
}
