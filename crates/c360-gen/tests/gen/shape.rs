//! Schemas, exact segment counts, attributes and the shape of the transactions.

use std::collections::{BTreeMap, HashMap, HashSet};

use c360_bronze::BronzeTable;
use c360_gen::{merchants, DirtRates, Generator, Segment, CATEGORIES};

use crate::{chunk_batches, clean_2000, config, counts, epoch_day, DAY_MICROS, PRINT};

#[test]
fn schemas_equal_bronze() {
    let g = Generator::new(config(30, DirtRates::default())).unwrap();
    assert_eq!(g.customers().0.schema(), BronzeTable::Customers.schema());
    for b in chunk_batches(&g, 0) {
        assert_eq!(b.schema(), BronzeTable::Transactions.schema());
    }
}

#[test]
fn exact_segment_counts_and_ids() {
    for n in [1_000u32, 1_234] {
        let g = Generator::new(config(n, DirtRates::clean())).unwrap();
        let (batch, stats) = g.customers();
        let rows = crate::decode_customers(&batch);
        assert_eq!(rows.len(), n as usize, "clean ⇒ no re-sent records");
        assert_eq!(stats.customers, u64::from(n));
        let by_segment = counts(rows.iter().map(|c| c.segment.as_str()));
        let nn = u64::from(n);
        let expected = [
            ("High-Value Travelers", nn * 15 / 100),
            (
                "Stable Mid-Spenders",
                nn - nn * 15 / 100 - nn * 25 / 100 - 2 * (nn / 10),
            ),
            ("Budget-Conscious", nn * 25 / 100),
            ("Declining", nn / 10),
            ("New & Growing", nn / 10),
        ];
        for (name, count) in expected {
            assert_eq!(by_segment[name] as u64, count, "{n} {name}");
            assert_eq!(stats.segment_counts[name], count);
        }
        let declining = nn / 10;
        let sudden = rows
            .iter()
            .filter(|c| c.decline.as_deref() == Some("sudden"))
            .count() as u64;
        let gradual = rows
            .iter()
            .filter(|c| c.decline.as_deref() == Some("gradual"))
            .count() as u64;
        assert_eq!(
            (sudden, gradual),
            (declining * 3 / 10, declining - declining * 3 / 10)
        );
        assert!(rows
            .iter()
            .all(|c| (c.segment == "Declining") == c.decline.is_some()));
        let ids: HashSet<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        for i in 1..=n {
            assert!(ids.contains(format!("CUST{i:08}").as_str()));
        }
        // Shuffled: the first 100 customers are not all of one segment.
        assert!(
            counts(
                rows.iter()
                    .filter(|c| c.id.as_str() <= "CUST00000100")
                    .map(|c| &c.segment)
            )
            .len()
                > 3
        );
    }
    assert_eq!(Segment::ALL.len(), 5);
}

#[test]
fn customer_attributes_are_plausible() {
    let (g, customers, _) = clean_2000();
    let end = epoch_day(g.config().end_date);
    let mut premium: BTreeMap<bool, (u32, u32)> = BTreeMap::new();
    for c in customers {
        assert!((22..=75).contains(&c.age), "{c:?}");
        assert_eq!(c.state.len(), 2);
        assert!(!c.city.is_empty());
        assert!([
            "Employed",
            "Self-Employed",
            "Retired",
            "Unemployed",
            "Student"
        ]
        .contains(&c.employment.as_str()));
        assert!(
            c.limit_cents % 100_000 == 0 && (500_000..=5_000_000).contains(&c.limit_cents),
            "{c:?}"
        );
        let open_before = end - i64::from(c.open_day);
        if c.segment == "New & Growing" {
            assert!((30..=180).contains(&open_before), "{c:?}");
        } else {
            assert!((730..=1826).contains(&open_before), "{c:?}");
        }
        assert_eq!(c.updated_at.div_euclid(DAY_MICROS), i64::from(c.open_day));
        assert!(
            c.ingested_at >= c.updated_at + 60_000_000
                && c.ingested_at <= c.updated_at + DAY_MICROS
        );
        assert!(
            c.email.contains('@') && c.email == c.email.to_lowercase(),
            "{c:?}"
        );
        let e = premium
            .entry(c.segment == "High-Value Travelers")
            .or_default();
        e.0 += u32::from(c.card == "Premium");
        e.1 += 1;
    }
    let hvt = premium[&true];
    let other = premium[&false];
    assert!(
        (0.2..0.4).contains(&(f64::from(hvt.0) / f64::from(hvt.1))),
        "{hvt:?}"
    );
    assert!(
        (0.01..0.06).contains(&(f64::from(other.0) / f64::from(other.1))),
        "{other:?}"
    );
    let states = counts(customers.iter().map(|c| c.state.as_str()));
    assert!(
        states["CA"] > states["WY"] * 10,
        "population-weighted states"
    );
}

