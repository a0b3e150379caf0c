//! Every dirt kind is injected at its rate, counted exactly, and really looks dirty.

use std::collections::HashMap;

use c360_gen::{DirtKind, DirtRates, Generator, TxnStats};

use crate::{
    all_txns, config, counts, decode_customers, dirty_2000, epoch_day, Txn, DAY_MICROS, PRINT,
};

const CHANNELS: [&str; 3] = ["Online", "In-Store", "Mobile"];
const STATUSES: [&str; 2] = ["approved", "declined"];

fn normalises(value: &str, canonical: &[&str]) -> bool {
    canonical
        .iter()
        .any(|c| c.eq_ignore_ascii_case(value.trim()))
}

/// Recounts each transaction dirt kind from the data alone.
fn recount(txns: &[Txn], customers: u32) -> HashMap<DirtKind, u64> {
    let mut out: HashMap<DirtKind, u64> = HashMap::new();
    let mut add = |k| *out.entry(k).or_default() += 1;
    for (i, t) in txns.iter().enumerate() {
        if i > 0 && txns[i - 1].id == t.id {
            // A duplicate copy: right after its original, re-ingested 1–72 h later.
            let o = &txns[i - 1];
            assert!(
                t.ingested >= o.ingested + 3_600_000_000
                    && t.ingested <= o.ingested + 72 * 3_600_000_000
            );
            assert_eq!(
                (&o.customer, o.ts, o.cents, &o.merchant, &o.category),
                (&t.customer, t.ts, t.cents, &t.merchant, &t.category)
            );
            add(DirtKind::Duplicate);
            continue;
        }
        if t.category.as_deref().is_none_or(|c| c.trim().is_empty()) {
            add(DirtKind::BlankCategory);
        }
        if t.cents <= 0 {
            add(DirtKind::BadAmount);
        }
        let number: u64 = t.customer[4..].parse().unwrap();
        if number > u64::from(customers) {
            assert!(
                t.customer.starts_with("CUST9") && t.customer.len() == 12,
                "{t:?}"
            );
            add(DirtKind::UnknownCustomer);
        }
        if t.ts > t.ingested + DAY_MICROS {
            assert!(t.ts - t.ingested >= 3 * DAY_MICROS && t.ts - t.ingested <= 10 * DAY_MICROS);
            add(DirtKind::BadClock);
        }
        let messy_channel =
            !CHANNELS.contains(&t.channel.as_str()) && normalises(&t.channel, &CHANNELS);
        let messy_status =
            !STATUSES.contains(&t.status.as_str()) && normalises(&t.status, &STATUSES);
        if messy_channel || messy_status {
            add(DirtKind::MessyTransaction);
        }
        if !normalises(&t.channel, &CHANNELS) {
            add(DirtKind::BadChannel);
        }
        if !normalises(&t.status, &STATUSES) {
            add(DirtKind::BadStatus);
        }
    }
    out
}

fn check_exact_counts(txns: &[Txn], stats: &TxnStats, customers: u32) {
    let recount = recount(txns, customers);
    for kind in DirtKind::TRANSACTION_ROW {
        assert_eq!(
            recount.get(&kind).copied().unwrap_or(0),
            stats.dirt.get(kind),
            "{kind}"
        );
    }
    assert_eq!(stats.rows, txns.len() as u64);
}

/// `count` is within 5 standard deviations (plus 2) of `rate × n`.
fn near(count: u64, rate: f64, n: u64) -> bool {
    let mean = rate * n as f64;
    (count as f64 - mean).abs() <= 5.0 * (mean * (1.0 - rate)).sqrt() + 2.0
}

#[test]
fn default_dirt_is_present_exact_and_near_its_rates() {
    let (g, _, txns, stats, _) = dirty_2000();
    check_exact_counts(txns, stats, g.config().customers);
    let originals = stats.rows - stats.dirt.get(DirtKind::Duplicate);
    let rates = &g.config().dirt;
    {
        let _guard = PRINT.lock();
        println!(
            "dirt at 2,000 customers ({} rows): {}",
            stats.rows, stats.dirt
        );
    }
    for kind in DirtKind::TRANSACTION_ROW {
        let n = stats.dirt.get(kind);
        assert!(n > 0, "{kind}");
        assert!(
            near(n, rates.get(kind), originals),
            "{kind}: {n} of {originals}"
        );
    }
    // 20% of duplicate copies carry a corrected (flipped) status.
    let flipped = txns
        .windows(2)
        .filter(|w| w[0].id == w[1].id && w[0].status != w[1].status)
        .count() as u64;
    assert!(
        near(flipped, 0.2, stats.dirt.get(DirtKind::Duplicate)),
        "{flipped}"
    );
}

