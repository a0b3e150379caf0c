//! Evaluation metrics of a binary classifier on a holdout: AUC-ROC, PR-AUC (average precision),
//! the F1-optimal threshold, Brier score, a calibration table and a score distribution.
//!
//! Conventions (all deterministic, ties handled exactly):
//! - **AUC-ROC** is the Mann–Whitney statistic with average ranks for tied scores (a tied
//!   positive/negative pair counts ½).
//! - **PR-AUC** is average precision: `Σ (R_k − R_{k−1}) · P_k` over the distinct scores in
//!   descending order, a threshold admitting every row with score ≥ it (as scikit-learn's
//!   `average_precision_score`).
//! - The **F1-optimal threshold** is the distinct score `t` whose rule `score ≥ t` has the
//!   highest F1; among equal F1s the highest threshold wins.
//! - **Brier** is the mean of `(p − y)²`.

use serde::{Deserialize, Serialize};

/// AUC-ROC of scores `p` against labels `y`; `None` without both classes.
pub fn auc_roc(y: &[bool], p: &[f64]) -> Option<f64> {
    let positives = y.iter().filter(|&&v| v).count();
    let negatives = y.len() - positives;
    if positives == 0 || negatives == 0 || y.len() != p.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && p[order[j + 1]] == p[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let rank = (i + j + 2) as f64 / 2.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| y[k]).count() as f64;
        i = j + 1;
    }
    let pos = positives as f64;
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * negatives as f64))
}

/// One operating point: the rule `score ≥ threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Operating {
    /// The threshold.
    pub threshold: f64,
    /// Precision at it.
    pub precision: f64,
    /// Recall at it.
    pub recall: f64,
    /// F1 at it.
    pub f1: f64,
}

/// `(tp, fp)` cumulated over the distinct scores, highest first, with each threshold.
fn pr_points(y: &[bool], p: &[f64]) -> Vec<(f64, usize, usize)> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    let mut i = 0;
    while i < order.len() {
        let t = p[order[i]];
        while i < order.len() && p[order[i]] == t {
            if y[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push((t, tp, fp));
    }
    points
}

/// Average precision (PR-AUC); `None` without positives.
pub fn pr_auc(y: &[bool], p: &[f64]) -> Option<f64> {
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || y.len() != p.len() {
        return None;
    }
    let mut ap = 0.0;
    let mut last_recall = 0.0;
    for (_, tp, fp) in pr_points(y, p) {
        let recall = tp as f64 / positives as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
    }
    Some(ap)
}

/// The F1-optimal operating point; `None` without positives.
pub fn best_f1(y: &[bool], p: &[f64]) -> Option<Operating> {
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || y.len() != p.len() {
        return None;
    }
    let mut best: Option<Operating> = None;
    for (threshold, tp, fp) in pr_points(y, p) {
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / positives as f64;
        let f1 = if tp == 0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        if best.is_none_or(|b| f1 > b.f1) {
            best = Some(Operating {
                threshold,
                precision,
                recall,
                f1,
            });
        }
    }
    best
}

/// Brier score (mean squared error of the probabilities); `None` for no rows.
pub fn brier(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.is_empty() || y.len() != p.len() {
        return None;
    }
    let sum: f64 = y
        .iter()
        .zip(p)
        .map(|(&y, &p)| {
            let d = p - if y { 1.0 } else { 0.0 };
            d * d
        })
        .sum();
    Some(sum / y.len() as f64)
}

/// One row of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// 1 (lowest predicted) … 10.
    pub decile: u32,
    /// Rows in the decile.
    pub rows: usize,
    /// Mean predicted probability.
    pub mean_predicted: f64,
    /// Observed churn rate (0–1).
    pub observed_rate: f64,
}

/// Calibration by deciles of predicted probability: rows sorted by `p` (ties by position) cut
/// into 10 groups of sizes as equal as possible (`[i·n/10, (i+1)·n/10)`); empty groups (fewer
/// than 10 rows) are left out.
pub fn calibration(y: &[bool], p: &[f64]) -> Vec<CalibrationBin> {
    let n = y.len().min(p.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    (0..10)
        .filter_map(|i| {
            let group = &order[i * n / 10..(i + 1) * n / 10];
            if group.is_empty() {
                return None;
            }
            let rows = group.len();
            Some(CalibrationBin {
                decile: i as u32 + 1,
                rows,
                mean_predicted: group.iter().map(|&k| p[k]).sum::<f64>() / rows as f64,
                observed_rate: group.iter().filter(|&&k| y[k]).count() as f64 / rows as f64,
            })
        })
        .collect()
}

/// Rows per 10-point bucket of churn_risk_score: `[0, 10)`, `[10, 20)`, …, `[90, 100]`.
pub fn score_distribution(scores: &[f64]) -> [usize; 10] {
    let mut buckets = [0; 10];
    for &s in scores {
        if s.is_finite() {
            buckets[((s / 10.0).floor().max(0.0) as usize).min(9)] += 1;
        }
    }
    buckets
}
