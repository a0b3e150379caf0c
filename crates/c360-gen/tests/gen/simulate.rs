//! Simulated days after the history: only those days, ids that never collide.

use std::collections::{HashMap, HashSet};

use c360_gen::{DirtKind, DirtRates, GenConfig, Generator, Simulation, TxnStats, MAX_SIM_DAYS};
use chrono::Days;

use crate::{config, decode_customers, decode_txns, epoch_day, hash_batches, Txn, DAY_MICROS};

fn sim_txns(sim: &Simulation) -> (Vec<Txn>, TxnStats, u64) {
    let mut rows = Vec::new();
    let mut stats = TxnStats::default();
    let mut batches = Vec::new();
    for chunk in 0..sim.num_chunks() {
        stats += sim
            .transaction_chunk(chunk, &mut |b| {
                decode_txns(&b, &mut rows);
                batches.push(b);
                Ok::<(), ()>(())
            })
            .unwrap();
    }
    (rows, stats, hash_batches(&batches))
}

#[test]
fn simulate_three_days_after_the_end() {
    let (g, customers, history, ..) = crate::dirty_2000();
    let end = g.config().end_date;
    let sim = g.simulate(3);
    assert_eq!(sim.new_end_date(), end + Days::new(3));
    assert_eq!(sim.first_date(), end + Days::new(1));
    let (txns, stats, hash) = sim_txns(&sim);
    assert_eq!(stats.rows, txns.len() as u64);
    // About 3 days' worth of the last days' activity, fewer where customers decline or churned.
    assert!(txns.len() > 2_000, "{}", txns.len());
    let end_day = epoch_day(end);
    for t in &txns {
        assert!(t.day() > end_day && t.day() <= end_day + 3, "{t:?}");
        if t.ts < t.ingested {
            assert!(t.ingested >= (t.day() + 1) * DAY_MICROS);
        }
    }
    let history_ids: HashSet<&str> = history.iter().map(|t| t.id.as_str()).collect();
    assert!(txns.iter().all(|t| !history_ids.contains(t.id.as_str())));
    let ids = crate::counts(txns.iter().map(|t| t.id.as_str()));
    assert_eq!(
        ids.values().filter(|&&n| n == 2).count() as u64,
        stats.dirt.get(DirtKind::Duplicate)
    );
    assert!(ids.values().all(|&n| n <= 2));

    // The next window, anchored to the same history, continues without collisions.
    let next = g.try_simulate_after(sim.new_end_date(), 3).unwrap();
    let (txns2, _, _) = sim_txns(&next);
    for t in &txns2 {
        assert!(t.day() > end_day + 3 && t.day() <= end_day + 6);
        assert!(!ids.contains_key(t.id.as_str()) && !history_ids.contains(t.id.as_str()));
    }
    // Same behaviour continued: decliners spend less than stable customers per day.
    let segment: HashMap<&str, &str> = customers
        .iter()
        .map(|c| (c.id.as_str(), c.segment.as_str()))
        .collect();
    let per = |seg: &str| {
        let n = customers.iter().filter(|c| c.segment == seg).count() as f64;
        txns.iter()
            .filter(|t| segment.get(t.customer.as_str()) == Some(&seg))
            .count() as f64
            / n
    };
    assert!(per("Declining") < per("Stable Mid-Spenders"));
    assert!(per("High-Value Travelers") > per("Stable Mid-Spenders"));

    // Reproducible.
    assert_eq!(sim_txns(&g.simulate(3)).2, hash);
}

#[test]
fn simulated_customer_changes() {
    let mut rates = DirtRates::default();
    rates.set("customer_change", 1.0).unwrap();
    let g = Generator::new(config(2_000, rates)).unwrap();
    let history = decode_customers(&g.customers().0);
    let sim = g.simulate(5);
    let (batch, stats) = sim.customers();
    let rows = decode_customers(&batch);
    assert_eq!(stats.rows, rows.len() as u64);
    assert_eq!(stats.dirt.get(DirtKind::CustomerChange), rows.len() as u64);
    // 2,000 customers × 5 days × 1/549 per day ≈ 18.
    assert!((4..=40).contains(&rows.len()), "{}", rows.len());
    let end = epoch_day(g.config().end_date);
    let mut latest: HashMap<&str, &crate::Cust> = HashMap::new();
    for c in &history {
        let e = latest.entry(&c.id).or_insert(c);
        if c.updated_at > e.updated_at {
            *e = c;
        }
    }
    for c in &rows {
        let day = c.updated_at.div_euclid(DAY_MICROS);
        assert!(day > end && day <= end + 5, "{c:?}");
        let before = latest[c.id.as_str()];
        assert_eq!(
            (&before.segment, before.age, before.open_day),
            (&c.segment, c.age, c.open_day)
        );
        assert!(
            before.card != c.card
                || before.limit_cents != c.limit_cents
                || before.state.trim().to_uppercase() != c.state.trim().to_uppercase()
                || before.employment != c.employment
                || rows.iter().filter(|r| r.id == c.id).count() > 1
        );
    }
    assert_eq!(
        stats.customers as usize,
        rows.iter().map(|c| &c.id).collect::<HashSet<_>>().len()
    );
    // Windows are anchored to the history's end: the changes of days 1–5 are those of
    // days 1–2 plus those of days 3–5.
    let a = decode_customers(
        &g.try_simulate_after(g.config().end_date, 2)
            .unwrap()
            .customers()
            .0,
    );
    let b = decode_customers(
        &g.try_simulate_after(g.config().end_date + Days::new(2), 3)
            .unwrap()
            .customers()
            .0,
    );
    let mut split: Vec<_> = a.into_iter().chain(b).collect();
    split.sort_by_key(|c| (c.ingested_at, c.id.clone()));
    assert_eq!(split, rows);
}

#[test]
fn simulation_windows_are_validated() {
    let g = Generator::new(GenConfig {
        customers: 10,
        ..GenConfig::default()
    })
    .unwrap();
    let end = g.config().end_date;
    assert!(g.try_simulate_after(end - Days::new(1), 3).is_err());
    assert!(g.try_simulate_after(end, MAX_SIM_DAYS + 1).is_err());
    assert!(g
        .try_simulate_after(end + Days::new(10), MAX_SIM_DAYS - 10)
        .is_ok());
    let none = g.simulate(0);
    assert_eq!(none.new_end_date(), end);
    assert_eq!(sim_txns(&none).1.rows, 0);
    assert_eq!(none.customers().1.rows, 0);
    // A long simulation keeps ids unique (sequence slots per day) and spend bounded.
    let long = g.try_simulate_after(end + Days::new(2_000), 400).unwrap();
    let (txns, _, _) = sim_txns(&long);
    let ids: HashSet<&str> = txns.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len() + long_duplicates(&txns), txns.len());
    assert!(txns.iter().all(|t| t.id.len() == 16));
}

fn long_duplicates(txns: &[Txn]) -> usize {
    txns.windows(2).filter(|w| w[0].id == w[1].id).count()
}
