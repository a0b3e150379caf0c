//! Features: exact values on hand-made rows, the point-in-time customer version, and no
//! leakage of anything after the cutoff.

use c360_ml::{feature_names, features_frame, training_data, Tables, FEATURES};

use crate::synth::{as_of, date, population, Data, Txn, Version};
use crate::{f64s, one, strings, value_of};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn hand_data() -> Data {
    let mut data = Data::default();
    let mut t = |mut txn: Txn, category: i32, channel: &'static str| {
        txn.category = category;
        txn.channel = channel;
        data.txns.push(txn);
    };
    t(Txn::approved("A", "2025-03-31", 100.0), 1, "Online"); // age 1
    t(Txn::approved("A", "2025-03-02", 50.0), 2, "Mobile"); // age 30
    t(Txn::declined("A", "2025-03-03", 70.0), 3, "Online"); // age 29
    t(Txn::approved("A", "2025-01-01", 30.0), 3, "In-Store"); // age 90
    t(Txn::approved("A", "2024-10-04", 20.0), 4, "Online"); // age 179
    t(Txn::approved("A", "2024-10-03", 1000.0), 3, "Online"); // age 180
    t(Txn::approved("A", "2025-04-02", 5000.0), 1, "Online"); // after `at`
    t(Txn::approved("B", "2025-03-01", 10.0), 3, "Online");
    let mut v1 = Version::new("A", "2022-01-01");
    v1.credit_limit = 10_000;
    let mut v2 = v1.clone();
    v2.valid_from = date("2025-04-02");
    v2.credit_limit = 20_000;
    v2.card_type = "Premium";
    v2.employment_status = "Retired";
    // B's only version starts after `at`: the first version is used (as fct_transactions does).
    let mut b = Version::new("B", "2025-05-01");
    b.credit_limit = 7_000;
    data.versions = vec![v1, v2, b];
    data
}

#[tokio::test]
async fn hand_computed_values() {
    let data = hand_data();
    let ctx = data.session();
    let at = date("2025-04-01");
    let batch = one(&features_frame(&ctx, &Tables::default(), at)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap());
    assert_eq!(strings(&batch, "customer_id"), ["A", "B"]);
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .skip(1)
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, feature_names());
    let a = |name: &str| value_of(&batch, "A", name);
    close(a("days_since_last_txn"), 1.0);
    close(a("days_since_first_txn"), 180.0);
    close(a("txn_count_total"), 5.0);
    close(a("txn_count_30d"), 1.0);
    close(a("txn_count_90d"), 2.0);
    close(a("txn_count_180d"), 4.0);
    close(a("spend_30d"), 100.0);
    close(a("spend_90d"), 150.0);
    close(a("spend_180d"), 200.0);
    close(a("spend_prior_90d"), 50.0);
    close(a("spend_change_pct"), 200.0);
    close(a("txn_count_change_pct"), 0.0);
    // 30-day periods: 100, 50, 0, 30, 0, 20.
    let slope = (2.5 * 100.0 + 1.5 * 50.0 - 0.5 * 30.0 - 2.5 * 20.0) / 17.5;
    close(a("spend_slope_6m"), slope);
    close(a("spend_slope_6m_pct"), slope / (200.0 / 6.0) * 100.0);
    close(a("spend_30d_vs_6m_avg_pct"), 300.0);
    close(a("travel_spend_pct_180d"), 50.0);
    close(a("necessity_spend_pct_180d"), 25.0);
    close(a("category_count_180d"), 4.0);
    close(a("avg_txn_value_180d"), 50.0);
    close(a("max_txn_value_180d"), 100.0);
    let mean = 50.0;
    let var = [100.0f64, 50.0, 30.0, 20.0]
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / 3.0;
    close(a("std_txn_value_180d"), var.sqrt());
    close(a("decline_rate_90d"), 100.0 / 3.0);
    close(a("online_pct_180d"), 50.0);
    close(a("mobile_pct_180d"), 25.0);
    close(a("in_store_pct_180d"), 25.0);
    close(
        a("tenure_days"),
        (at - date("2022-01-01")).num_days() as f64,
    );
    // The version valid at `at`, not the later one.
    close(a("credit_limit"), 10_000.0);
    close(a("utilisation_pct"), 150.0 / 3.0 / 10_000.0 * 100.0);
    close(a("card_premium"), 0.0);
    close(a("employment_employed"), 1.0);
    close(a("employment_retired"), 0.0);
    close(a("age"), 40.0);
    // B: one transaction, its only (future) version.
    let b = |name: &str| value_of(&batch, "B", name);
    close(b("credit_limit"), 7_000.0);
    assert!(b("spend_change_pct").is_nan(), "no prior spend ⇒ NULL");
    assert!(b("std_txn_value_180d").is_nan(), "one amount ⇒ NULL");
    close(b("tenure_days"), -30.0);

    // A day later the new version and the 5,000 transaction count.
    let later = one(
        &features_frame(&ctx, &Tables::default(), date("2025-04-02"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap(),
    );
    close(value_of(&later, "A", "credit_limit"), 20_000.0);
    close(value_of(&later, "A", "card_premium"), 1.0);
    close(value_of(&later, "A", "employment_retired"), 1.0);
    close(value_of(&later, "A", "spend_30d"), 5100.0);
}

#[test]
fn feature_list_has_no_identifiers_or_hidden_truth() {
    for f in FEATURES {
        for banned in [
            "customer_id",
            "customer_key",
            "name",
            "email",
            "segment",
            "decline_type",
        ] {
            assert!(!f.name.contains(banned), "{} looks like {banned}", f.name);
            assert!(!f.sql.contains(banned), "{} reads {banned}", f.name);
        }
    }
    let mut names = feature_names();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), FEATURES.len(), "duplicate feature names");
}

