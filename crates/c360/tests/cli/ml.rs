//! The churn model and the Customer 360 profile end to end over 1,000 generated customers plus
//! two loaded by hand (one who never transacted, one with 3 transactions near his credit
//! limit): every SPEC §6 profile rule recomputed from the row's own columns, the registry,
//! the gate keeping the previous model scoring, determinism, and the model card.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use c360_lake::Layer;
use chrono::NaiveDate;

use crate::common::*;

struct Setup {
    tmp: tempfile::TempDir,
    project: PathBuf,
    lake: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        copy_dir(Path::new(PROJECT), &project);
        let lake = tmp.path().join("lake");
        Setup { tmp, project, lake }
    }

    fn c360(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(self.project.join("c360.toml"))
            .arg("--lake")
            .arg(&self.lake)
            .env_remove("C360_LAKE")
            .env_remove("C360_FAILPOINT_BEFORE_COMMIT")
            .env_remove("RUST_LOG");
        cmd
    }

    fn registry(&self) -> PathBuf {
        self.lake.join("_c360").join("models").join("churn")
    }

    /// Rows of a table as maps column → text (NULL as None).
    fn table(&self, name: &str) -> Vec<BTreeMap<String, Option<String>>> {
        let batches = read(&self.lake, Layer::Gold, name);
        let Some(first) = batches.first() else {
            return Vec::new();
        };
        let names: Vec<String> = first
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let columns: Vec<Vec<Option<String>>> =
            names.iter().map(|c| strings(&batches, c)).collect();
        (0..columns[0].len())
            .map(|i| {
                names
                    .iter()
                    .zip(&columns)
                    .map(|(n, c)| (n.clone(), c[i].clone()))
                    .collect()
            })
            .collect()
    }

    fn model_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .table("churn_predictions")
            .into_iter()
            .map(|r| r["model_version"].clone().unwrap())
            .collect();
        v.dedup();
        v
    }
}

fn num(row: &BTreeMap<String, Option<String>>, column: &str) -> Option<f64> {
    row[column].as_ref().map(|v| v.parse().unwrap())
}

fn text<'a>(row: &'a BTreeMap<String, Option<String>>, column: &str) -> Option<&'a str> {
    row[column].as_deref()
}

fn day(row: &BTreeMap<String, Option<String>>, column: &str) -> Option<NaiveDate> {
    row[column]
        .as_ref()
        .map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap())
}

fn close(a: Option<f64>, b: Option<f64>, what: &str, id: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{id} {what}: {a} vs {b}"
        ),
        (a, b) => assert_eq!(a, b, "{id} {what}"),
    }
}

/// Two customers loaded by hand: CUSTX0000001 never transacts; CUSTX0000002 has 3 approved
/// Retail transactions (one old, two recent for $1,500 each) on a $1,000 limit.
fn load_extra_customers(setup: &Setup) {
    let customers = setup.tmp.path().join("extra_customers.csv");
    std::fs::write(
        &customers,
        "customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,updated_at\n\
         CUSTX0000001,Nora,Never,nora@example.com,30,CA,Fresno,Employed,Standard,5000,2023-01-10,2023-01-10 09:00:00\n\
         CUSTX0000002,Lena,Limit,lena@example.com,41,TX,Austin,Employed,Standard,1000,2023-02-01,2023-02-01 09:00:00\n",
    )
    .unwrap();
    ok(setup.c360().args(["load", "customers"]).arg(&customers));
    let transactions = setup.tmp.path().join("extra_transactions.csv");
    std::fs::write(
        &transactions,
        "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status\n\
         TX-EXTRA-1,CUSTX0000002,2024-06-01 10:00:00,100.00,Shop,Retail,Online,approved\n\
         TX-EXTRA-2,CUSTX0000002,2025-10-01 10:00:00,1500.00,Shop,Retail,Online,approved\n\
         TX-EXTRA-3,CUSTX0000002,2025-10-20 10:00:00,1500.00,Shop,Retail,Online,approved\n",
    )
    .unwrap();
    ok(setup
        .c360()
        .args(["load", "transactions"])
        .arg(&transactions));
}

