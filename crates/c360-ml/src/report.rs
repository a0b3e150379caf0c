//! The model card: a markdown report of one registered model — settings, holdout metrics,
//! feature importance, calibration, score distribution — plus, when the lake has them, the
//! scored population of `churn_predictions` and who its High-risk customers are by the
//! generator's hidden truth (for evaluation only; the truth is never a feature).

use std::fmt::Write;

use arrow::array::{Array, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use c360_lake::datafusion::prelude::SessionContext;
use chrono::NaiveDate;

use crate::features::FEATURES;
use crate::model::{string_column, TrainedModel};
use crate::{MlError, Result};

/// How `churn_predictions` of one model version looks.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// The predictions' date.
    pub prediction_date: NaiveDate,
    /// Scored customers.
    pub scored: usize,
    /// Customers per churn_risk_category (High, Medium, Low).
    pub by_category: Vec<(String, usize)>,
    /// Scored customers per 10-point churn_risk_score bucket.
    pub buckets: [usize; 10],
    /// Scored and High-risk customers per hidden-truth group, when `gold.dim_customer` has
    /// the generator's `customer_segment`.
    pub truth: Option<Vec<TruthGroup>>,
}

/// One hidden-truth group of scored customers.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthGroup {
    /// `Declining (gradual)`, `Declining (sudden)`, `Quiet churner` or `Other`.
    pub group: String,
    /// Whether the group counts as a real churner (decliners and quiet churners).
    pub churner: bool,
    /// Scored customers of the group.
    pub scored: usize,
    /// High-risk customers of the group.
    pub high: usize,
}

impl Population {
    /// Share (0–100) of the High-risk customers who are decliners or quiet churners; `None`
    /// without truth or without High-risk customers.
    pub fn high_risk_churner_share(&self) -> Option<f64> {
        let truth = self.truth.as_ref()?;
        let high: usize = truth.iter().map(|g| g.high).sum();
        let churners: usize = truth.iter().filter(|g| g.churner).map(|g| g.high).sum();
        (high > 0).then(|| churners as f64 / high as f64 * 100.0)
    }
}

/// Days without approved spend before as_of that make a customer of another segment a
/// "quiet churner" in the evaluation (generator customers transact several times a month).
pub const QUIET_DAYS: i64 = 30;

async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql)
        .await
        .map_err(MlError::query("report"))?
        .collect()
        .await
        .map_err(MlError::query("report"))
}

fn numbers(batches: &[RecordBatch], name: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for batch in batches {
        let column = batch.column_by_name(name).ok_or_else(|| MlError::Schema {
            what: "report",
            detail: format!("no column `{name}`"),
        })?;
        let column = cast(column, &DataType::Float64).map_err(|e| MlError::Schema {
            what: "report",
            detail: e.to_string(),
        })?;
        let column = column
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| MlError::Schema {
                what: "report",
                detail: format!("`{name}` is not numeric"),
            })?;
        out.extend((0..column.len()).map(|i| column.value(i)));
    }
    Ok(out)
}

