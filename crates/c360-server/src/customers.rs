//! Customers by id: each customer's profile row and SCD2 history found with a hash lookup in
//! record batches already in memory, so a customer lookup plans no query.
//!
//! The profile is `gold.customer_360_profile` when the lake has it. Until it does (it is the last
//! model of a build), the deep dive still works from what the lake has: the current row of
//! `gold.dim_customer` joined with `gold.customer_segments` (identity, account, segment and
//! spend metrics; no churn score or campaign flags), and the response says which table is
//! missing and where the row came from.

use std::collections::HashMap;

use c360_lake::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use c360_lake::datafusion::arrow::compute::{cast, concat_batches};
use c360_lake::datafusion::arrow::datatypes::DataType;
use c360_lake::datafusion::prelude::SessionContext;

use crate::data::Frame;
use crate::error::AppResult;

/// Where profile rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    /// `gold.customer_360_profile`.
    Profile,
    /// `gold.dim_customer` (current rows) with `gold.customer_segments`.
    DimAndSegments,
}

impl ProfileSource {
    /// How the source is named in responses.
    pub fn name(self) -> &'static str {
        match self {
            ProfileSource::Profile => "gold.customer_360_profile",
            ProfileSource::DimAndSegments => "gold.dim_customer + gold.customer_segments",
        }
    }
}

/// One batch and the rows of each customer in it.
struct Keyed {
    batch: RecordBatch,
    rows: HashMap<Box<str>, (u32, u32)>,
}

impl Keyed {
    /// Indexes `batches` (sorted by customer id when a customer may have several rows) by
    /// their first column.
    fn new(batches: &[RecordBatch]) -> AppResult<Option<Keyed>> {
        let Some(first) = batches.first() else {
            return Ok(None);
        };
        let batch = concat_batches(&first.schema(), batches)?;
        let ids = cast(batch.column(0), &DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        let mut rows: HashMap<Box<str>, (u32, u32)> = HashMap::with_capacity(batch.num_rows());
        for r in 0..batch.num_rows() {
            if ids.is_null(r) {
                continue;
            }
            let r = r as u32;
            rows.entry(ids.value(r as usize).into())
                .and_modify(|(_, end)| {
                    if *end == r {
                        *end = r + 1;
                    }
                })
                .or_insert((r, r + 1));
        }
        Ok(Some(Keyed { batch, rows }))
    }

    fn rows(&self, id: &str) -> Option<(usize, usize)> {
        self.rows
            .get(id)
            .map(|&(s, e)| (s as usize, (e - s) as usize))
    }
}

/// Profile rows and SCD2 histories by customer id.
pub struct CustomerIndex {
    source: Option<ProfileSource>,
    profile: Option<Keyed>,
    history: Option<Keyed>,
}

/// The SCD2 columns the deep dive shows, after the customer id.
const HISTORY_SQL: &str = "SELECT customer_id, valid_from, valid_to, is_current, card_type, credit_limit, state, city, employment_status
     FROM gold.dim_customer ORDER BY customer_id, valid_from";

impl CustomerIndex {
    /// Builds the index from the tables registered in `ctx`: `has_profile` says whether the
    /// profile exists, `dim_columns` and `segment_columns` are the columns of
    /// `gold.dim_customer` and `gold.customer_segments` (empty when missing).
    pub async fn build(
        ctx: &SessionContext,
        has_profile: bool,
        dim_columns: &[String],
        segment_columns: &[String],
    ) -> AppResult<CustomerIndex> {
        let has_dim = !dim_columns.is_empty();
        let (source, profile_sql) = if has_profile {
            (
                Some(ProfileSource::Profile),
                Some("SELECT * FROM gold.customer_360_profile ORDER BY customer_id".to_string()),
            )
        } else if has_dim {
            (
                Some(ProfileSource::DimAndSegments),
                Some(derived_profile_sql(dim_columns, segment_columns)),
            )
        } else {
            (None, None)
        };
        let profile = match profile_sql {
            Some(sql) => Keyed::new(&ctx.sql(&sql).await?.collect().await?)?,
            None => None,
        };
        let history = if has_dim {
            Keyed::new(&ctx.sql(HISTORY_SQL).await?.collect().await?)?
        } else {
            None
        };
        Ok(CustomerIndex {
            source,
            profile,
            history,
        })
    }