/// Every SPEC §6 rule, recomputed from the row's own columns and churn_predictions.
fn check_profile(setup: &Setup) -> BTreeMap<String, BTreeMap<String, Option<String>>> {
    let profile = setup.table("customer_360_profile");
    let current = setup
        .table("dim_customer")
        .into_iter()
        .filter(|r| text(r, "is_current") == Some("true"))
        .count();
    assert_eq!(profile.len(), current, "one row per current customer");
    let predictions: BTreeMap<String, BTreeMap<String, Option<String>>> = setup
        .table("churn_predictions")
        .into_iter()
        .map(|r| (r["customer_id"].clone().unwrap(), r))
        .collect();
    let as_of = day(&setup.table("as_of_date")[0], "as_of").unwrap();
    let mut actions = BTreeMap::<String, usize>::new();
    for row in &profile {
        let id = text(row, "customer_id").unwrap();
        assert_eq!(day(row, "profile_updated_date"), Some(as_of), "{id}");
        assert_eq!(
            text(row, "full_name").unwrap(),
            format!(
                "{} {}",
                text(row, "first_name").unwrap(),
                text(row, "last_name").unwrap()
            )
        );
        let open = day(row, "account_open_date").unwrap();
        assert_eq!(
            num(row, "account_age_days"),
            Some((as_of - open).num_days() as f64),
            "{id}"
        );

        let last = day(row, "last_transaction_date");
        let days = last.map(|d| (as_of - d).num_days() as f64);
        assert_eq!(num(row, "days_since_last_transaction"), days, "{id}");
        let recency = match days {
            None => "Never Active",
            Some(d) if d <= 30.0 => "Active",
            Some(d) if d <= 60.0 => "Recent",
            Some(d) if d <= 90.0 => "At Risk",
            Some(_) => "Inactive",
        };
        assert_eq!(text(row, "recency_status"), Some(recency), "{id}");

        let travel = num(row, "travel_spend_pct").unwrap();
        let necessities = num(row, "necessities_spend_pct").unwrap();
        let profile_kind = if travel >= 25.0 {
            "Travel-Focused"
        } else if necessities >= 60.0 {
            "Necessity-Focused"
        } else {
            "Balanced"
        };
        assert_eq!(text(row, "spending_profile"), Some(profile_kind), "{id}");

        let limit = num(row, "credit_limit").unwrap();
        let utilisation = num(row, "avg_monthly_spend").map(|s| s / limit * 100.0);
        close(
            num(row, "credit_utilization_pct"),
            utilisation,
            "utilisation",
            id,
        );

        let prediction = predictions.get(id);
        let total = num(row, "total_transactions").unwrap();
        assert_eq!(
            prediction.is_some(),
            total >= 5.0,
            "{id}: scored ⇔ ≥ 5 approved transactions"
        );
        let score = prediction.and_then(|p| num(p, "churn_risk_score"));
        assert_eq!(num(row, "churn_risk_score"), score, "{id}");
        assert_eq!(
            text(row, "churn_risk_category"),
            Some(prediction.map_or("Not Scored", |p| text(p, "churn_risk_category").unwrap())),
            "{id}"
        );
        assert_eq!(
            text(row, "top_churn_drivers"),
            prediction.and_then(|p| text(p, "top_drivers")),
            "{id}"
        );

        let segment = text(row, "customer_segment").unwrap();
        let retention = segment == "Declining" || score.is_some_and(|s| s >= 70.0);
        let onboarding = segment == "New & Growing";
        let premium =
            segment == "High-Value Travelers" && text(row, "card_type") == Some("Standard");
        let flag = |c: &str| text(row, c) == Some("true");
        assert_eq!(flag("eligible_for_retention_campaign"), retention, "{id}");
        assert_eq!(flag("eligible_for_onboarding_campaign"), onboarding, "{id}");
        assert_eq!(flag("eligible_for_premium_campaign"), premium, "{id}");
        let action = if retention {
            "Retention offer"
        } else if premium {
            "Premium upgrade"
        } else if onboarding {
            "Onboarding journey"
        } else if utilisation.is_some_and(|u| u > 80.0) {
            "Credit limit review"
        } else {
            "None"
        };
        assert_eq!(text(row, "next_best_action"), Some(action), "{id}");
        *actions.entry(action.to_string()).or_default() += 1;
    }
    for action in [
        "Retention offer",
        "Onboarding journey",
        "Credit limit review",
        "None",
    ] {
        assert!(actions.contains_key(action), "no '{action}' in {actions:?}");
    }
    profile
        .into_iter()
        .map(|r| (r["customer_id"].clone().unwrap(), r))
        .collect()
}

