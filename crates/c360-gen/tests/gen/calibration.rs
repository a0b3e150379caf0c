//! SPEC §4.4's segment rules, evaluated in plain Rust on generated data, recover the true
//! segments (the generator's calibration target).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use c360_gen::{DirtRates, GenConfig, Generator};

use crate::{clean_2000, decode_customers, epoch_day, Txn, PRINT};

const TRAVEL: [&str; 3] = ["Travel", "Airlines", "Hotels"];
const NECESSITY: [&str; 4] = ["Grocery", "Gas", "Utilities", "Healthcare"];

#[derive(Default)]
struct Spend {
    lifetime: i128,
    travel: i128,
    necessity: i128,
    last_90: i128,
    prior_90: i128,
    first_day: Option<i64>,
}

fn months_between(a: NaiveDate, b: NaiveDate) -> i32 {
    (b.year() * 12 + b.month() as i32) - (a.year() * 12 + a.month() as i32)
}

/// SPEC §4.4: first rule that matches.
fn segment(s: &Spend, as_of: NaiveDate) -> &'static str {
    let avg_monthly = s.last_90 as f64 / 100.0 / 3.0;
    let pct = |x: i128| {
        if s.lifetime == 0 {
            0.0
        } else {
            x as f64 / s.lifetime as f64 * 100.0
        }
    };
    let change =
        (s.prior_90 != 0).then(|| (s.last_90 - s.prior_90) as f64 / s.prior_90 as f64 * 100.0);
    let tenure = s.first_day.map(|d| {
        let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(d as u64);
        months_between(date, as_of)
    });
    if avg_monthly >= 5000.0 && pct(s.travel) >= 25.0 {
        "High-Value Travelers"
    } else if change.is_some_and(|c| c <= -30.0) && s.prior_90 >= 200_000 {
        "Declining"
    } else if tenure.is_some_and(|t| t <= 6) && change.is_none_or(|c| c >= 50.0) {
        "New & Growing"
    } else if avg_monthly < 1500.0 && pct(s.necessity) >= 60.0 {
        "Budget-Conscious"
    } else {
        "Stable Mid-Spenders"
    }
}

fn spend_by_customer(txns: &[Txn], as_of: NaiveDate) -> HashMap<&str, Spend> {
    let as_of_day = epoch_day(as_of);
    let mut out: HashMap<&str, Spend> = HashMap::new();
    for t in txns {
        let day = t.day();
        if t.status != "approved" || day > as_of_day || t.cents <= 0 {
            continue;
        }
        let s = out.entry(&t.customer).or_default();
        let cat = t.category.as_deref().unwrap_or("");
        s.lifetime += t.cents;
        if TRAVEL.contains(&cat) {
            s.travel += t.cents;
        }
        if NECESSITY.contains(&cat) {
            s.necessity += t.cents;
        }
        if day > as_of_day - 90 {
            s.last_90 += t.cents;
        } else if day > as_of_day - 180 {
            s.prior_90 += t.cents;
        }
        s.first_day = Some(s.first_day.map_or(day, |f| f.min(day)));
    }
    out
}

#[test]
fn segment_rules_recover_the_true_segments() {
    let (g, customers, txns) = clean_2000();
    let as_of = g.config().end_date;
    let spend = spend_by_customer(txns, as_of);
    let empty = Spend::default();
    let mut confusion: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    let mut predicted: BTreeMap<&str, u32> = BTreeMap::new();
    let mut hits = 0;
    for c in customers {
        let p = segment(spend.get(c.id.as_str()).unwrap_or(&empty), as_of);
        *confusion.entry((c.segment.as_str(), p)).or_default() += 1;
        *predicted.entry(p).or_default() += 1;
        hits += u32::from(p == c.segment);
    }
    let n = customers.len() as f64;
    let recovery = f64::from(hits) / n;
    {
        let _guard = PRINT.lock();
        println!("segment recovery: {:.2}% of {n}", recovery * 100.0);
        for ((truth, pred), count) in &confusion {
            println!("  true {truth:<22} → predicted {pred:<22} {count}");
        }
    }
    assert!(recovery >= 0.90, "recovery {recovery}");
    for s in [
        "High-Value Travelers",
        "Stable Mid-Spenders",
        "Budget-Conscious",
        "Declining",
        "New & Growing",
    ] {
        let share = f64::from(predicted.get(s).copied().unwrap_or(0)) / n;
        assert!(share >= 0.05, "{s}: {share}");
    }
}

#[test]
fn recovery_holds_for_other_seeds_dates_and_dirt() {
    let configs = [
        GenConfig {
            seed: 7,
            ..crate::config(1_000, DirtRates::clean())
        },
        GenConfig {
            end_date: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            months: 12,
            ..crate::config(1_000, DirtRates::clean())
        },
        // Default dirt, read the way silver would (approved after normalising, valid rows).
        crate::config(1_000, DirtRates::default()),
    ];
    for cfg in configs {
        let g = Generator::new(cfg.clone()).unwrap();
        let customers = decode_customers(&g.customers().0);
        let (mut txns, _) = crate::all_txns(&g);
        for t in &mut txns {
            t.status = t.status.trim().to_lowercase();
        }
        let spend = spend_by_customer(&txns, cfg.end_date);
        let empty = Spend::default();
        let mut truth: HashMap<&str, &str> = HashMap::new();
        for c in &customers {
            truth.insert(&c.id, &c.segment);
        }
        let hits = truth
            .iter()
            .filter(|(id, seg)| segment(spend.get(*id).unwrap_or(&empty), cfg.end_date) == **seg)
            .count();
        let recovery = hits as f64 / truth.len() as f64;
        let _guard = PRINT.lock();
        println!(
            "recovery {:.2}% (seed {}, end {}, {} months)",
            recovery * 100.0,
            cfg.seed,
            cfg.end_date,
            cfg.months
        );
        assert!(recovery >= 0.90, "{recovery}");
    }
}

#[test]
fn segment_spend_levels_follow_spec_section_2() {
    let (g, customers, txns) = clean_2000();
    let as_of = g.config().end_date;
    let spend = spend_by_customer(txns, as_of);
    // Per true segment: median monthly spend over the whole history and travel/necessity share.
    let months = 18.0;
    let mut by_segment: BTreeMap<&str, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for c in customers {
        if let Some(s) = spend.get(c.id.as_str()) {
            let l = s.lifetime as f64;
            by_segment.entry(&c.segment).or_default().push((
                l / 100.0 / months,
                s.travel as f64 / l,
                s.necessity as f64 / l,
            ));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let stat = |seg: &str, f: fn(&(f64, f64, f64)) -> f64| {
        median(&mut by_segment[seg].iter().map(f).collect())
    };
    assert!(stat("High-Value Travelers", |x| x.0) >= 5_000.0);
    assert!(stat("High-Value Travelers", |x| x.1) >= 0.30);
    assert!(stat("Budget-Conscious", |x| x.0) < 1_500.0);
    assert!(stat("Budget-Conscious", |x| x.2) >= 0.65);
    let stable = stat("Stable Mid-Spenders", |x| x.0);
    assert!((1_500.0..5_000.0).contains(&stable), "{stable}");
}