    /// Where profile rows come from (`None`: neither the profile nor `gold.dim_customer` exist).
    pub fn source(&self) -> Option<ProfileSource> {
        self.source
    }

    /// Customer `id`'s profile row (the first, should the table hold several).
    pub fn profile(&self, id: &str) -> AppResult<Option<Frame>> {
        let Some(p) = &self.profile else {
            return Ok(None);
        };
        let Some((start, _)) = p.rows(id) else {
            return Ok(None);
        };
        Ok(Some(Frame::from_batches(&[p.batch.slice(start, 1)])?))
    }

    /// The value of profile column `column` for customer `id` (`None`: no such customer or
    /// column).
    pub fn profile_value(&self, id: &str, column: &str) -> AppResult<Option<serde_json::Value>> {
        let Some(p) = &self.profile else {
            return Ok(None);
        };
        let (Some((start, _)), Ok(i)) = (p.rows(id), p.batch.schema().index_of(column)) else {
            return Ok(None);
        };
        let one = p.batch.slice(start, 1).project(&[i])?;
        Ok(Frame::from_batches(&[one])?
            .rows
            .first()
            .and_then(|r| r.first().cloned()))
    }

    /// Customer `id`'s SCD2 versions, oldest first (without the id column); `None` without
    /// `gold.dim_customer`.
    pub fn history(&self, id: &str) -> AppResult<Option<Frame>> {
        let Some(h) = &self.history else {
            return Ok(None);
        };
        let columns: Vec<usize> = (1..h.batch.num_columns()).collect();
        let mut frame = match h.rows(id) {
            Some((start, len)) => {
                Frame::from_batches(&[h.batch.slice(start, len).project(&columns)?])?
            }
            None => Frame::default(),
        };
        if frame.columns.is_empty() {
            let schema = h.batch.schema();
            frame.columns = columns
                .iter()
                .map(|&i| schema.field(i).name().clone())
                .collect();
        }
        Ok(Some(frame))
    }
}

/// Identity and account columns the derived profile takes from `gold.dim_customer` (never its
/// `customer_segment` or `decline_type`: the generator's hidden truth, SPEC §1).
const DIM_COLUMNS: [&str; 11] = [
    "customer_key",
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
];

fn quoted(alias: &str, column: &str) -> String {
    format!("{alias}.\"{}\"", column.replace('"', "\"\""))
}

/// The deep dive's profile without `gold.customer_360_profile`: the current `dim_customer` row
/// and, when present, the customer's `customer_segments` row (column names come from the
/// tables' schemas and are quoted; no user input reaches this SQL).
fn derived_profile_sql(dim_columns: &[String], segment_columns: &[String]) -> String {
    let has = |c: &str| dim_columns.iter().any(|x| x == c);
    let mut select = vec!["d.customer_id".to_string()];
    if has("first_name") && has("last_name") {
        select.push("concat_ws(' ', d.first_name, d.last_name) AS full_name".into());
    }
    select.extend(
        DIM_COLUMNS
            .iter()
            .filter(|c| has(c))
            .map(|c| quoted("d", c)),
    );
    let segments: Vec<String> = segment_columns
        .iter()
        .filter(|c| c.as_str() != "customer_id")
        .map(|c| quoted("s", c))
        .collect();
    let join = if segments.is_empty() {
        String::new()
    } else {
        select.extend(segments);
        "LEFT JOIN gold.customer_segments s ON s.customer_id = d.customer_id".to_string()
    };
    format!(
        "SELECT {} FROM gold.dim_customer d {join} WHERE d.is_current ORDER BY d.customer_id",
        select.join(", ")
    )
}