#[test]
fn churn_model_and_profile_over_a_generated_lake() {
    let setup = Setup::new();
    ok(setup.c360().args(["generate", "--customers", "1000"]));
    load_extra_customers(&setup);
    let out = ok(setup.c360().arg("build"));
    assert!(
        stdout(&out).contains(", 0 failed or skipped"),
        "{}",
        stdout(&out)
    );

    // The registry: v1, promoted, with its features, metrics, as_of and data version.
    let v1_path = setup.registry().join("v1.json");
    let v1_bytes = std::fs::read(&v1_path).unwrap();
    let v1: serde_json::Value = serde_json::from_slice(&v1_bytes).unwrap();
    assert_eq!(v1["promoted"], true, "AUC {}", v1["metrics"]["auc_roc"]);
    assert_eq!(v1["training_as_of"], "2025-11-14");
    assert!(v1["features"].as_array().unwrap().len() > 30);
    assert!(v1["data_version"].as_str().unwrap().contains("fnv1a64:"));
    let auc = v1["metrics"]["auc_roc"].as_f64().unwrap();
    assert!(auc >= 0.75, "{auc}");

    // Every profile rule, and the two hand-loaded customers.
    let profile = check_profile(&setup);
    let never = &profile["CUSTX0000001"];
    assert_eq!(text(never, "recency_status"), Some("Never Active"));
    assert_eq!(text(never, "churn_risk_category"), Some("Not Scored"));
    assert_eq!(text(never, "spending_profile"), Some("Balanced"));
    assert_eq!(num(never, "total_transactions"), Some(0.0));
    assert_eq!(text(never, "next_best_action"), Some("None"));
    let near_limit = &profile["CUSTX0000002"];
    assert_eq!(text(near_limit, "recency_status"), Some("Active"));
    assert_eq!(text(near_limit, "churn_risk_category"), Some("Not Scored"));
    assert_eq!(num(near_limit, "credit_utilization_pct"), Some(100.0));
    assert_eq!(
        text(near_limit, "next_best_action"),
        Some("Credit limit review")
    );
    assert_eq!(setup.model_versions(), vec!["1"]);
    let predictions_hash = content_hash(&setup.lake, Layer::Gold, "churn_predictions");

    // The gate: a deliberately useless feature set is registered but not promoted, and the
    // previous model keeps scoring.
    let out = ok(setup
        .c360()
        .args(["ml", "train", "--features", "employment_student"]));
    assert!(stdout(&out).contains("Latest model v2"), "{}", stdout(&out));
    assert!(stdout(&out).contains("not promoted"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Scoring model: v1"),
        "{}",
        stdout(&out)
    );
    let v2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.registry().join("v2.json")).unwrap()).unwrap();
    assert_eq!(v2["promoted"], false);
    assert_eq!(v2["features"], serde_json::json!(["employment_student"]));
    ok(setup.c360().args(["ml", "score"]));
    assert_eq!(setup.model_versions(), vec!["1"]);
    assert_eq!(
        content_hash(&setup.lake, Layer::Gold, "churn_predictions"),
        predictions_hash
    );
    let metrics = setup.table("churn_model_metrics");
    let aucs: Vec<(String, String)> = metrics
        .iter()
        .filter(|r| text(r, "metric") == Some("auc_roc"))
        .map(|r| {
            (
                r["model_version"].clone().unwrap(),
                r["promoted"].clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        aucs,
        vec![("1".into(), "true".into()), ("2".into(), "false".into())]
    );

    // Determinism: the same data and seed give the same model file and the same scores.
    std::fs::remove_dir_all(setup.registry()).unwrap();
    let out = ok(setup.c360().args(["ml", "train"]));
    assert!(
        stdout(&out).contains("Scoring model: v1"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read(&v1_path).unwrap(),
        v1_bytes,
        "v1.json differs"
    );
    ok(setup.c360().args(["ml", "score"]));
    assert_eq!(
        content_hash(&setup.lake, Layer::Gold, "churn_predictions"),
        predictions_hash
    );
    // An identical run is reused, not registered again.
    ok(setup.c360().args(["ml", "train"]));
    assert!(!setup.registry().join("v2.json").exists());
    check_profile(&setup);

    // The model card.
    let card_file = setup.tmp.path().join("card.md");
    let out = ok(setup
        .c360()
        .args(["ml", "report", "--output"])
        .arg(&card_file));
    let card = stdout(&out);
    assert_eq!(std::fs::read_to_string(&card_file).unwrap(), card);
    for needle in [
        "# Churn model v1",
        "**Promoted**",
        "label churn rate",
        "AUC-ROC",
        "PR-AUC",
        "Brier score",
        "## Feature importance",
        "## Calibration",
        "## Score distribution",
        "High-risk customers by the generator's hidden truth",
        "of the High-risk customers are decliners or quiet churners",
    ] {
        assert!(card.contains(needle), "no '{needle}' in\n{card}");
    }
}
