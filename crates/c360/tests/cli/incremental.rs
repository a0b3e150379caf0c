//! Incremental runs of the Customer 360 project (SPEC §3 "an incremental run must leave exactly
//! what a full rebuild would"): a lake built once, then fed simulated days, late corrections,
//! an unknown customer who turns up later and a late-arriving customer change, with an
//! incremental `c360 build` after each (once after the fact ran alone ahead of its parents);
//! every silver and gold table must then equal a full build of a fresh lake holding the same
//! bronze.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::Array;
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use c360_lake::{Lake, Layer};

use crate::common::*;
use crate::customer360::Setup;

/// Columns whose values depend on the history of builds by definition, not on bronze alone
/// (in every table that has them): SPEC §4.4 keeps a segment's assignment date and previous
/// segment across builds, and each build trains a new model version (SPEC §5 registry).
const HISTORY_COLUMNS: [&str; 4] = [
    "previous_segment",
    "segment_assigned_date",
    "model_version",
    "churn_model_version",
];
/// Tables that are logs of builds: segment assignments, metrics of every trained model.
const HISTORY_TABLES: [&str; 2] = ["customer_segment_history", "churn_model_metrics"];

/// Every silver and gold table as sorted rows of text (doubles to 10 significant digits, so
/// summation order cannot matter), keyed by `layer.name`.
fn snapshot(lake: &Path) -> BTreeMap<String, Vec<String>> {
    let rt = runtime();
    let lake = Lake::new(lake);
    let mut out = BTreeMap::new();
    for info in rt.block_on(lake.list_tables()).unwrap() {
        if !matches!(info.layer, Layer::Silver | Layer::Gold)
            || HISTORY_TABLES.contains(&info.name.as_str())
        {
            continue;
        }
        let batches = rt.block_on(lake.read_all(info.layer, &info.name)).unwrap();
        let mut rows = Vec::new();
        for batch in &batches {
            let schema = batch.schema();
            let mut columns: Vec<(String, Vec<String>)> = Vec::new();
            for (field, array) in schema.fields().iter().zip(batch.columns()) {
                if HISTORY_COLUMNS.contains(&field.name().as_str()) {
                    continue;
                }
                let values: Vec<String> = match field.data_type() {
                    DataType::Float32 | DataType::Float64 => {
                        let array = arrow::compute::cast(array, &DataType::Float64).unwrap();
                        let array = array
                            .as_any()
                            .downcast_ref::<arrow::array::Float64Array>()
                            .unwrap();
                        (0..array.len())
                            .map(|i| {
                                if array.is_null(i) {
                                    "NULL".to_string()
                                } else {
                                    format!("{:.9e}", array.value(i))
                                }
                            })
                            .collect()
                    }
                    _ => {
                        let options = FormatOptions::default().with_null("NULL");
                        let formatter = ArrayFormatter::try_new(array, &options).unwrap();
                        (0..array.len())
                            .map(|i| formatter.value(i).to_string())
                            .collect()
                    }
                };
                columns.push((field.name().clone(), values));
            }
            for i in 0..batch.num_rows() {
                rows.push(
                    columns
                        .iter()
                        .map(|(name, values)| format!("{name}={}", values[i]))
                        .collect::<Vec<_>>()
                        .join(" | "),
                );
            }
        }
        rows.sort();
        out.insert(format!("{}.{}", info.layer, info.name), rows);
    }
    out
}

