//! Metrics against hand-computed values.

use c360_ml::metrics::{auc_roc, best_f1, brier, calibration, pr_auc, score_distribution};
use c360_ml::{risk_score, RiskCategory};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn four_rows_by_hand() {
    let y = [true, false, true, false];
    let p = [0.9, 0.8, 0.7, 0.1];
    // Positive/negative pairs ranked right: (0.9,0.8) (0.9,0.1) (0.7,0.1); wrong: (0.7,0.8).
    close(auc_roc(&y, &p).unwrap(), 0.75);
    // Thresholds 0.9: P 1, R ½ · 0.8: P ½, R ½ · 0.7: P ⅔, R 1 · 0.1: P ½, R 1.
    close(pr_auc(&y, &p).unwrap(), 0.5 * 1.0 + 0.5 * (2.0 / 3.0));
    // (0.1² + 0.8² + 0.3² + 0.1²) / 4.
    close(brier(&y, &p).unwrap(), 0.75 / 4.0);
    let op = best_f1(&y, &p).unwrap();
    close(op.threshold, 0.7);
    close(op.precision, 2.0 / 3.0);
    close(op.recall, 1.0);
    close(op.f1, 0.8);
}

#[test]
fn ties_count_half() {
    close(auc_roc(&[true, false], &[0.5, 0.5]).unwrap(), 0.5);
    // One positive tied with one of two negatives, above the other: (1 + ½) / 2.
    close(
        auc_roc(&[true, false, false], &[0.5, 0.5, 0.2]).unwrap(),
        0.75,
    );
    // A tie group is one threshold: at 0.5 both rows enter, precision ½, recall 1.
    close(pr_auc(&[true, false], &[0.5, 0.5]).unwrap(), 0.5);
}

#[test]
fn perfect_and_inverted() {
    let y = [false, false, true, true];
    close(auc_roc(&y, &[0.1, 0.2, 0.8, 0.9]).unwrap(), 1.0);
    close(pr_auc(&y, &[0.1, 0.2, 0.8, 0.9]).unwrap(), 1.0);
    close(auc_roc(&y, &[0.9, 0.8, 0.2, 0.1]).unwrap(), 0.0);
    close(brier(&y, &[0.0, 0.0, 1.0, 1.0]).unwrap(), 0.0);
}

#[test]
fn undefined_without_both_classes() {
    assert_eq!(auc_roc(&[true, true], &[0.1, 0.2]), None);
    assert_eq!(auc_roc(&[false], &[0.1]), None);
    assert_eq!(pr_auc(&[false, false], &[0.1, 0.2]), None);
    assert_eq!(best_f1(&[false], &[0.1]), None);
    assert_eq!(brier(&[], &[]), None);
    assert_eq!(auc_roc(&[true, false], &[0.1]), None);
}

#[test]
fn calibration_deciles() {
    let p: Vec<f64> = (0..20).map(|i| i as f64 / 20.0).collect();
    let y: Vec<bool> = (0..20).map(|i| i >= 10).collect();
    let table = calibration(&y, &p);
    assert_eq!(table.len(), 10);
    assert!(table.iter().all(|b| b.rows == 2));
    close(table[0].mean_predicted, 0.025);
    close(table[0].observed_rate, 0.0);
    close(table[9].observed_rate, 1.0);
    // Fewer rows than deciles: empty deciles are left out.
    assert_eq!(calibration(&[true, false], &[0.3, 0.6]).len(), 2);
}

#[test]
fn scores_and_categories() {
    assert_eq!(risk_score(0.12341), 12.3);
    assert_eq!(risk_score(0.12356), 12.4);
    assert_eq!(risk_score(0.0), 0.0);
    assert_eq!(risk_score(1.0), 100.0);
    assert_eq!(risk_score(0.69951), 70.0);
    assert_eq!(RiskCategory::of(70.0), RiskCategory::High);
    assert_eq!(RiskCategory::of(69.9), RiskCategory::Medium);
    assert_eq!(RiskCategory::of(40.0), RiskCategory::Medium);
    assert_eq!(RiskCategory::of(39.9), RiskCategory::Low);
    assert_eq!(
        score_distribution(&[0.0, 9.9, 10.0, 55.5, 100.0]),
        [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    );
}