#[test]
fn raised_rates_for_the_rare_kinds() {
    let mut rates = DirtRates::clean();
    for kind in [
        "duplicate",
        "blank_category",
        "bad_amount",
        "unknown_customer",
        "bad_clock",
        "messy_transaction",
        "bad_channel",
        "bad_status",
    ] {
        rates.set(kind, 0.05).unwrap();
    }
    let g = Generator::new(config(150, rates.clone())).unwrap();
    let (txns, stats) = all_txns(&g);
    check_exact_counts(&txns, &stats, 150);
    let originals = stats.rows - stats.dirt.get(DirtKind::Duplicate);
    for kind in DirtKind::TRANSACTION_ROW {
        let n = stats.dirt.get(kind);
        assert!(near(n, 0.05, originals), "{kind}: {n} of {originals}");
    }
    assert_eq!(
        stats.dirt.get(DirtKind::MessyCustomer) + stats.dirt.get(DirtKind::CustomerChange),
        0
    );
}

#[test]
fn clean_means_no_dirt_at_all() {
    let (g, customers, txns) = crate::clean_2000();
    let (_, cstats) = g.customers();
    assert_eq!(cstats.dirt.total(), 0);
    let mut stats = TxnStats::default();
    for chunk in 0..2 {
        stats += g
            .transaction_chunk(chunk, &mut |_| Ok::<(), ()>(()))
            .unwrap();
    }
    assert_eq!(stats.dirt.total(), 0);
    assert!(recount(txns, 2_000).values().all(|&n| n == 0));
    assert_eq!(customers.len(), 2_000);
    for c in customers {
        assert_eq!(c.first.trim(), c.first);
        assert_eq!(c.state, c.state.trim().to_uppercase());
    }
}

#[test]
fn customer_dirt_messy_rows_and_changes() {
    let (g, customers, _, _, cstats) = dirty_2000();
    let n = u64::from(g.config().customers);
    let changes = cstats.dirt.get(DirtKind::CustomerChange);
    assert_eq!(cstats.rows, customers.len() as u64);
    assert_eq!(cstats.rows, n + changes);
    assert!(near(changes, 0.01 * 1.15, n), "{changes}");
    assert!(changes > 0);

    // Messy rows are exactly the rows that differ from a run without messy dirt.
    let mut rates = DirtRates::default();
    rates.set("messy_customer", 0.0).unwrap();
    let tidy = decode_customers(
        &Generator::new(crate::config(2_000, rates))
            .unwrap()
            .customers()
            .0,
    );
    assert_eq!(tidy.len(), customers.len());
    let mut messy = 0;
    for (a, b) in customers.iter().zip(&tidy) {
        assert_eq!(
            (&a.id, a.updated_at, &a.city, &a.card),
            (&b.id, b.updated_at, &b.city, &b.card)
        );
        let fields = [
            (&a.first, &b.first),
            (&a.last, &b.last),
            (&a.email, &b.email),
            (&a.state, &b.state),
        ];
        if fields.iter().any(|(x, y)| x != y) {
            messy += 1;
            assert!(
                fields.iter().all(|(x, y)| x.trim().eq_ignore_ascii_case(y)),
                "{a:?} {b:?}"
            );
        }
    }
    assert_eq!(messy, cstats.dirt.get(DirtKind::MessyCustomer));
    assert!(near(messy, 0.02, cstats.rows), "{messy}");

    // Changed records: later updated_at inside the history, tracked attributes changed,
    // type-1 attributes the same (up to messiness), sorted by (ingested_at, customer_id).
    let start = epoch_day(g.start_date()) * DAY_MICROS;
    let end = (epoch_day(g.config().end_date) + 1) * DAY_MICROS;
    let mut by_id: HashMap<&str, Vec<&crate::Cust>> = HashMap::new();
    for c in customers {
        by_id.entry(&c.id).or_default().push(c);
    }
    let mut kinds = counts(Vec::<&str>::new());
    for records in by_id.values_mut() {
        records.sort_by_key(|c| c.updated_at);
        for w in records.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert!(b.updated_at >= start && b.updated_at < end && b.updated_at > a.updated_at);
            assert!(b.ingested_at > b.updated_at && b.ingested_at <= b.updated_at + DAY_MICROS);
            assert_eq!(
                (a.age, a.open_day, &a.segment),
                (b.age, b.open_day, &b.segment)
            );
            assert!(a.email.trim().eq_ignore_ascii_case(b.email.trim()));
            let changed = [
                ("card", a.card != b.card),
                ("limit", a.limit_cents != b.limit_cents),
                (
                    "move",
                    a.state.trim().to_uppercase() != b.state.trim().to_uppercase(),
                ),
                ("employment", a.employment != b.employment),
            ];
            let what: Vec<&str> = changed.iter().filter(|c| c.1).map(|c| c.0).collect();
            assert_eq!(what.len(), 1, "{a:?} {b:?}");
            *kinds.entry(what[0]).or_default() += 1;
            if what[0] == "card" {
                assert_eq!((a.card.as_str(), b.card.as_str()), ("Standard", "Premium"));
            }
        }
    }
    assert!(kinds.len() >= 3, "{kinds:?}");
    assert!(customers
        .windows(2)
        .all(|w| (w[0].ingested_at, &w[0].id) <= (w[1].ingested_at, &w[1].id)));
}
