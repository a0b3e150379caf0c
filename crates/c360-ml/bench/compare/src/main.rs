//! Trains the candidate crates on the dumped churn training set (same rows, same holdout as
//! c360-ml's own model) and prints holdout AUC, fit and predict time, and whether two fits give
//! bit-identical predictions. Usage: `compare FILE.csv` (from `churn_bench --dump`, or
//! `gold.churn_training_data` exported with `c360 query --format csv`).

use std::time::Instant;

/// c360-ml's booster, the very file the crate compiles.
#[path = "../../../src/gbdt.rs"]
#[allow(dead_code)]
mod gbdt_own;
#[path = "../../../src/serde_util.rs"]
#[allow(dead_code)]
mod serde_util;

/// The two errors `gbdt.rs` uses, standing in for c360-ml's `MlError`.
#[derive(Debug)]
#[allow(dead_code)]
enum MlError {
    InvalidParameter { name: &'static str, reason: String },
    InsufficientData(String),
}
type Result<T, E = MlError> = std::result::Result<T, E>;

struct Data {
    x_train: Vec<Vec<f64>>,
    y_train: Vec<f64>,
    x_test: Vec<Vec<f64>>,
    y_test: Vec<f64>,
}

/// Reads either `churn_bench --dump` output (features…, label, holdout flag) or
/// `gold.churn_training_data` exported with `c360 query --format csv` (features…, `churned`),
/// whose holdout is drawn here exactly as c360-ml draws it (stratified 20 %, SplitMix64 seed
/// 42, see `stratified_split` in src/model.rs).
fn load(path: &str) -> Data {
    let text = std::fs::read_to_string(path).expect("read the CSV");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let exported = header.last() == Some(&"churned");
    let n_features = if exported {
        header.len() - 1
    } else {
        header.len() - 2
    };
    let parse_label = |v: &str| match v {
        "true" | "1" => 1.0,
        "false" | "0" => 0.0,
        other => panic!("label {other}"),
    };
    let mut rows = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let x: Vec<f64> = f[..n_features]
            .iter()
            .map(|v| v.parse().unwrap_or(f64::NAN))
            .collect();
        let y = parse_label(f[n_features]);
        let holdout = !exported && f[n_features + 1] == "1";
        rows.push((x, y, holdout));
    }
    if exported {
        let mut rng = gbdt_own::SplitMix64::new(42);
        for class in [1.0, 0.0] {
            let mut idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].1 == class).collect();
            rng.shuffle(&mut idx);
            let n_test = (idx.len() as f64 * 0.2).round() as usize;
            for &i in &idx[..n_test] {
                rows[i].2 = true;
            }
        }
    }
    let mut d = Data {
        x_train: vec![],
        y_train: vec![],
        x_test: vec![],
        y_test: vec![],
    };
    for (x, y, holdout) in rows {
        if holdout {
            d.x_test.push(x);
            d.y_test.push(y);
        } else {
            d.x_train.push(x);
            d.y_train.push(y);
        }
    }
    d
}

fn auc(y: &[f64], p: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && p[order[j + 1]] == p[order[i]] {
            j += 1;
        }
        let rank = (i + j + 2) as f64 / 2.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| y[k] == 1.0).count() as f64;
        i = j + 1;
    }
    let pos = y.iter().filter(|&&v| v == 1.0).count() as f64;
    let neg = y.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn column_major(rows: &[Vec<f64>]) -> Vec<f64> {
    let cols = rows[0].len();
    (0..cols)
        .flat_map(|j| rows.iter().map(move |r| r[j]))
        .collect()
}