#[test]
fn bad_table_names_are_refused() {
    let tables = Tables {
        transactions: "gold.fct; DROP TABLE x".into(),
        ..Tables::default()
    };
    let err = c360_ml::feature_sql(&tables, date("2025-01-01")).unwrap_err();
    assert!(
        matches!(err, c360_ml::MlError::InvalidParameter { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn missing_table_is_a_typed_error() {
    let ctx = c360_lake::datafusion::prelude::SessionContext::new();
    let err = training_data(&ctx, &Tables::default(), as_of())
        .await
        .unwrap_err();
    assert!(matches!(err, c360_ml::MlError::Query { .. }), "{err}");
}

/// Changing, removing and adding anything after the cutoff — transactions and customer
/// versions — leaves every training feature exactly as it was (only the label may move).
#[tokio::test]
async fn nothing_after_the_cutoff_leaks_into_training_features() {
    let data = population(300, 7);
    let cutoff = c360_ml::cutoff_of(as_of()).unwrap();
    let before = one(&training_data(&data.session(), &Tables::default(), as_of())
        .await
        .unwrap());

    let mut changed = data.clone();
    let mut rng = c360_ml::gbdt::SplitMix64::new(99);
    let after: Vec<usize> = (0..changed.txns.len())
        .filter(|&i| changed.txns[i].date > cutoff)
        .collect();
    assert!(after.len() > 1000, "the test needs data after the cutoff");
    let mut amounts: Vec<i128> = after.iter().map(|&i| changed.txns[i].cents).collect();
    rng.shuffle(&mut amounts);
    for (k, &i) in after.iter().enumerate() {
        let t = &mut changed.txns[i];
        t.cents = amounts[k] * 3;
        t.status = if rng.next_f64() < 0.5 {
            "declined"
        } else {
            "approved"
        };
        t.channel = "Mobile";
        t.category = 1;
    }
    // Drop a third of them, add a burst of new ones for some customers.
    let mut k = 0;
    changed.txns.retain(|t| {
        k += 1;
        t.date <= cutoff || k % 3 != 0
    });
    for c in (1..=300).step_by(7) {
        let id = format!("CUST{c:08}");
        for d in ["2025-04-02", "2025-05-15", "2025-06-30"] {
            changed.txns.push(Txn::approved(&id, d, 5_000.0));
        }
    }
    // New customer versions from the day after the cutoff.
    let extra: Vec<Version> = changed
        .versions
        .iter()
        .map(|v| Version {
            valid_from: date("2025-04-02"),
            card_type: "Premium",
            credit_limit: 99_000,
            employment_status: "Student",
            ..v.clone()
        })
        .collect();
    changed.versions.extend(extra);
    changed.txns.reverse();

    let after_change = one(
        &training_data(&changed.session(), &Tables::default(), as_of())
            .await
            .unwrap(),
    );
    assert_eq!(
        strings(&before, "customer_id"),
        strings(&after_change, "customer_id")
    );
    for f in FEATURES {
        let (x, y) = (f64s(&before, f.name), f64s(&after_change, f.name));
        let same = x.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(
            same,
            "feature {} changed with data after the cutoff",
            f.name
        );
    }
    let labels = |b| crate::bools(b, "churned");
    assert_ne!(
        labels(&before),
        labels(&after_change),
        "the label should see the future"
    );
}