/// The message of a model's result in the last `target/run_results.json`.
fn run_message(setup: &Setup, model: &str) -> String {
    let results: serde_json::Value = serde_json::from_slice(
        &std::fs::read(setup.project.join("target/run_results.json")).unwrap(),
    )
    .unwrap();
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unique_id"] == format!("model.{model}"))
        .unwrap_or_else(|| panic!("no result for {model}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Builds incrementally and checks that the stream-fed models merged rather than rebuilt.
fn incremental_build(setup: &Setup) {
    setup.build();
    for model in [
        "int_transactions",
        "stg_transactions",
        "quarantine_transactions",
        "dim_merchant_category",
        "fct_transactions",
        "customer_monthly_spend",
        "metric_mom_spend_change",
    ] {
        let message = run_message(setup, model);
        assert!(message.starts_with("merged into"), "{model}: {message}");
    }
}

fn write(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn incremental_builds_equal_a_full_build_of_the_same_bronze() {
    let setup = Setup::new();
    ok(setup.c360().args([
        "generate",
        "--customers",
        "1000",
        "--dirt-rate",
        "customer_change=0.5",
    ]));
    setup.build();

    // 1. A simulated day.
    ok(setup.c360().args(["simulate", "--days", "1"]));
    incremental_build(&setup);

    // 2. Late files: a corrected copy of a valid transaction (status flipped, ingested later),
    //    a bad correction of another (negative amount: SPEC §3 removes the row it corrects),
    //    a transaction of a customer nobody knows yet (in a category the seed lacks), a valid
    //    one in another unseen category, and two identical rows without an id.
    let valid = setup.rows(
        Layer::Silver,
        "stg_transactions",
        &[
            "transaction_id",
            "customer_id",
            "transaction_ts",
            "transaction_amount",
            "merchant_name",
            "merchant_category",
            "channel",
            "status",
        ],
    );
    let mut valid: Vec<Vec<String>> = valid
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap).collect())
        .filter(|r: &Vec<String>| !r[4].contains(',') && !r[5].contains(','))
        .collect();
    valid.sort();
    let (corrected, bad) = (&valid[10], &valid[20]);
    let flipped = if corrected[7] == "approved" {
        "declined"
    } else {
        "approved"
    };
    let header = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,\
                  merchant_category,channel,status,ingested_at"
        .to_string();
    let late = "2025-11-17T08:00:00Z";
    let missing_id = format!(
        ",CUST00000001,2025-11-15T11:00:00Z,9.99,Corner Shop,Grocery,Online,approved,{late}"
    );
    let transactions = setup.project.join("late_transactions.csv");
    write(
        &transactions,
        &[
            header.clone(),
            format!(
                "{},{},{},{},{},{},{},{flipped},{late}",
                corrected[0],
                corrected[1],
                corrected[2],
                corrected[3],
                corrected[4],
                corrected[5],
                corrected[6]
            ),
            format!(
                "{},{},{},-5.00,{},{},{},{},{late}",
                bad[0], bad[1], bad[2], bad[4], bad[5], bad[6], bad[7]
            ),
            format!(
                "TXNLATE0000001,CUSTLATE0001,2025-11-15T10:00:00Z,42.00,Corner Shop,Hardware,\
                 Online,approved,{late}"
            ),
            format!(
                "TXNLATE0000002,{},2025-11-15T12:00:00Z,12.00,Pet Shop,Pet Supplies,Online,\
                 approved,{late}",
                corrected[1]
            ),
            missing_id.clone(),
            missing_id.clone(),
        ],
    );
    // A file of one row without an id, loaded now and again (`--force`) in step 3: the same
    // row twice (same `source`), in two increments.
    let missing_id_file = setup.project.join("missing_id.csv");
    write(&missing_id_file, &[header.clone(), missing_id.clone()]);
    ok(setup
        .c360()
        .args(["load", "transactions"])
        .arg(&transactions)
        .arg(&missing_id_file));
    incremental_build(&setup);
    let quarantine = setup.rows(
        Layer::Silver,
        "quarantine_transactions",
        &["transaction_id", "reason"],
    );
    let reason = |id: &str| {
        quarantine
            .iter()
            .find(|r| r[0].as_deref() == Some(id))
            .and_then(|r| r[1].clone())
    };
    assert_eq!(reason(&bad[0]).as_deref(), Some("bad_amount"));
    assert_eq!(
        reason("TXNLATE0000001").as_deref(),
        Some("unknown_customer")
    );
    let stg_ids = setup.column(Layer::Silver, "stg_transactions", "transaction_id");
    assert!(!stg_ids.contains(&Some(bad[0].clone())));
    let categories = || setup.column(Layer::Gold, "dim_merchant_category", "category_name");
    assert!(categories().contains(&Some("Pet Supplies".into())));
    assert!(
        !categories().contains(&Some("Hardware".into())),
        "its customer is unknown"
    );

    // 3. The unknown customer's record arrives, and a late record of a known customer changes
    //    their card from mid-history on; then two more simulated days.
    let customer = &valid[30][1];
    let profile = setup.rows(
        Layer::Silver,
        "stg_customers",
        &[
            "customer_id",
            "first_name",
            "last_name",
            "email",
            "age",
            "state",
            "city",
            "employment_status",
            "card_type",
            "account_open_date",
        ],
    );
    let known = profile
        .iter()
        .find(|r| r[0].as_deref() == Some(customer.as_str()))
        .unwrap();
    let known: Vec<&str> = known.iter().map(|v| v.as_deref().unwrap()).collect();
    let card = if known[8] == "Premium" {
        "Standard"
    } else {
        "Premium"
    };
    let customers = setup.project.join("late_customers.csv");
    write(
        &customers,
        &[
            "customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,\
             credit_limit,account_open_date,updated_at,ingested_at"
                .to_string(),
            "CUSTLATE0001,Ada,Lovelace,ada@example.com,36,CA,Los Angeles,Employed,Standard,\
             5000.00,2025-11-01,2025-11-16T02:00:00Z,2025-11-17T09:00:00Z"
                .to_string(),
            format!(
                "{},{},{},{},{},{},{},{},{card},47000.00,{},2025-09-01T12:00:00Z,2025-11-17T09:00:00Z",
                known[0], known[1], known[2], known[3], known[4], known[5], known[6], known[7],
                known[9]
            ),
        ],
    );
    ok(setup.c360().args(["load", "customers"]).arg(&customers));
    // A bad correction of the transaction in Pet Supplies (the category leaves the dimension),
    // and the row without an id again.
    let more_transactions = setup.project.join("late_transactions_2.csv");
    write(
        &more_transactions,
        &[
            header,
            format!(
                "TXNLATE0000002,{},2025-11-15T12:00:00Z,-12.00,Pet Shop,Pet Supplies,Online,\
                 approved,2025-11-17T10:00:00Z",
                corrected[1]
            ),
        ],
    );
    ok(setup
        .c360()
        .args(["load", "transactions"])
        .arg(&more_transactions));
    ok(setup
        .c360()
        .args(["load", "transactions", "--force"])
        .arg(&missing_id_file));
    ok(setup.c360().args(["simulate", "--days", "2"]));
    // The fact alone first, before the silver models have read the new bronze rows: it reads
    // its streams no further than stg_transactions has, so it merges nothing yet and loses
    // nothing (past its offset, a row it could not look up would never be read again).
    ok(setup.c360().args(["run", "--select", "fct_transactions"]));
    let fct_alone = run_message(&setup, "fct_transactions");
    assert!(fct_alone.contains(" 0 inserted"), "{fct_alone}");
    incremental_build(&setup);
    let stg = setup.rows(
        Layer::Silver,
        "stg_transactions",
        &["transaction_id", "status"],
    );
    let status = |id: &str| {
        stg.iter()
            .find(|r| r[0].as_deref() == Some(id))
            .map(|r| r[1].clone().unwrap())
    };
    assert_eq!(
        status("TXNLATE0000001").as_deref(),
        Some("approved"),
        "retried"
    );
    assert_eq!(status(&corrected[0]).as_deref(), Some(flipped));
    assert_eq!(status("TXNLATE0000002"), None, "corrected to a bad amount");
    assert!(categories().contains(&Some("Hardware".into())), "retried");
    assert!(!categories().contains(&Some("Pet Supplies".into())));
    let mut missing_id_keys: Vec<String> = setup
        .rows(
            Layer::Silver,
            "quarantine_transactions",
            &["quarantine_key", "reason"],
        )
        .into_iter()
        .filter(|r| r[1].as_deref() == Some("missing_id"))
        .map(|r| r[0].clone().unwrap())
        .collect();
    // row:<md5 of the values>:<ordinal>: two rows of late_transactions.csv and two of
    // missing_id.csv (the file name is the rows' `source`), each pair numbered 1 and 2
    missing_id_keys.sort();
    let md5s: BTreeSet<&str> = missing_id_keys
        .iter()
        .map(|k| k.split(':').nth(1).unwrap())
        .collect();
    let ordinals: Vec<&str> = missing_id_keys
        .iter()
        .map(|k| k.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(md5s.len(), 2, "{missing_id_keys:?}");
    assert_eq!(ordinals, ["1", "2", "1", "2"], "{missing_id_keys:?}");
    let fct = run_message(&setup, "fct_transactions");
    assert!(!fct.contains(" 0 updated"), "no fact re-keyed: {fct}");

    // 4. A fresh lake with the same bronze, built in full: every table equals.
    assert_equals_a_full_build(&setup, &["build"], &[]);
}

/// The marts that depend on as_of for every customer follow it wherever it moves: back a
/// month, later within that month, back again, and forward to the default (the latest
/// transaction date) — `metric_mom_spend_change` merges only the months as_of decides, and
/// must still equal a full build at each as_of.
#[test]
fn incremental_builds_follow_as_of_back_and_forth() {
    let setup = Setup::new();
    ok(setup.c360().args(["generate", "--customers", "1000"]));
    setup.build();
    for as_of in [
        Some("2025-10-10"),
        Some("2025-10-31"),
        Some("2025-08-20"),
        None,
    ] {
        let var = as_of.map(|day| format!("as_of={day}"));
        // `run`, not `build`: the data tests hold at the latest as_of (segment recovery needs
        // the generator's full history)
        let mut args = vec!["run"];
        args.extend(var.iter().flat_map(|v| ["--var", v.as_str()]));
        ok(setup.c360().args(&args));
        let message = run_message(&setup, "metric_mom_spend_change");
        assert!(message.starts_with("merged into"), "{as_of:?}: {message}");
        // The scores come from the registry's latest promoted model, which a fresh lake at an
        // earlier as_of may not have (its model may miss the gate): history, not bronze.
        assert_equals_a_full_build(
            &setup,
            &args,
            &["gold.churn_predictions", "gold.customer_360_profile"],
        );
    }

    // A month that loses its only row: a customer's spend in two months before the generated
    // history, each arriving in a run of its own (the later month first, so each month's row
    // sits alone in a file of customer_monthly_spend), then a bad correction of the later one.
    // That file goes and nothing replaces it, so no stream shows the month; the month's count
    // of rows with spend finds it, and its row in metric_mom_spend_change drops to 0.
    let header = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,\
                  merchant_category,channel,status,ingested_at";
    for (name, row) in [
        ("feb.csv", "TXNEARLY0000002,CUST00000001,2024-02-15T10:00:00Z,20.00,Corner Shop,Grocery,Online,approved,2025-11-15T08:00:00Z"),
        ("jan.csv", "TXNEARLY0000001,CUST00000001,2024-01-15T10:00:00Z,10.00,Corner Shop,Grocery,Online,approved,2025-11-15T09:00:00Z"),
        ("feb_bad.csv", "TXNEARLY0000002,CUST00000001,2024-02-15T10:00:00Z,-20.00,Corner Shop,Grocery,Online,approved,2025-11-15T10:00:00Z"),
    ] {
        let file = setup.project.join(name);
        write(&file, &[header.to_string(), row.to_string()]);
        ok(setup.c360().args(["load", "transactions"]).arg(&file));
        ok(setup.c360().arg("run"));
    }
    let february = setup.query_one(
        "SELECT monthly_spend, mom_trend FROM gold.metric_mom_spend_change \
         WHERE customer_id = 'CUST00000001' AND month_start = DATE '2024-02-01'",
    );
    // no spend after 10.00 in January: −100 %
    assert_eq!(february["monthly_spend"], 0.0, "{february}");
    assert_eq!(february["mom_trend"], "High Decline", "{february}");
    assert_equals_a_full_build(
        &setup,
        &["run"],
        &["gold.churn_predictions", "gold.customer_360_profile"],
    );
}

/// Every silver and gold table of the setup's lake but `skipped` equals what `c360 ARGS…`
/// (`build` or `run`) makes of a fresh lake holding the same bronze.
fn assert_equals_a_full_build(setup: &Setup, args: &[&str], skipped: &[&str]) {
    let fresh = tempfile::tempdir().unwrap();
    copy_dir(&setup.lake.join("bronze"), &fresh.path().join("bronze"));
    let incremental = snapshot(&setup.lake);
    ok(std::process::Command::new(BIN)
        .arg("--config")
        .arg(setup.project.join("c360.toml"))
        .arg("--lake")
        .arg(fresh.path())
        .args(args)
        .env_remove("C360_LAKE")
        .env_remove("RUST_LOG"));
    let full = snapshot(fresh.path());
    assert_eq!(
        incremental.keys().collect::<Vec<_>>(),
        full.keys().collect::<Vec<_>>()
    );
    let mut differences = Vec::new();
    for (table, rows) in full.iter().filter(|(t, _)| !skipped.contains(&t.as_str())) {
        let inc = &incremental[table];
        if inc != rows {
            let full_set: std::collections::BTreeSet<&String> = rows.iter().collect();
            let inc_set: std::collections::BTreeSet<&String> = inc.iter().collect();
            let only_inc: Vec<&&String> = inc_set.difference(&full_set).take(3).collect();
            let only_full: Vec<&&String> = full_set.difference(&inc_set).take(3).collect();
            differences.push(format!(
                "{table}: {} rows incremental, {} full\nonly incremental: {only_inc:#?}\nonly full: {only_full:#?}",
                inc.len(),
                rows.len()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{args:?}: {}",
        differences.join("\n")
    );
    assert!(full.len() >= 15, "{:?}", full.keys());
}