fn report(name: &str, d: &Data, fit: &dyn Fn() -> Box<dyn Fn(&[Vec<f64>]) -> Vec<f64>>) {
    let started = Instant::now();
    let model = fit();
    let fit_time = started.elapsed();
    let started = Instant::now();
    let p = model(&d.x_test);
    let predict_time = started.elapsed();
    let again = fit()(&d.x_test);
    let same = p
        .iter()
        .zip(&again)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "| {name:<44} | {:.4} | {:>8.2?} | {:>8.2?} | {} |",
        auc(&d.y_test, &p),
        fit_time,
        predict_time,
        if same { "yes" } else { "no" }
    );
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: compare FILE.csv");
    let d = load(&path);
    println!(
        "{} train rows, {} test rows, {} features",
        d.x_train.len(),
        d.x_test.len(),
        d.x_train[0].len()
    );
    println!("| candidate | AUC | fit | predict | deterministic |");
    println!("| --- | --- | --- | --- | --- |");

    // c360-ml's own booster with its default parameters.
    report(
        "c360-ml gbdt (own: 200 trees, lr 0.05, depth 4)",
        &d,
        &|| {
            let rows: Vec<f64> = d.x_train.iter().flatten().copied().collect();
            let x = gbdt_own::Matrix::new(d.x_train.len(), d.x_train[0].len(), rows).unwrap();
            let b =
                gbdt_own::Booster::fit(&x, &d.y_train, &gbdt_own::GbdtParams::default()).unwrap();
            Box::new(move |rows: &[Vec<f64>]| rows.iter().map(|r| b.predict_proba(r)).collect())
        },
    );
    for (trees, depth) in [(300, 5)] {
        report(
            &format!("c360-ml gbdt (own: {trees} trees, lr 0.05, depth {depth})"),
            &d,
            &|| {
                let rows: Vec<f64> = d.x_train.iter().flatten().copied().collect();
                let x = gbdt_own::Matrix::new(d.x_train.len(), d.x_train[0].len(), rows).unwrap();
                let params = gbdt_own::GbdtParams {
                    n_trees: trees,
                    max_depth: depth,
                    ..Default::default()
                };
                let b = gbdt_own::Booster::fit(&x, &d.y_train, &params).unwrap();
                Box::new(move |rows: &[Vec<f64>]| rows.iter().map(|r| b.predict_proba(r)).collect())
            },
        );
    }

    // forust-ml: histogram GBDT, XGBoost-like parameters, single-threaded.
    for (trees, depth) in [(200, 4), (300, 5)] {
        report(
            &format!("forust-ml 0.8 ({trees} trees, lr 0.05, depth {depth})"),
            &d,
            &|| {
                let train = column_major(&d.x_train);
                let m = forust_ml::Matrix::new(&train, d.x_train.len(), d.x_train[0].len());
                let mut b = forust_ml::GradientBooster::default()
                    .set_iterations(trees)
                    .set_learning_rate(0.05)
                    .set_max_depth(depth)
                    .set_parallel(false);
                b.fit_unweighted(&m, &d.y_train, None).unwrap();
                Box::new(move |rows: &[Vec<f64>]| {
                    let test = column_major(rows);
                    let m = forust_ml::Matrix::new(&test, rows.len(), rows[0].len());
                    b.predict(&m, false)
                        .into_iter()
                        .map(|z| 1.0 / (1.0 + (-z).exp()))
                        .collect()
                })
            },
        );
    }

    // perpetual: self-tuning GBM with a budget.
    for budget in [0.5f32, 1.0] {
        report(
            &format!("perpetual 3.0.0-rc.2 (budget {budget})"),
            &d,
            &|| {
                let train = column_major(&d.x_train);
                let m = perpetual::Matrix::new(&train, d.x_train.len(), d.x_train[0].len());
                let mut b = perpetual::PerpetualBooster::default()
                    .set_objective(perpetual::objective::Objective::LogLoss)
                    .set_budget(budget)
                    .set_num_threads(Some(1));
                b.fit(&m, &d.y_train, None, None).unwrap();
                Box::new(move |rows: &[Vec<f64>]| {
                    let test = column_major(rows);
                    let m = perpetual::Matrix::new(&test, rows.len(), rows[0].len());
                    b.predict_proba(&m, false, false)
                })
            },
        );
    }

    // gbdt (gbdt-rs): f32 features, NaN as its "unknown" value, labels ±1.
    report("gbdt 0.1.3 (200 trees, lr 0.05, depth 4)", &d, &|| {
        let to_data = |rows: &[Vec<f64>], y: Option<&[f64]>| -> gbdt::decision_tree::DataVec {
            rows.iter()
                .enumerate()
                .map(|(i, r)| {
                    let f: Vec<f32> = r
                        .iter()
                        .map(|&v| {
                            if v.is_nan() {
                                gbdt::decision_tree::VALUE_TYPE_UNKNOWN
                            } else {
                                v as f32
                            }
                        })
                        .collect();
                    match y {
                        Some(y) => gbdt::decision_tree::Data::new_training_data(
                            f,
                            1.0,
                            if y[i] == 1.0 { 1.0 } else { -1.0 },
                            None,
                        ),
                        None => gbdt::decision_tree::Data::new_test_data(f, None),
                    }
                })
                .collect()
        };
        let mut cfg = gbdt::config::Config::new();
        cfg.set_feature_size(d.x_train[0].len());
        cfg.set_max_depth(4);
        cfg.set_iterations(200);
        cfg.set_shrinkage(0.05);
        cfg.set_loss("LogLikelyhood");
        cfg.set_min_leaf_size(10);
        cfg.set_data_sample_ratio(1.0);
        cfg.set_feature_sample_ratio(1.0);
        cfg.set_training_optimization_level(2);
        let mut g = gbdt::gradient_boost::GBDT::new(&cfg);
        let mut train = to_data(&d.x_train, Some(&d.y_train));
        g.fit(&mut train);
        Box::new(move |rows: &[Vec<f64>]| {
            g.predict(&to_data(rows, None))
                .into_iter()
                .map(f64::from)
                .collect()
        })
    });

    // smartcore: its XGBoost is a regressor only (squared error on the 0/1 label).
    report(
        "smartcore 0.7 XGRegressor (200 trees, depth 4)",
        &d,
        &|| {
            use smartcore::linalg::basic::matrix::DenseMatrix;
            let fill = |rows: &[Vec<f64>]| -> Vec<Vec<f64>> {
                rows.iter()
                    .map(|r| {
                        r.iter()
                            .map(|&v| if v.is_nan() { -1e9 } else { v })
                            .collect()
                    })
                    .collect()
            };
            let x = DenseMatrix::from_2d_vec(&fill(&d.x_train)).unwrap();
            let params = smartcore::xgboost::XGRegressorParameters::default()
                .with_n_estimators(200)
                .with_learning_rate(0.05)
                .with_max_depth(4)
                .with_seed(42);
            let m = smartcore::xgboost::XGRegressor::fit(&x, &d.y_train, params).unwrap();
            Box::new(move |rows: &[Vec<f64>]| {
                let x = DenseMatrix::from_2d_vec(&fill(rows)).unwrap();
                m.predict(&x).unwrap()
            })
        },
    );
}