/// The scored population of model `version` in `gold.churn_predictions` (`None` when the
/// table is absent or holds no row of that version). Needs `gold.fct_transactions` and
/// `gold.dim_customer` for the truth breakdown, which is left out when `dim_customer` has no
/// `customer_segment` column.
pub async fn population(ctx: &SessionContext, version: u32) -> Result<Option<Population>> {
    if !ctx
        .table_exist("gold.churn_predictions")
        .map_err(MlError::query("report"))?
    {
        return Ok(None);
    }
    let scored = format!("SELECT * FROM gold.churn_predictions WHERE model_version = {version}");
    let summary = rows(
        ctx,
        &format!(
            "SELECT CAST(prediction_date AS VARCHAR) AS d, churn_risk_category AS category,
                    LEAST(CAST(FLOOR(churn_risk_score / 10) AS INT), 9) AS bucket, COUNT(*) AS n
             FROM ({scored}) p GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ),
    )
    .await?;
    let dates = string_column(&summary, "d", "report")?;
    let Some(date) = dates.first() else {
        return Ok(None);
    };
    let prediction_date =
        NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| MlError::Schema {
            what: "report",
            detail: format!("prediction_date {date}: {e}"),
        })?;
    let categories = string_column(&summary, "category", "report")?;
    let buckets_of = numbers(&summary, "bucket")?;
    let counts = numbers(&summary, "n")?;
    let mut by_category: Vec<(String, usize)> = ["High", "Medium", "Low"]
        .iter()
        .map(|c| (c.to_string(), 0))
        .collect();
    let mut buckets = [0usize; 10];
    for ((category, bucket), n) in categories.iter().zip(&buckets_of).zip(&counts) {
        if let Some(entry) = by_category.iter_mut().find(|(c, _)| c == category) {
            entry.1 += *n as usize;
        }
        buckets[(*bucket as usize).min(9)] += *n as usize;
    }
    let has_truth = match ctx.table("gold.dim_customer").await {
        Ok(dim) => dim
            .schema()
            .field_with_unqualified_name("customer_segment")
            .is_ok(),
        Err(_) => false,
    } && ctx
        .table_exist("gold.fct_transactions")
        .map_err(MlError::query("report"))?;
    let truth = if has_truth {
        let grouped = rows(
            ctx,
            &format!(
                "WITH p AS ({scored}),
                 c AS (SELECT customer_id, customer_segment, decline_type
                       FROM gold.dim_customer WHERE is_current),
                 l AS (SELECT customer_id, MAX(transaction_date) AS last_spend
                       FROM gold.fct_transactions
                       WHERE status = 'approved' AND transaction_date <= DATE '{prediction_date}'
                       GROUP BY customer_id),
                 g AS (SELECT p.churn_risk_category AS category,
                         CASE WHEN c.customer_segment = 'Declining'
                                THEN 'Declining (' || COALESCE(c.decline_type, 'unknown') || ')'
                              WHEN l.last_spend IS NULL
                                OR l.last_spend <= DATE '{prediction_date}' - INTERVAL '{QUIET_DAYS} days'
                                THEN 'Quiet churner'
                              ELSE 'Other' END AS grp
                       FROM p LEFT JOIN c ON p.customer_id = c.customer_id
                              LEFT JOIN l ON p.customer_id = l.customer_id)
                 SELECT grp, COUNT(*) AS scored,
                        COUNT(CASE WHEN category = 'High' THEN 1 END) AS high
                 FROM g GROUP BY grp ORDER BY grp"
            ),
        )
        .await?;
        let groups = string_column(&grouped, "grp", "report")?;
        let scored = numbers(&grouped, "scored")?;
        let high = numbers(&grouped, "high")?;
        Some(
            groups
                .into_iter()
                .zip(scored.iter().zip(&high))
                .map(|(group, (&scored, &high))| TruthGroup {
                    churner: group != "Other",
                    group,
                    scored: scored as usize,
                    high: high as usize,
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(Some(Population {
        prediction_date,
        scored: counts.iter().sum::<f64>() as usize,
        by_category,
        buckets,
        truth,
    }))
}

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1} %", part as f64 / whole as f64 * 100.0)
    }
}

