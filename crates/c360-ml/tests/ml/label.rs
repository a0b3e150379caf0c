//! The label rule of SPEC §5 on its edges. as_of 2025-06-30 ⇒ cutoff 2025-04-01, first
//! approved transaction ≤ 2024-10-03, baseline window (2024-04-06, 2025-04-01].

use c360_ml::{label_sql, training_data, Tables};

use crate::synth::{as_of, Data, Txn, Version};
use crate::{bools, f64s, one, strings};

fn approved(data: &mut Data, customer: &str, rows: &[(&str, f64)]) {
    for (d, amount) in rows {
        data.txns.push(Txn::approved(customer, d, *amount));
    }
    if !data.versions.iter().any(|v| v.customer_id == customer) {
        data.versions.push(Version::new(customer, "2020-01-01"));
    }
}

const FIVE: [(&str, f64); 5] = [
    ("2024-10-03", 100.0),
    ("2024-12-01", 100.0),
    ("2025-01-01", 100.0),
    ("2025-02-01", 100.0),
    ("2025-04-01", 100.0), // on the cutoff: baseline, not future
];

fn edge_cases() -> Data {
    let mut data = Data::default();
    // Baseline 500 / 4 = 125; 0.30 × 125 = 37.50.
    approved(&mut data, "E1_equal", &FIVE);
    approved(&mut data, "E1_equal", &[("2025-04-02", 37.50)]);
    approved(&mut data, "E2_below", &FIVE);
    approved(&mut data, "E2_below", &[("2025-04-02", 37.49)]);
    // First transaction one day too late.
    let late: Vec<(&str, f64)> = [("2024-10-04", 100.0)]
        .into_iter()
        .chain(FIVE[1..].iter().copied())
        .chain([("2025-03-01", 100.0)])
        .collect();
    approved(&mut data, "N1_late_first", &late);
    // Four approved and three declined before the cutoff.
    approved(&mut data, "N2_four", &FIVE[..4]);
    for d in ["2024-11-01", "2024-11-02", "2024-11-03"] {
        data.txns.push(Txn::declined("N2_four", d, 50.0));
    }
    // cutoff − 360 itself is outside the baseline; as_of itself is inside the future; the day
    // after as_of is ignored. Baseline 160 / 4 = 40, 0.30 × 40 = 12.
    approved(
        &mut data,
        "E3_windows",
        &[
            ("2024-04-06", 1000.0),
            ("2024-04-07", 40.0),
            ("2024-10-01", 40.0),
            ("2025-01-01", 40.0),
            ("2025-02-01", 40.0),
            ("2025-06-30", 11.99),
            ("2025-07-01", 100.0),
        ],
    );
    // Eligible, no spend in the baseline year: baseline 0, never churned.
    approved(
        &mut data,
        "E4_gone",
        &[
            ("2024-01-01", 10.0),
            ("2024-01-02", 10.0),
            ("2024-01-03", 10.0),
            ("2024-01-04", 10.0),
            ("2024-01-05", 10.0),
        ],
    );
    // A declined future is no spend.
    approved(&mut data, "E5_declined", &FIVE);
    data.txns
        .push(Txn::declined("E5_declined", "2025-05-01", 1000.0));
    data
}

#[tokio::test]
async fn label_edges() {
    let data = edge_cases();
    let ctx = data.session();
    let sql = label_sql(&Tables::default(), as_of()).unwrap();
    let batch = one(&ctx.sql(&sql).await.unwrap().collect().await.unwrap());
    let mut rows: Vec<(String, bool, f64, f64)> = strings(&batch, "customer_id")
        .into_iter()
        .zip(bools(&batch, "churned"))
        .zip(f64s(&batch, "label_spend_prior_360d"))
        .zip(f64s(&batch, "label_future_spend"))
        .map(|(((c, y), b), f)| (c, y, b, f))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = vec![
        ("E1_equal".to_string(), false, 500.0, 37.50),
        ("E2_below".to_string(), true, 500.0, 37.49),
        ("E3_windows".to_string(), true, 160.0, 11.99),
        ("E4_gone".to_string(), false, 0.0, 0.0),
        ("E5_declined".to_string(), true, 500.0, 0.0),
    ];
    assert_eq!(rows, expected);

    // The training data has the same customers and labels, with their features.
    let training = one(&training_data(&ctx, &Tables::default(), as_of())
        .await
        .unwrap());
    assert_eq!(
        strings(&training, "customer_id"),
        [
            "E1_equal",
            "E2_below",
            "E3_windows",
            "E4_gone",
            "E5_declined"
        ]
    );
    assert_eq!(
        bools(&training, "churned"),
        [false, true, true, false, true]
    );
    // Features are at the cutoff: E1's future transaction is not in them.
    assert_eq!(f64s(&training, "spend_90d")[0], 200.0);
}

#[test]
fn cutoff_is_ninety_days_before() {
    assert_eq!(
        c360_ml::cutoff_of(as_of()).unwrap(),
        crate::synth::date("2025-04-01")
    );
}