#[test]
fn transactions_respect_the_timeline() {
    let (g, customers, txns) = clean_2000();
    let end = epoch_day(g.config().end_date);
    let start = epoch_day(g.start_date());
    assert_eq!(
        g.start_date(),
        chrono::NaiveDate::from_ymd_opt(2024, 5, 15).unwrap()
    );
    let open: HashMap<&str, (i64, &str)> = customers
        .iter()
        .map(|c| (c.id.as_str(), (i64::from(c.open_day), c.segment.as_str())))
        .collect();
    let mut first_day: HashMap<&str, i64> = HashMap::new();
    let mut last_id: HashMap<&str, &str> = HashMap::new();
    for t in txns {
        assert!(t.day() <= end && t.day() >= start, "{t:?}");
        // A day's transactions are ingested within the next day.
        assert!(
            t.ingested >= (t.day() + 1) * DAY_MICROS && t.ingested < (t.day() + 2) * DAY_MICROS
        );
        assert_eq!(t.source, "generator");
        assert!(
            t.id.len() == 16
                && t.id.starts_with("TXN")
                && t.id[3..].bytes().all(|b| b.is_ascii_digit())
        );
        assert_eq!(
            &t.id[3..11],
            &t.customer[4..],
            "id = customer number × 100,000 + seq"
        );
        // Ids increase in time order within a customer.
        if let Some(prev) = last_id.insert(&t.customer, &t.id) {
            assert!(prev < t.id.as_str());
        }
        let f = first_day.entry(&t.customer).or_insert(t.day());
        *f = (*f).min(t.day());
        assert!(
            t.day() >= open[t.customer.as_str()].0,
            "no transaction before account opening"
        );
    }
    // New & Growing customers start at (not long after) their account opening.
    let mut ng_lags = Vec::new();
    for (id, (open_day, seg)) in &open {
        if *seg == "New & Growing" {
            if let Some(first) = first_day.get(id) {
                ng_lags.push(first - open_day);
            }
        }
    }
    ng_lags.sort();
    assert!(ng_lags.len() > 180, "{}", ng_lags.len());
    assert!(
        ng_lags[ng_lags.len() / 2] <= 10,
        "median lag {}",
        ng_lags[ng_lags.len() / 2]
    );
    let ids: HashSet<&str> = txns.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), txns.len(), "clean ⇒ unique ids");
}

#[test]
fn merchants_categories_channels_and_status() {
    let (g, _, txns) = clean_2000();
    let merchant_category: HashMap<&str, &str> = merchants().collect();
    assert_eq!(merchant_category.len(), 1_000);
    for c in CATEGORIES {
        assert_eq!(merchant_category.values().filter(|&&v| v == c).count(), 100);
    }
    let mut seen: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut declined = 0;
    let mut by_channel: HashMap<(&str, &str), usize> = HashMap::new();
    for t in txns {
        let cat = t.category.as_deref().unwrap();
        assert_eq!(merchant_category[t.merchant.as_str()], cat);
        seen.entry(&t.merchant).or_default().insert(cat);
        assert!(t.cents >= 100);
        assert!(["approved", "declined"].contains(&t.status.as_str()));
        assert!(["Online", "In-Store", "Mobile"].contains(&t.channel.as_str()));
        declined += usize::from(t.status == "declined");
        *by_channel.entry((cat, t.channel.as_str())).or_default() += 1;
    }
    assert!(seen.values().all(|s| s.len() == 1));
    assert!(seen.len() > 900, "most merchants are used: {}", seen.len());
    let rate = declined as f64 / txns.len() as f64;
    assert!((0.025..0.04).contains(&rate), "declined {rate}");
    assert!(by_channel[&("Airlines", "Online")] > 5 * by_channel[&("Airlines", "In-Store")]);
    assert!(by_channel[&("Gas", "In-Store")] > 5 * by_channel[&("Gas", "Online")]);

    // Scale: 13.5M rows (±2%) for 50,000 customers ⇔ 270 ± 5.4 rows per customer.
    let per_customer = txns.len() as f64 / f64::from(g.config().customers);
    let _guard = PRINT.lock();
    println!("rows per customer (clean, 2,000 customers): {per_customer:.2}");
    assert!((262.0..278.0).contains(&per_customer), "{per_customer}");
}