/// The model card of `model` as markdown: `history` is every registered model (for the
/// version table), `population` its predictions when available.
pub fn model_card(
    model: &TrainedModel,
    history: &[TrainedModel],
    population: Option<&Population>,
) -> String {
    let m = &model.metrics;
    let version = model
        .version
        .map_or_else(|| "unsaved".to_string(), |v| format!("v{v}"));
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Churn model {version}\n");
    let _ = writeln!(
        w,
        "{} — holdout AUC-ROC {:.4} against the gate of {:.2}.\n",
        if model.promoted {
            "**Promoted**"
        } else {
            "**Not promoted** (the previous promoted model keeps scoring)"
        },
        m.auc_roc,
        model.min_auc
    );
    let p = &model.config.params;
    let _ = writeln!(w, "| | |\n| --- | --- |");
    for (k, v) in [
        ("training as_of", model.training_as_of.to_string()),
        ("feature cutoff", model.cutoff.to_string()),
        ("data version", model.data_version.clone()),
        ("classifier", format!("{} (c360-ml histogram GBDT)", model.model_type)),
        (
            "parameters",
            format!(
                "{} trees, learning rate {}, depth {}, subsample {}, colsample {}, {} bins, seed {}",
                p.n_trees, p.learning_rate, p.max_depth, p.subsample, p.colsample, p.max_bins, p.seed
            ),
        ),
        (
            "split",
            format!(
                "stratified {:.0}/{:.0} holdout, seed {}",
                (1.0 - model.config.test_fraction) * 100.0,
                model.config.test_fraction * 100.0,
                model.config.split_seed
            ),
        ),
        ("features", model.features.len().to_string()),
    ] {
        let _ = writeln!(w, "| {k} | {v} |");
    }

    let _ = writeln!(w, "\n## Label and holdout metrics\n");
    let _ = writeln!(w, "| metric | value |\n| --- | --- |");
    let rows = [
        (
            "label churn rate (all eligible customers)",
            format!("{:.2} %", m.label_churn_rate_pct),
        ),
        (
            "training rows (churned)",
            format!("{} ({})", m.train_rows, m.train_positives),
        ),
        (
            "holdout rows (churned)",
            format!("{} ({})", m.test_rows, m.test_positives),
        ),
        ("AUC-ROC", format!("{:.4}", m.auc_roc)),
        ("PR-AUC (average precision)", format!("{:.4}", m.pr_auc)),
        (
            "F1-optimal threshold on P(churn)",
            format!("{:.4}", m.best_f1.threshold),
        ),
        (
            "precision at that threshold",
            format!("{:.4}", m.best_f1.precision),
        ),
        (
            "recall at that threshold",
            format!("{:.4}", m.best_f1.recall),
        ),
        ("F1", format!("{:.4}", m.best_f1.f1)),
        ("Brier score", format!("{:.4}", m.brier)),
    ];
    for (k, v) in rows {
        let _ = writeln!(w, "| {k} | {v} |");
    }

    let _ = writeln!(w, "\n## Feature importance (share of split gain)\n");
    let _ = writeln!(w, "| feature | gain % | meaning |\n| --- | --- | --- |");
    for f in m.feature_importance.iter().filter(|f| f.gain_pct > 0.0) {
        let meaning = FEATURES
            .iter()
            .find(|s| s.name == f.feature)
            .map_or("", |s| s.description);
        let _ = writeln!(w, "| {} | {:.2} | {meaning} |", f.feature, f.gain_pct);
    }

    let _ = writeln!(w, "\n## Calibration (holdout deciles of P(churn))\n");
    let _ = writeln!(
        w,
        "| decile | rows | mean predicted | observed churn rate |\n| --- | --- | --- | --- |"
    );
    for bin in &m.calibration {
        let _ = writeln!(
            w,
            "| {} | {} | {:.4} | {:.4} |",
            bin.decile, bin.rows, bin.mean_predicted, bin.observed_rate
        );
    }

    let _ = writeln!(
        w,
        "\n## Score distribution (churn_risk_score, 10-point buckets)\n"
    );
    let scored_header = population.map_or(String::new(), |pop| {
        format!(" customers scored on {} |", pop.prediction_date)
    });
    let _ = writeln!(
        w,
        "| bucket | holdout rows |{scored_header}\n| --- | --- |{}",
        if population.is_some() { " --- |" } else { "" }
    );
    for (i, n) in m.score_distribution.iter().enumerate() {
        let scored = population.map_or(String::new(), |pop| format!(" {} |", pop.buckets[i]));
        let _ = writeln!(w, "| {:02}–{:02} | {n} |{scored}", i * 10, i * 10 + 10);
    }

    if let Some(pop) = population {
        let _ = writeln!(w, "\n## Scored customers ({})\n", pop.prediction_date);
        let _ = writeln!(
            w,
            "| churn_risk_category | customers | share |\n| --- | --- | --- |"
        );
        for (category, n) in &pop.by_category {
            let _ = writeln!(w, "| {category} | {n} | {} |", pct(*n, pop.scored));
        }
        let _ = writeln!(w, "| all scored | {} | |", pop.scored);
        if let Some(truth) = &pop.truth {
            let high: usize = truth.iter().map(|g| g.high).sum();
            let _ = writeln!(
                w,
                "\n### High-risk customers by the generator's hidden truth\n\n\
                 Evaluation only (never a feature). A quiet churner is a customer outside the \
                 Declining segment without approved spend in the {QUIET_DAYS} days before the \
                 prediction date.\n"
            );
            let _ = writeln!(
                w,
                "| group | scored | High risk | share of all High risk | share of the group flagged High |\n| --- | --- | --- | --- | --- |"
            );
            for g in truth {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} |",
                    g.group,
                    g.scored,
                    g.high,
                    pct(g.high, high),
                    pct(g.high, g.scored)
                );
            }
            if let Some(share) = pop.high_risk_churner_share() {
                let _ = writeln!(
                    w,
                    "\n**{share:.1} %** of the High-risk customers are decliners or quiet churners."
                );
            }
        }
    }

    let _ = writeln!(w, "\n## Registry\n");
    let _ = writeln!(
        w,
        "| version | training as_of | features | AUC-ROC | promoted | data version |\n| --- | --- | --- | --- | --- | --- |"
    );
    for h in history {
        let _ = writeln!(
            w,
            "| v{} | {} | {} | {:.4} | {} | {} |",
            h.version.unwrap_or(0),
            h.training_as_of,
            h.features.len(),
            h.metrics.auc_roc,
            if h.promoted { "yes" } else { "no" },
            h.data_version
        );
    }
    out
}
